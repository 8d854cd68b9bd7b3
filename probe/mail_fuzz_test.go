package probe

import (
	"strings"
	"testing"
)

func TestParseSMTPReply(t *testing.T) {
	tests := []struct {
		in   string
		code int
		text []string
		err  string
	}{
		{"220 mx.example.org ESMTP", 220, []string{"mx.example.org ESMTP"}, ""},
		{"250-mx.example.org\n250-STARTTLS\n250 8BITMIME", 250, []string{"mx.example.org", "STARTTLS", "8BITMIME"}, ""},
		{"250", 250, []string{""}, ""},
		{"250-first\n250", 250, []string{"first", ""}, ""},
		{"250-first", 0, nil, "ended on a continuation line"},
		{"250 first\n250 second", 0, nil, "has a final line"},
		{"250-first\n251 second", 0, nil, "mixed reply codes 250 and 251"},
		{"25", 0, nil, "not an SMTP reply"},
		{"abc hello", 0, nil, "not an SMTP reply"},
		{"199 too low", 0, nil, "not an SMTP reply"},
		{"-50 negative", 0, nil, "not an SMTP reply"},
		{"250_odd", 0, nil, "not an SMTP reply"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			code, text, err := parseSMTPReply(strings.Split(tc.in, "\n"))
			if code != tc.code || strings.Join(text, "|") != strings.Join(tc.text, "|") || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("got %d %q %v; want %d %q %q", code, text, err, tc.code, tc.text, tc.err)
			}
		})
	}
}

func TestParseIMAPGreeting(t *testing.T) {
	for in, want := range map[string]string{
		"* OK [CAPABILITY IMAP4rev1] Dovecot ready.": "OK",
		"* ok hello":          "OK",
		"* PREAUTH welcome":   "PREAUTH",
		"* BYE busy":          "BYE",
		"* NO nope":           "",
		"+ OK pop3":           "",
		"":                    "",
		"* CAPABILITY IMAP4":  "",
		"220 mx ESMTP really": "",
	} {
		status, _, err := parseIMAPGreeting(in)
		if status != want || (err == nil) != (want != "") {
			t.Errorf("parseIMAPGreeting(%q) = %q, %v; want %q", in, status, err, want)
		}
	}
	if caps, ok := imapCapabilities("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN"); !ok || !containsFold(caps, "starttls") {
		t.Errorf("imapCapabilities: %v %v", caps, ok)
	}
}

func FuzzParseSMTPReply(f *testing.F) {
	for _, s := range []string{"220 mx ESMTP", "250-a\n250-STARTTLS\n250 b", "250-a\n251 b", "250-", "\x00\xff", "5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		code, text, err := parseSMTPReply(lines)
		if err != nil {
			if code != 0 || text != nil {
				t.Fatalf("an error with a result: %d %q", code, text)
			}
			return
		}
		if code < 200 || code > 599 || len(text) != len(lines) {
			t.Fatalf("code %d, %d texts for %d lines", code, len(text), len(lines))
		}
		smtpHasExtension(text, "STARTTLS")
		listExtensions(text)
	})
}

func FuzzParseIMAPGreeting(f *testing.F) {
	for _, s := range []string{"* OK ready", "* BYE", "* PREAUTH x", "* CAPABILITY IMAP4rev1 STARTTLS", "", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		status, _, err := parseIMAPGreeting(in)
		if (err == nil) == (status == "") {
			t.Fatalf("status %q with error %v", status, err)
		}
		if caps, ok := imapCapabilities(in); ok && len(caps) > len(in) {
			t.Fatalf("more capabilities than bytes")
		}
	})
}
