package httpserver

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestRolesFromMatchesTheConsole: the API's role lists and the console's
// role checkboxes are read the same way.
func TestRolesFromMatchesTheConsole(t *testing.T) {
	for _, list := range [][]string{
		{"viewer"},
		{"viewer", "admin"},
		{"admin", "viewer", "admin"},
		{"admin,viewer"},
		{" responder "},
		{},
		{"viewer", ""},
		{"root"},
		{"Viewer"},
	} {
		t.Run(strings.Join(list, "|"), func(t *testing.T) {
			api, apiErr := rolesFrom(list)
			r := httptest.NewRequest("POST", "/console/users", strings.NewReader(url.Values{"roles": list}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			console, consoleErr := formRoles(r)
			if !reflect.DeepEqual(api, console) || (apiErr == nil) != (consoleErr == nil) {
				t.Errorf("API: %v %v; console: %v %v", api, apiErr, console, consoleErr)
			}
		})
	}
}
