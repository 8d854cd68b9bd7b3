package public

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// badgeColors are the right-hand colours of a status badge; white text on
// each keeps a contrast ratio above 4.5:1.
var badgeColors = map[tocsin.ServiceStatus]string{
	tocsin.StatusOperational:   "#1f7a34",
	tocsin.StatusDegraded:      "#8a5a00",
	tocsin.StatusPartialOutage: "#a34a00",
	tocsin.StatusMajorOutage:   "#a30000",
	tocsin.StatusMaintenance:   "#0b4f9c",
}

// badgeSVG draws a service's status as a small SVG badge, in the page's
// language, for READMEs and the host's own sites.
func badgeSVG(svc *tocsin.Service, lang string) []byte {
	label := svc.Name
	if utf8.RuneCountInString(label) > 40 {
		label = string([]rune(label)[:39]) + "…"
	}
	value := i18n.T(lang, "status."+string(svc.Status))
	lw, vw := textWidth(label)+12, textWidth(value)+12
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, lw+vw, xmlEscape(label), xmlEscape(value))
	fmt.Fprintf(&b, `<title>%s: %s</title>`, xmlEscape(label), xmlEscape(value))
	fmt.Fprintf(&b, `<rect width="%d" height="20" fill="#444"/><rect x="%d" width="%d" height="20" fill="%s"/>`, lw, lw, vw, badgeColors[svc.Status])
	fmt.Fprintf(&b, `<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">`)
	fmt.Fprintf(&b, `<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`, lw/2, xmlEscape(label), lw+vw/2, xmlEscape(value))
	return b.Bytes()
}

// textWidth estimates the width of s in 11 px Verdana; badges need only be
// roughly right.
func textWidth(s string) int {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("il.,:;|!'", r):
			w += 3.5
		case unicode.IsUpper(r) || strings.ContainsRune("mwMW@", r):
			w += 8.5
		default:
			w += 7
		}
	}
	return int(w + 0.5)
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			if r >= 0x20 || r == '\t' {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// slug is a service's name as a URL path element: lower-case letters and
// digits joined by dashes ("Mail & IMAP" → "mail-imap").
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// badgePaths returns, for each service, the badge URLs it is reachable at:
// always by ID, and by name when the name's slug is unique and not empty.
func badgePaths(svcs []*tocsin.Service) map[*tocsin.Service][]string {
	count := map[string]int{}
	for _, s := range svcs {
		count[slug(s.Name)]++
	}
	out := map[*tocsin.Service][]string{}
	for _, s := range svcs {
		paths := []string{fmt.Sprintf("/badges/%d.svg", s.ID)}
		if sl := slug(s.Name); sl != "" && count[sl] == 1 {
			paths = append(paths, "/badges/"+sl+".svg")
		}
		out[s] = paths
	}
	return out
}
