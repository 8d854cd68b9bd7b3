package intake

import (
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// crlf turns a readable message into one with the line ends of the wire.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name        string
		raw         []byte
		subject     string
		contact     string
		messageID   string // "" to expect a digest
		bodyHas     []string
		bodyLacks   []string
		attachments []tocsin.Attachment
	}{
		{
			name: "plain text, quoted-printable, Latin-1, encoded subject",
			raw: crlf(`From: =?utf-8?q?Ren=C3=A9e?= <renee@example.net>
To: security@example.org
Subject: =?iso-8859-1?q?Cl=E9_priv=E9e_publi=E9e?=
Message-ID: <abc@example.net>
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

La cl=E9 TLS est dans le d=E9p=F4t public.=20
Ligne tr=E8s longue qui continue=
 ici.
`),
			subject: "Clé privée publiée", contact: "renee@example.net", messageID: "<abc@example.net>",
			bodyHas: []string{"La clé TLS est dans le dépôt public.", "Ligne très longue qui continue ici."},
		},
		{
			name: "multipart/alternative prefers the text part; base64",
			raw: crlf(`From: finder@example.net
Subject: Open bucket
Message-ID: <alt@example.net>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

TGUgYnVja2V0IGxpc3RlIHNlcyBmaWNoaWVycy4=
--b1
Content-Type: text/html; charset=utf-8

<p>HTML version <b>bold</b></p>
--b1--
`),
			subject: "Open bucket", contact: "finder@example.net", messageID: "<alt@example.net>",
			bodyHas: []string{"Le bucket liste ses fichiers."}, bodyLacks: []string{"HTML version"},
		},
		{
			name: "HTML only: text kept, script and markup dropped",
			raw: crlf(`From: Someone <someone@example.net>
Reply-To: reply@example.net
Subject: <script>alert(1)</script>
Content-Type: text/html; charset=utf-8

<html><head><title>T</title><style>p{}</style></head><body><p>First &amp; foremost</p><script>alert("x")</script><div>Second</div></body></html>
`),
			subject: "<script>alert(1)</script>", contact: "reply@example.net",
			bodyHas: []string{"First & foremost", "Second"}, bodyLacks: []string{"alert(\"x\")", "<p>", "p{}"},
		},
		{
			name: "attachments noted, not kept",
			raw: crlf(`From: finder@example.net
Subject: Evidence
Message-ID: <att@example.net>
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain

See attached.
--m
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--m
Content-Type: text/plain; name="listing.txt"
Content-Disposition: attachment; filename="=?utf-8?q?liste_=C3=A9t=C3=A9.txt?="

a
b
--m--
`),
			subject: "Evidence", contact: "finder@example.net", messageID: "<att@example.net>",
			bodyHas: []string{"See attached."}, bodyLacks: []string{"JVBER", "%PDF"},
			attachments: []tocsin.Attachment{{Name: "report.pdf", Type: "application/pdf", Size: 9}, {Name: "liste été.txt", Type: "text/plain", Size: 4}},
		},
		{
			name:    "no subject, no Message-ID, no body",
			raw:     crlf("From: x@example.net\n\n"),
			subject: "(no subject)", contact: "x@example.net",
			bodyHas: []string{"(this message has no text)"},
		},
		{
			name:    "unknown charset: raw bytes kept as valid text",
			raw:     crlf("From: x@example.net\nSubject: s\nContent-Type: text/plain; charset=x-martian\n\nbonjour \xff\xfe\n"),
			subject: "s", contact: "x@example.net",
			bodyHas: []string{"bonjour \uFFFD", "unknown encoding or character set"},
		},
		{
			name:    "broken multipart: what was read is kept",
			raw:     crlf("From: x@example.net\nSubject: s\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nfirst part\n--zz\nContent-Type: text/plain\n\nsecond part never ends"),
			subject: "s", contact: "x@example.net",
			bodyHas: []string{"first part"},
		},
		{
			name:    "not e-mail at all",
			raw:     []byte("\x00\x01garbage without a header\n"),
			subject: "(no subject)",
			bodyHas: []string{"garbage without a header"},
		},
		{
			name:    "control characters and a long subject",
			raw:     crlf("From: bad\x01name <b@example.net>\nSubject: " + strings.Repeat("long ", 100) + "\n\nbell\x07 here\n"),
			subject: strings.Repeat("long ", 40)[:199] + "…", contact: "b@example.net",
			bodyHas: []string{"bell here"},
		},
		{
			name:    "huge body is cut, saying so",
			raw:     crlf("From: x@example.net\nSubject: big\n\n" + strings.Repeat("0123456789abcdé\n", 8000)),
			subject: "big", contact: "x@example.net",
			bodyHas: []string{"(cut here: the message is longer than 64 KiB"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ParseMessage(tc.raw)
			if err := s.Validate(); err != nil {
				t.Fatalf("the signal is not one the store accepts: %v", err)
			}
			if s.Source != tocsin.SourceEmail || s.Subject != tc.subject || s.Contact != tc.contact {
				t.Errorf("source %q subject %q contact %q, want email %q %q", s.Source, s.Subject, s.Contact, tc.subject, tc.contact)
			}
			if tc.messageID != "" && s.MessageID != tc.messageID {
				t.Errorf("MessageID %q, want %q", s.MessageID, tc.messageID)
			}
			if tc.messageID == "" && (!strings.HasPrefix(s.MessageID, "sha256:") || s.MessageID != ParseMessage(tc.raw).MessageID) {
				t.Errorf("MessageID %q, want a stable digest", s.MessageID)
			}
			for _, w := range tc.bodyHas {
				if !strings.Contains(s.Body, w) {
					t.Errorf("body lacks %q:\n%.600s", w, s.Body)
				}
			}
			for _, w := range tc.bodyLacks {
				if strings.Contains(s.Body, w) {
					t.Errorf("body holds %q:\n%.600s", w, s.Body)
				}
			}
			if len(s.Attachments) != len(tc.attachments) {
				t.Fatalf("attachments %+v, want %+v", s.Attachments, tc.attachments)
			}
			for i := range tc.attachments {
				if s.Attachments[i] != tc.attachments[i] {
					t.Errorf("attachment %d = %+v, want %+v", i, s.Attachments[i], tc.attachments[i])
				}
			}
		})
	}
}

// FuzzParseMessage checks that any input makes a signal the store accepts:
// the parser never fails, panics or lets through what Validate refuses.
func FuzzParseMessage(f *testing.F) {
	f.Add(crlf("From: a@example.net\nSubject: s\n\nbody\n"))
	f.Add(crlf("Subject: =?utf-8?b?w6k=?=\nContent-Type: multipart/alternative; boundary=x\n\n--x\nContent-Type: text/html\n\n<p>a</p>\n--x--\n"))
	f.Add(crlf("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n!!!\n--b--\n--a--\n"))
	f.Add([]byte("\xff\xfe\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := ParseMessage(raw)
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseMessage made a signal Validate refuses: %v\n%+v", err, s)
		}
		if s.MessageID == "" || len(s.MessageID) > maxMessageID+7+64 {
			t.Fatalf("MessageID %q", s.MessageID)
		}
	})
}
