package tocsin

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSignalValidate feeds arbitrary reports to the intake's one
// validation (form, API and e-mail all pass through it): it refuses with
// EINVALID only, and what it accepts is text within the limits, without
// control characters, on a one-line subject and contact, and stays the
// same when validated again.
func FuzzSignalValidate(f *testing.F) {
	f.Add("Bucket listable", "https://media.example.org/ lists its files", "finder@example.net")
	f.Add("  two\tspaces \n subject ", "body\r\nwith lines", "")
	f.Add("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><script>")
	f.Add("a\x00b", "\x1b[31m", "c\r\nBcc: x@example.org")
	f.Add("\xff\xfe", "b", "")
	f.Add(strings.Repeat("s", MaxSignalSubject+1), "b", "")
	f.Fuzz(func(t *testing.T, subject, body, contact string) {
		s := &Signal{Source: SourceForm, Subject: subject, Body: body, Contact: contact}
		if err := s.Validate(); err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		for _, v := range []string{s.Subject, s.Body, s.Contact} {
			if !utf8.ValidString(v) || strings.IndexFunc(v, isControlChar) >= 0 {
				t.Fatalf("accepted %q", v)
			}
		}
		if s.Subject == "" || strings.ContainsAny(s.Subject+s.Contact, "\r\n") ||
			utf8.RuneCountInString(s.Subject) > MaxSignalSubject || len(s.Body) > MaxSignalBody {
			t.Fatalf("accepted subject %q contact %q body of %d bytes", s.Subject, s.Contact, len(s.Body))
		}
		again := *s
		if err := again.Validate(); err != nil || again.Subject != s.Subject || again.Contact != s.Contact {
			t.Fatalf("validating again: %v, %q %q", err, again.Subject, again.Contact)
		}
	})
}
