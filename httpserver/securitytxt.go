package httpserver

import (
	"net/http"
	"strings"
	"time"
)

// securityTxtLifetime is how far ahead Expires is dated. RFC 9116 asks for
// less than a year; the file is written at each request, so it never goes
// stale while tocsin runs.
const securityTxtLifetime = 180 * 24 * time.Hour

// securityTxt serves /.well-known/security.txt (RFC 9116) from the
// configuration: where to report (the form, and the intake address when
// set), until when the file holds, the languages read, where the file
// lives, and the disclosure policy when there is one.
func (s *Server) securityTxt(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write([]byte(s.securityTxtBody(s.now())))
	return err
}

func (s *Server) securityTxtBody(now time.Time) string {
	base := s.cfg.PublicURL()
	var b strings.Builder
	field := func(name, value string) { b.WriteString(name + ": " + value + "\n") }
	if s.cfg.Intake.Email != "" {
		field("Contact", "mailto:"+s.cfg.Intake.Email)
	}
	field("Contact", base+"/report")
	field("Expires", now.UTC().Add(securityTxtLifetime).Truncate(time.Second).Format(time.RFC3339))
	field("Preferred-Languages", "fr, en")
	// The file may be fetched through the status page's address as well as
	// the console's; a Canonical must name every address it is served at.
	field("Canonical", base+"/.well-known/security.txt")
	if p := strings.TrimRight(s.cfg.Page.URL, "/"); p != "" && p != base {
		field("Canonical", p+"/.well-known/security.txt")
	}
	if s.cfg.Intake.Policy != "" {
		field("Policy", s.cfg.Intake.Policy)
	}
	return b.String()
}
