package public

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

func TestChecksSucceeded(t *testing.T) {
	for _, tc := range []struct {
		runs, failures int
		want           string
		ok             bool
	}{
		{10000, 7, "99.93", true},
		{100000, 1, "99.99", true}, // rounded down: never 100.00 with a failure
		{60, 0, "100.00", true},
		{3, 3, "0.00", true},
		{5, 9, "0.00", true},
		{0, 0, "", false},
	} {
		got, ok := Day{Checks: tc.runs, CheckFailures: tc.failures}.ChecksSucceeded()
		if got != tc.want || ok != tc.ok {
			t.Errorf("%d runs, %d failures: %q %v, want %q %v", tc.runs, tc.failures, got, ok, tc.want, tc.ok)
		}
	}
}

// The bars show, beside the status history, the share of the service's
// check runs that succeeded each day, in both languages.
func TestBarsShowChecksSucceeded(t *testing.T) {
	s := snapshot()
	day := midnight(s.Now, s.Location).AddDate(0, 0, -2)
	s.CheckDays = []tocsin.CheckDay{
		{ServiceID: 1, Day: day, Runs: 10000, Failures: 7},
		{ServiceID: 1, Day: day.AddDate(0, 0, 1), Runs: 1440},
	}
	site, err := NewBuilder().Build(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/en/", "99.93 % of checks succeeded"},
		{"/fr/", "99.93 % des vérifications ont réussi"},
		{"/en/", "100.00 % of checks succeeded"},
	} {
		r, ok := site.Lookup(tc.path, "", "fr")
		if !ok {
			t.Fatalf("no %s", tc.path)
		}
		if !bytes.Contains(r.Body, []byte(tc.want)) {
			t.Errorf("%s lacks %q", tc.path, tc.want)
		}
		if n := bytes.Count(r.Body, []byte("succeeded")) + bytes.Count(r.Body, []byte("ont réussi")); n != 2 {
			t.Errorf("%s names the checks' share %d times, want twice (service 1's two days)", tc.path, n)
		}
	}
	// The list of days with incidents says it too.
	lists := dayLists([]Day{{Date: day, Checks: 10000, CheckFailures: 7, Incidents: []dayIncident{{ID: 4, Title: "Slow timelines"}}}})
	for lang, want := range map[string]string{"en": "99.93 % of checks succeeded", "fr": "99.93 % des vérifications ont réussi"} {
		if !strings.Contains(string(lists[lang]), want) {
			t.Errorf("%s list lacks %q: %s", lang, want, lists[lang])
		}
	}
}
