package httpserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// TestControlCharactersRefused: NUL and the other C0 control characters
// (but tab, line feed and carriage return) are valid UTF-8 that PostgreSQL
// refuses to store (NUL) or that no field of tocsin's means. They are
// refused with 400 on both databases, before anything is looked up or
// written, in console forms and in API bodies, raw or as \u escapes.
func TestControlCharactersRefused(t *testing.T) {
	e := newTestEnv(t)
	admin, _ := e.createToken("admin", tocsin.RoleAdmin)
	e.createUser("known@example.org", tocsin.RoleViewer)

	t.Run("sign-in form", func(t *testing.T) {
		tests := []struct {
			name, email, password string
			refused               bool
		}{
			{"NUL in the e-mail", "known\x00@example.org", testPassword, true},
			{"NUL in the password", "known@example.org", testPassword + "\x00", true},
			{"SOH in the e-mail", "\x01known@example.org", testPassword, true},
			{"unit separator in the password", "known@example.org", "a\x1fb", true},
			{"escape in the e-mail", "known@example.org\x1b", testPassword, true},
			{"tab in the password", "known@example.org", "wrong\tpassword", false},
			{"line feed and carriage return in the password", "known@example.org", "wrong\r\npassword", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b := e.browser("127.0.0.1")
				before := e.counts()
				r := b.post("/signin", url.Values{"email": {tt.email}, "password": {tt.password}})
				after := e.counts()
				if !tt.refused {
					// Read and checked like any wrong password.
					if r.Status != http.StatusUnauthorized {
						t.Errorf("status %d, want 401 (a wrong password): %s", r.Status, r.Text)
					}
					return
				}
				if r.Status != http.StatusBadRequest {
					t.Errorf("status %d, want 400: %s", r.Status, r.Text)
				}
				if !strings.Contains(r.Text, "control character") {
					t.Errorf("the page does not say what is wrong: %s", r.Text)
				}
				if after != before {
					t.Errorf("something was written: before %+v, after %+v", before, after)
				}
			})
		}
	})

	t.Run("API body", func(t *testing.T) {
		user := func(name, email string) string {
			return `{"email":"` + email + `","name":"` + name + `","roles":["viewer"],"password":"` + testPassword + `"}`
		}
		tests := []struct {
			name   string
			body   string
			status int
		}{
			{"escaped NUL in a string", user(`A\u0000B`, "nul@example.org"), 400},
			{"escaped NUL in an array element", `{"email":"arr@example.org","roles":["viewer\u0000"],"password":"` + testPassword + `"}`, 400},
			{"escaped unit separator", user(`A\u001fB`, "us@example.org"), 400},
			{"escaped NUL in the e-mail", user("A", `nul\u0000@example.org`), 400},
			{"raw NUL in a string", user("A\x00B", "raw@example.org"), 400},
			{"raw NUL between tokens", "{\x00" + user("A", "between@example.org")[1:], 400},
			{"escaped backslash before u0000 is text", user(`A\\u0000B`, "backslash@example.org"), 201},
			{"escaped tab, line feed and carriage return", user(`A\tB\nC\rD`, "ws@example.org"), 201},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.counts()
				r := e.call(http.MethodPost, "/api/v1/users", admin, tt.body)
				if tt.status != http.StatusBadRequest {
					if r.Status != tt.status {
						t.Errorf("status %d, want %d: %s", r.Status, tt.status, r.Body)
					}
					return
				}
				apiError(t, r, http.StatusBadRequest, tocsin.EINVALID)
				if !strings.Contains(r.Body, "control character") {
					t.Errorf("the message does not say what is wrong: %s", r.Body)
				}
				if after := e.counts(); after != before {
					t.Errorf("something was written: before %+v, after %+v", before, after)
				}
			})
		}
	})
}

// TestDecodeJSONControlCharacters names the field holding a control
// character, through nested values.
func TestDecodeJSONControlCharacters(t *testing.T) {
	tests := []struct {
		body  string
		field string // "" when accepted
	}{
		{`{"name":"ci\u0000","roles":["viewer"]}`, `"name"`},
		{`{"name":"ci","roles":["viewer","\u0007"]}`, `"roles[1]"`},
		{`{"name":"ci\u007f","roles":["viewer"]}`, ""}, // DEL is not a C0 control
		{`{"name":"ci\u0085","roles":["viewer"]}`, ""},
		{`{"name":"c\ti","roles":["viewer"]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var v createTokenRequest
			err := decodeJSONBytes([]byte(tt.body), &v)
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.field != "" && err == nil:
				t.Errorf("accepted: %+v", v)
			case tt.field != "" && !strings.Contains(tocsin.ErrorMessage(err), tt.field):
				t.Errorf("message %q does not name %s", tocsin.ErrorMessage(err), tt.field)
			}
		})
	}
}
