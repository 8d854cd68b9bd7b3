package httpserver

import (
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// FuzzParseTimeline feeds arbitrary text to the console's timeline parser:
// it never panics, refuses with EINVALID only, and what it accepts survives
// formatting and parsing again: the form shown after a save, sent back
// unchanged, is the same timeline.
func FuzzParseTimeline(f *testing.F) {
	for _, seed := range []string{
		"2026-11-20 14:05 Alert on disk space\n2026-11-20 14:16 Fixed",
		"2026-11-20T14:05 a\r\n\n  2026-11-20 14:05:07  b  c ",
		"2026-03-29 02:30 in the spring gap",
		"2026-10-25 02:30 twice in autumn",
		"2026-11-20 14:05:0 x",
		"2026-11-20 14:05",
		"yesterday noon",
		"2026-13-40 25:61 x",
		"",
	} {
		f.Add(seed)
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		entries, err := parseTimeline(text, loc)
		if err != nil {
			if tocsin.ErrorCode(err) != tocsin.EINVALID || tocsin.ErrorMessage(err) == "" {
				t.Fatalf("refused with %v, want EINVALID with a message", err)
			}
			return
		}
		shown := formatTimeline(entries, loc)
		again, err := parseTimeline(shown, loc)
		if err != nil {
			t.Fatalf("%q parsed, shown as %q, refused: %v", text, shown, err)
		}
		if len(again) != len(entries) {
			t.Fatalf("%q: %d entries, %d after a round trip through %q", text, len(entries), len(again), shown)
		}
		for i := range again {
			if !again[i].At.Equal(entries[i].At) {
				t.Fatalf("%q: entry %d at %v, %v after a round trip through %q", text, i, entries[i].At, again[i].At, shown)
			}
		}
		if formatTimeline(again, loc) != shown {
			t.Fatalf("%q shown as %q, then as %q", text, shown, formatTimeline(again, loc))
		}
	})
}

func TestParseTimeline(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	got, err := parseTimeline("2026-11-20 14:05 Alert  on disk\n\n2026-11-20T14:16:30 Fixed\n", loc)
	if err != nil || len(got) != 2 || got[0].Text != "Alert  on disk" || !got[1].At.Equal(time.Date(2026, 11, 20, 13, 16, 30, 0, time.UTC)) {
		t.Fatalf("parseTimeline = %+v, %v", got, err)
	}
	if s := formatTimeline(got, loc); s != "2026-11-20 14:05 Alert on disk\n2026-11-20 14:16:30 Fixed\n" {
		t.Errorf("formatTimeline = %q", s)
	}
	for _, bad := range []string{"14:05 no date", "2026-11-20 Fixed", "2026-11-20 14:05:07x"} {
		if _, err := parseTimeline("2026-11-20 14:00 ok\n"+bad, loc); tocsin.ErrorCode(err) != tocsin.EINVALID || !containsArg(err, 2) {
			t.Errorf("parseTimeline(%q) = %v, want EINVALID naming line 2", bad, err)
		}
	}
}

func containsArg(err error, line int) bool {
	e, ok := err.(*tocsin.Error)
	return ok && len(e.Args) == 1 && e.Args[0] == line
}
