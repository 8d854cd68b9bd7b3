package httpserver

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// TestFallbacks: what the route table does not serve is answered 404 (an
// unknown path) or 405 with Allow (a known path, another method), as JSON
// under /api/ and on API paths, as the HTML error page on console paths;
// never with the CSRF refusal of a form that does not exist.
func TestFallbacks(t *testing.T) {
	e := newTestEnv(t)
	admin, _ := e.createToken("admin", tocsin.RoleAdmin)
	tests := []struct {
		method, path string
		token        string // bearer token, for API calls
		status       int
		allow        string // the Allow header of a 405
		json         bool   // JSON error, else the HTML page
	}{
		{"PUT", "/api/v1/users", admin, 405, "GET, HEAD, POST", true},
		{"PUT", "/api/v1/users", "", 405, "GET, HEAD, POST", true},
		{"DELETE", "/api/v1/users/1", admin, 405, "GET, HEAD", true},
		{"PATCH", "/api/v1/users/1/disable", admin, 405, "POST", true},
		{"GET", "/api/v1/tokens/1", admin, 405, "DELETE", true},
		{"POST", "/api/v1/openapi.json", "", 405, "GET, HEAD", true},
		{"POST", "/api/v1/nope", admin, 404, "", true},
		{"GET", "/api/v1/nope", "", 404, "", true},
		{"DELETE", "/api/v2/users/1", admin, 404, "", true},
		{"GET", "/api/v1/users/1/roles", admin, 404, "", true},
		{"POST", "/metrics", admin, 405, "GET, HEAD", true},
		{"POST", "/healthz", "", 405, "GET, HEAD", true},
		{"POST", "/console/nope", "", 404, "", false},
		{"GET", "/console/nope", "", 404, "", false},
		{"DELETE", "/console/users/1/roles/2", "", 404, "", false},
		{"DELETE", "/console/users", "", 405, "GET, HEAD, POST", false},
		{"GET", "/signout", "", 405, "POST", false},
		{"PUT", "/signin", "", 405, "GET, HEAD, POST", false},
		{"POST", "/", "", 405, "GET, HEAD", false},
		{"POST", "/api", "", 404, "", false},
	}
	for _, tt := range tests {
		name := tt.method + " " + tt.path
		if tt.token != "" {
			name += " with a token"
		}
		t.Run(name, func(t *testing.T) {
			before := e.counts()
			req, err := http.NewRequest(tt.method, e.ts.URL+tt.path, strings.NewReader("a=b"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			r := e.do(req)
			if tt.json {
				code := tocsin.ENOTFOUND
				if tt.status == http.StatusMethodNotAllowed {
					code = codeMethodNotAllowed
				}
				apiError(t, r, tt.status, code)
			} else {
				if r.Status != tt.status {
					t.Errorf("status %d, want %d: %s", r.Status, tt.status, r.Text)
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("Content-Type %q, want the HTML error page", ct)
				}
			}
			if got := r.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if after := e.counts(); after != before {
				t.Errorf("something was written: before %+v, after %+v", before, after)
			}
		})
	}

	t.Run("a signed-in browser's 404 page is in its language, also for POST", func(t *testing.T) {
		u := e.createUser("reader@example.org", tocsin.RoleViewer)
		b := e.signedIn(u, "127.0.0.1")
		b.Header.Set("Accept-Language", "fr")
		for _, post := range []bool{false, true} {
			var r *response
			if post {
				r = b.postRaw("/console/nope", "a=b") // no CSRF token: no form exists
			} else {
				r = b.get("/console/nope")
			}
			if r.Status != http.StatusNotFound || !strings.Contains(r.Text, "rien ici") {
				t.Errorf("post=%v: %d, want 404 with the French message: %s", post, r.Status, r.Text)
			}
		}
	})
}

// TestFallbackAllowFromRouteTable: for every route of the table, the
// methods its path does not serve answer 405, and the Allow header lists
// the route's method.
func TestFallbackAllowFromRouteTable(t *testing.T) {
	e := newTestEnv(t)
	served := map[string][]string{} // path pattern → methods
	for _, rt := range e.srv.routeTable() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		served[path] = append(served[path], method)
	}
	f := &walkFixture{e: e, victim: &testUser{ID: 1}, victimSess: "x", victimTok: 1}
	for path, methods := range served {
		target := f.path(t, "GET "+path)
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(methods, m) {
				continue
			}
			t.Run(m+" "+path, func(t *testing.T) {
				req, err := http.NewRequest(m, e.ts.URL+target, nil)
				if err != nil {
					t.Fatal(err)
				}
				r := e.do(req)
				if r.Status != http.StatusMethodNotAllowed {
					t.Errorf("status %d, want 405", r.Status)
				}
				allow := strings.Split(r.Header.Get("Allow"), ", ")
				for _, want := range methods {
					if !slices.Contains(allow, want) {
						t.Errorf("Allow %q lacks %s", r.Header.Get("Allow"), want)
					}
				}
			})
		}
	}
}
