package httpserver

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

// syncBuffer is a log destination shared by the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// withLogger serves e from a Server like e.srv that logs to the returned
// buffer.
func withLogger(t *testing.T, e *testEnv) *syncBuffer {
	t.Helper()
	logs := &syncBuffer{}
	srv, err := New(Options{
		Config: e.cfg, Store: e.store, Hasher: e.hasher, Box: e.box, Now: e.clock.Now,
		Version: "test", Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	return logs
}

// TestConsoleRedirectsAreNotLogged: sending a browser to its second factor
// or to the page where it chooses its own password is the console working,
// not an internal error: no ERROR record.
func TestConsoleRedirectsAreNotLogged(t *testing.T) {
	e := newTestEnv(t)
	logs := withLogger(t, e)

	mustChange := func(email string) *testUser {
		u, err := auth.NewUser(e.ctx, e.hasher, email, "", tocsin.Roles{tocsin.RoleViewer}, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		u.MustChangePassword = true
		if err := e.store.CreateUser(e.ctx, tocsin.CLI, u); err != nil {
			t.Fatal(err)
		}
		return &testUser{ID: u.ID, Email: u.Email, Password: testPassword, Roles: u.Roles}
	}
	tests := []struct {
		name     string
		user     *testUser
		location string
	}{
		{"second factor pending", e.createUser("admin@example.org", tocsin.RoleAdmin), "/signin/2fa"},
		{"password to change", mustChange("temporary@example.org"), "/signin/password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser("127.0.0.1")
			b.signInPassword(tt.user)
			seen := len(logs.String())
			for _, path := range []string{"/console", "/console/account"} {
				r := b.get(path)
				if r.Status != http.StatusSeeOther || r.location() != tt.location {
					t.Fatalf("GET %s: %d %q, want 303 to %s", path, r.Status, r.location(), tt.location)
				}
			}
			for line := range strings.Lines(logs.String()[seen:]) {
				if strings.Contains(line, "level=ERROR") {
					t.Errorf("logged as an error: %s", line)
				}
			}
		})
	}

	// The capture works: an internal error is logged.
	t.Run("internal errors are still logged", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req, _ = withState(req)
		e.srv.writeError(httptest.NewRecorder(), req, errDatabaseGone)
		if !strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("no ERROR record for an internal error:\n%s", logs.String())
		}
	})
}

// errDatabaseGone is an internal error, which is logged.
var errDatabaseGone = tocsin.Errorf(tocsin.EINTERNAL, "database gone")
