package public

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/markdown"
)

// The maintenance calendar (/maintenance.ics) follows RFC 5545: one VEVENT
// per published maintenance, times in UTC, text escaped, lines folded at 75
// octets and ended by CRLF. A cancelled maintenance stays in the calendar
// with STATUS:CANCELLED, so that calendars that imported it drop it.

// renderCalendar renders the published maintenances of v in s.Lang.
func renderCalendar(s Snapshot, v *view) []byte {
	lang := s.Lang
	if lang == "" {
		lang = i18n.Langs[0]
	}
	host := "tocsin"
	if u, err := url.Parse(s.URL); err == nil && u.Host != "" {
		host = u.Host
	}
	var c calendar
	c.line("BEGIN", "VCALENDAR")
	c.line("VERSION", "2.0")
	c.line("PRODID", "-//tocsin//maintenance calendar//EN")
	c.line("CALSCALE", "GREGORIAN")
	c.line("METHOD", "PUBLISH")
	c.text("X-WR-CALNAME", s.Title+" — "+i18n.T(lang, "public.upcoming_maintenance"))
	for _, m := range v.Incidents {
		if !m.Maintenance() {
			continue
		}
		c.line("BEGIN", "VEVENT")
		c.line("UID", fmt.Sprintf("maintenance-%d@%s", m.ID, host))
		c.line("DTSTAMP", icalTime(m.UpdatedAt))
		c.line("LAST-MODIFIED", icalTime(m.UpdatedAt))
		c.line("CREATED", icalTime(m.CreatedAt))
		c.line("DTSTART", icalTime(*m.ScheduledFor))
		c.line("DTEND", icalTime(*m.ScheduledUntil))
		c.text("SUMMARY", m.Title)
		c.text("DESCRIPTION", calendarDescription(lang, m))
		if s.URL != "" {
			c.line("URL", absolute(s.URL, incidentPath(lang, m.ID)))
		}
		status := "CONFIRMED"
		if m.Cancelled() {
			status = "CANCELLED"
		}
		c.line("STATUS", status)
		c.line("TRANSP", "TRANSPARENT")
		c.line("END", "VEVENT")
	}
	c.line("END", "VCALENDAR")
	return []byte(c.b.String())
}

// calendarDescription is the maintenance's services and its latest
// update, as plain text.
func calendarDescription(lang string, m *incidentView) string {
	var parts []string
	if len(m.Affected) > 0 {
		names := make([]string, len(m.Affected))
		for i, a := range m.Affected {
			names[i] = a.Name
		}
		parts = append(parts, i18n.T(lang, "public.affected")+" "+strings.Join(names, ", "))
	}
	if u := m.Latest(); u != nil {
		body, err := markdown.Text(u.Body)
		if err != nil {
			body = u.Body
		}
		parts = append(parts, strings.TrimSpace(body))
	}
	return strings.Join(parts, "\n\n")
}

func icalTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// calendar writes content lines.
type calendar struct{ b strings.Builder }

// text writes a property of type TEXT, escaped.
func (c *calendar) text(name, value string) {
	c.line(name, icalEscape(value))
}

// line writes name:value folded: at most 75 octets a line, continued on
// lines that begin with a space, never inside a UTF-8 sequence.
func (c *calendar) line(name, value string) {
	s := name + ":" + value
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		c.b.WriteString(s[:cut])
		c.b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	c.b.WriteString(s)
	c.b.WriteString("\r\n")
}

var icalEscaper = strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

// icalEscape escapes TEXT and drops the control characters it cannot hold.
func icalEscape(s string) string {
	s = icalEscaper.Replace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
