package httpserver

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// metricValue returns the value of the sample whose name and labels are
// exactly series, or -1 when it is absent.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

func TestMetrics(t *testing.T) {
	e := newTestEnv(t)
	token, _ := e.createToken("prometheus", tocsin.RoleViewer)
	u := e.createUser("owner@example.org", tocsin.RoleResponder)

	if r := e.call("GET", "/metrics", "", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("metrics without a token: %d, want 401", r.Status)
	}
	for range 3 {
		e.call("GET", "/readyz", "", "")
	}
	e.call("GET", "/no/such/page", "", "")
	// One failed sign-in: counted, and its alert waits in the outbox (no
	// worker runs in this test).
	b := e.browser("127.0.0.7")
	b.get("/signin")
	b.post("/signin", url.Values{"email": {u.Email}, "password": {"not the password at all"}})

	r := e.call("GET", "/metrics", token, "")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics = %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	tests := []struct {
		series string
		want   float64
	}{
		{`tocsin_http_requests_total{route="GET /readyz",code="200"}`, 3},
		{`tocsin_http_requests_total{route="/",code="404"}`, 1},
		{`tocsin_http_requests_total{route="POST /signin",code="401"}`, 1},
		{`tocsin_http_request_duration_seconds_count{route="GET /readyz"}`, 3},
		{`tocsin_http_request_duration_seconds_bucket{route="GET /readyz",le="+Inf"}`, 3},
		{`tocsin_signin_failures_total`, 1},
		{`tocsin_outbox_pending`, 1},
		{`tocsin_outbox_dead`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.series, func(t *testing.T) {
			if got := metricValue(t, r.Body, tt.series); got != tt.want {
				t.Errorf("%s = %v, want %v\n%s", tt.series, got, tt.want, r.Body)
			}
		})
	}
	// Buckets are cumulative: each is at least the one before.
	re := regexp.MustCompile(`(?m)^tocsin_http_request_duration_seconds_bucket\{route="GET /readyz",le="[^"]+"\} (\d+)$`)
	prev := -1
	for _, m := range re.FindAllStringSubmatch(r.Body, -1) {
		n, _ := strconv.Atoi(m[1])
		if n < prev {
			t.Errorf("bucket counts decrease: %v", re.FindAllString(r.Body, -1))
		}
		prev = n
	}
}
