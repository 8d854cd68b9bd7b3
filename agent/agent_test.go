package agent

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// hubPeer is an HTTP server on 127.0.0.1 answering the agent API's
// results route with the status the test sets, recording every batch.
type hubPeer struct {
	mu      sync.Mutex
	status  int  // answer to the next batches
	dropAll bool // read the batch, then cut the connection (a lost answer)
	maxLen  int  // batches longer than this get 413
	batches [][]string
	keys    map[string]int // 1 for each key stored
	ua      string
	auth    string
}

func (h *hubPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ua, h.auth = r.UserAgent(), r.Header.Get("Authorization")
	if r.URL.Path == "/api/v1/agent/checks" {
		json.NewEncoder(w).Encode(tocsin.AgentChecks{Location: "paris", Checks: []tocsin.AgentCheck{}})
		return
	}
	var q tocsin.AgentResults
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var ks []string
	for _, res := range q.Results {
		ks = append(ks, res.Key)
	}
	h.batches = append(h.batches, ks)
	if h.maxLen > 0 && len(ks) > h.maxLen {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.Write([]byte(`{"error":{"code":"too_large","message":"too many"}}`))
		return
	}
	if h.dropAll {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	if h.status/100 != 2 {
		w.WriteHeader(h.status)
		w.Write([]byte(`{"error":{"code":"x","message":"refused by the test"}}`))
		return
	}
	var rc tocsin.AgentReceipt
	for _, k := range ks {
		if h.keys[k] > 0 {
			rc.Skipped++
		} else {
			rc.Stored++
			h.keys[k] = 1
		}
	}
	json.NewEncoder(w).Encode(rc)
}

func (h *hubPeer) set(f func(h *hubPeer)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

func newPeer(t *testing.T) (*hubPeer, *httptest.Server) {
	h := &hubPeer{status: 200, keys: map[string]int{}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func newTestAgent(t *testing.T, url string) (*Agent, *Spool) {
	t.Helper()
	hub, err := NewHub(url, "tocsin_test", HubOptions{InsecureHTTP: true, UserAgent: "tocsin-agent/test (location paris)"})
	if err != nil {
		t.Fatal(err)
	}
	spool, err := OpenSpool(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	a := New(hub, spool, Options{})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, spool
}

func record(t *testing.T, a *Agent, n int) {
	t.Helper()
	for range n {
		r := &tocsin.CheckResult{CheckID: 3, StartedAt: time.Now(), OK: true}
		if err := a.RecordCheckResults(context.Background(), []*tocsin.CheckResult{r}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFlushDeletesOnlyAfter2xx: a file leaves the spool only when the hub
// answered 2xx; a lost answer means a resend, which the keys make harmless.
func TestFlushDeletesOnlyAfter2xx(t *testing.T) {
	peer, srv := newPeer(t)
	a, spool := newTestAgent(t, srv.URL)
	ctx := context.Background()
	record(t, a, 3)
	pending := func() int {
		n, err := spool.Pending()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	peer.set(func(h *hubPeer) { h.status = 503 })
	var he *HubError
	if err := a.Flush(ctx); !errors.As(err, &he) || he.Status != 503 || pending() != 1 {
		t.Fatalf("hub answering 503: %v, %d files pending; want the error and the file kept", err, pending())
	}
	peer.set(func(h *hubPeer) { h.status, h.dropAll = 200, true })
	var ue *UnreachableError
	if err := a.Flush(ctx); !errors.As(err, &ue) || pending() != 1 || !strings.Contains(err.Error(), "hub unreachable") {
		t.Fatalf("answer lost: %v, %d files pending; want unreachable and the file kept", err, pending())
	}
	// The lost answer's batch was stored by the hub: the resend is skipped.
	peer.set(func(h *hubPeer) {
		for _, k := range h.batches[len(h.batches)-1] {
			h.keys[k] = 1 // what the hub stored before its answer was lost
		}
		h.dropAll = false
	})
	if err := a.Flush(ctx); err != nil || pending() != 0 {
		t.Fatalf("hub back: %v, %d files pending", err, pending())
	}
	if a.Stored.Load() != 0 || a.Skipped.Load() != 3 {
		t.Errorf("receipts: %d stored, %d skipped; want the 3 of the lost answer skipped", a.Stored.Load(), a.Skipped.Load())
	}
	peer.set(func(h *hubPeer) {
		for k, n := range h.keys {
			if n != 1 || !strings.HasPrefix(k, "paris/3/") {
				t.Errorf("key %s counted %d times", k, n)
			}
		}
		if h.auth != "Bearer tocsin_test" || !strings.Contains(h.ua, "tocsin") {
			t.Errorf("request said Authorization %q, User-Agent %q", h.auth, h.ua)
		}
	})
}

func TestFlushSplitsAndSetsAsideRefusedBatches(t *testing.T) {
	peer, srv := newPeer(t)
	a, spool := newTestAgent(t, srv.URL)
	ctx := context.Background()
	peer.set(func(h *hubPeer) { h.maxLen = 2 })
	record(t, a, 5)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Stored.Load() != 5 {
		t.Errorf("%d stored after 413s, want 5 in smaller batches", a.Stored.Load())
	}
	peer.set(func(h *hubPeer) { h.status = 400 })
	record(t, a, 2)
	if err := a.Flush(ctx); err != nil {
		t.Fatalf("a refused file should be set aside, not block: %v", err)
	}
	rejected, _ := filepath.Glob(filepath.Join(spool.Dir(), "rejected", "*.jsonl"))
	if n, _ := spool.Pending(); n != 0 || len(rejected) != 1 {
		t.Errorf("%d pending, %d rejected; want the refused file in rejected/", n, len(rejected))
	}
}

func TestNewHub(t *testing.T) {
	tests := []struct {
		url, token string
		insecure   bool
		want       string // "" for success
	}{
		{"https://status.example.org", "t", false, ""},
		{"http://status.example.org", "t", false, "in clear"},
		{"http://status.example.org", "t", true, "only to a loopback address"},
		{"http://127.0.0.2:8080", "t", false, "in clear"},
		{"http://127.0.0.2:8080", "t", true, ""},
		{"http://[::1]:8080", "t", true, ""},
		{"ftp://status.example.org", "t", false, "give the hub's URL"},
		{"status.example.org", "t", false, "give the hub's URL"},
		{"https://user:pw@status.example.org", "t", false, "give the hub's URL"},
		{"https://status.example.org", "", false, "TOCSIN_AGENT_TOKEN"},
		{"https://status.example.org", "a b", false, "spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.url+" "+tt.token, func(t *testing.T) {
			_, err := NewHub(tt.url, tt.token, HubOptions{InsecureHTTP: tt.insecure})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("NewHub = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestHubTLS: the hub's certificate is verified, against --ca-file when
// given; a token refused says which role is needed.
func TestHubTLS(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != 200 {
			w.WriteHeader(status)
			w.Write([]byte(`{"error":{"code":"forbidden","message":"This token's roles (viewer) do not include agent."}}`))
			return
		}
		w.Write([]byte(`{"location":"paris","checks":[]}`))
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	hub, err := NewHub(srv.URL, "tok", HubOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ue *UnreachableError
	if _, err := hub.Checks(ctx); !errors.As(err, &ue) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a hub whose CA is unknown: %v, want a certificate error", err)
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	hub, err = NewHub(srv.URL, "tok", HubOptions{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	got, err := hub.Checks(ctx)
	if err != nil || got.Location != "paris" {
		t.Fatalf("with --ca-file: %+v, %v", got, err)
	}
	status = http.StatusForbidden
	_, err = hub.Checks(ctx)
	var he *HubError
	if !errors.As(err, &he) || !he.Refused() || !strings.Contains(err.Error(), "role agent") {
		t.Errorf("403: %v, want the token refused, naming the role", err)
	}

	if _, err := NewHub(srv.URL, "tok", HubOptions{CAFile: filepath.Join(t.TempDir(), "none.pem")}); err == nil {
		t.Error("a missing --ca-file should be refused")
	}
	if _, err := NewHub(srv.URL, "tok", HubOptions{CAFile: ca + "x"}); err == nil {
		t.Error("a missing --ca-file should be refused")
	}
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	if _, err := NewHub(srv.URL, "tok", HubOptions{CAFile: notPEM}); err == nil || !strings.Contains(err.Error(), "no PEM") {
		t.Errorf("a --ca-file without PEM: %v", err)
	}
}

// TestStartFromCacheWhileHubDown: an agent restarted while the hub is
// down runs the list of its last run; with no list, it starts empty and
// waits for the hub; a refused token stops it.
func TestStartFromCacheWhileHubDown(t *testing.T) {
	list := `{"location":"paris","checks":[{"id":4,"name":"web","kind":"http","spec":{"url":"http://127.0.0.1:9/"},"interval":"30s","timeout":"5s"}]}`
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		if status == 200 {
			w.Write([]byte(list))
		}
	}))
	dir := t.TempDir()
	start := func(t *testing.T, spoolDir string) (*Agent, error) {
		t.Helper()
		hub, err := NewHub(srv.URL, "tok", HubOptions{InsecureHTTP: true})
		if err != nil {
			t.Fatal(err)
		}
		spool, err := OpenSpool(spoolDir, 0)
		if err != nil {
			t.Fatal(err)
		}
		a := New(hub, spool, Options{})
		return a, a.Start(context.Background())
	}
	if _, err := start(t, dir); err != nil {
		t.Fatal(err)
	}
	status = http.StatusForbidden
	if _, err := start(t, dir); err == nil || !strings.Contains(err.Error(), "role agent") {
		t.Errorf("a refused token: %v, want an error naming the role", err)
	}
	srv.Close()
	a, err := start(t, dir)
	if err != nil {
		t.Fatalf("hub down, list cached: %v", err)
	}
	got, _ := a.Checks(context.Background())
	if len(got) != 1 || got[0].ID != 4 || got[0].Interval != 30*time.Second || a.Location() != "paris" {
		t.Errorf("cached list: %+v, location %q", got, a.Location())
	}
	a, err = start(t, t.TempDir())
	if err != nil {
		t.Fatalf("hub down, nothing cached: %v", err)
	}
	if got, _ := a.Checks(context.Background()); len(got) != 0 || a.Location() != "" {
		t.Errorf("nothing cached: %d checks, location %q", len(got), a.Location())
	}
	if err := a.RecordCheckResults(context.Background(), []*tocsin.CheckResult{{CheckID: 4, StartedAt: time.Now()}}); err == nil {
		t.Error("a result before the hub named the location should be refused")
	}
}
