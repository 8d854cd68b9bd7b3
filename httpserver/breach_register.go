package httpserver

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The breach register (GDPR art. 33(5)): every breach, notified or not,
// exported as CSV and as a printable page. Each export is audited
// ("breach.export"), since it carries what is known of a breach.

// csvSafe defuses a cell a spreadsheet would run as a formula (or that
// starts with a tab or carriage return, which some strip before looking):
// such a cell is prefixed with a quote (OWASP "CSV injection").
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// registerColumns are the CSV's columns, also the i18n keys of the
// printable page's headings (breach.col.NAME).
var registerColumns = []string{"incident", "title", "answer", "aware_at", "gdpr_deadline", "type", "risk", "status", "categories", "people",
	"records", "consequences", "remedial", "authority_notified_at", "authority_reference", "subjects_notified_at", "subjects_count",
	"subjects_how", "decisions"}

// registerRow is one breach as the exports write it, in English and UTC
// for the CSV (a file for an authority), or in the reader's language and
// zone for the page.
func (s *Server) registerRow(b *tocsin.Breach, lang string, when func(time.Time) string) []string {
	opt := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return when(*t)
	}
	num := func(n *int64) string {
		if n == nil {
			return ""
		}
		return strconv.FormatInt(*n, 10)
	}
	var ds []string
	for _, d := range b.Decisions {
		who, choice := "breach.who_authority", "breach.notify_no"
		if d.Subjects {
			who = "breach.who_subjects"
		}
		if d.Notify {
			choice = "breach.notify_yes"
		}
		line := fmt.Sprintf("%s %s: %s — %s (%s)", when(d.DecidedAt), i18n.T(lang, who), i18n.T(lang, choice), d.Why, d.ByEmail)
		if d.Late {
			line += " — " + i18n.T(lang, "breach.late_because", d.LateReason)
		}
		ds = append(ds, line)
	}
	risk := string(b.Risk)
	if risk != "" {
		risk = i18n.T(lang, "breach.risk."+risk)
	}
	return []string{strconv.FormatInt(b.IncidentID, 10), b.Title, i18n.T(lang, "breach.answer."+string(b.Answer)), when(b.AwareAt),
		when(tocsin.ClockGDPR.Deadline(b.AwareAt)), b.Type, risk, i18n.T(lang, "breach.status."+string(b.Status)), b.Categories,
		num(b.People), num(b.Records), b.Consequences, b.Remedial, opt(b.AuthorityAt), b.AuthorityRef, opt(b.SubjectsAt),
		num(b.SubjectsCount), b.SubjectsHow, strings.Join(ds, "\n")}
}

// writeRegisterCSV writes the register as CSV (RFC 4180, UTF-8, UTC).
func (s *Server) writeRegisterCSV(bs []*tocsin.Breach) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	utc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	if err := w.Write(registerColumns); err != nil {
		return nil, err
	}
	for _, b := range bs {
		row := s.registerRow(b, "en", utc)
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// breachRegisterCSV answers the register as a CSV download, for the
// console and the API.
func (s *Server) breachRegisterCSV(w http.ResponseWriter, r *http.Request) error {
	bs, err := s.store.Breaches(r.Context())
	if err != nil {
		return err
	}
	body, err := s.writeRegisterCSV(bs)
	if err != nil {
		return err
	}
	if err := s.store.AppendAudit(r.Context(), state(r).actor(), "breach.export", "breach-register", "", fmt.Sprintf("format=csv rows=%d", len(bs))); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="breach-register-`+s.now().In(s.loc).Format("2006-01-02")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	_, err = w.Write(body)
	return err
}

// registerPageRow is one breach of the printable register.
type registerPageRow struct {
	ID    int64
	Cells []string
	Late  bool
}

// breachRegisterPage is the printable register (print CSS in style.css).
func (s *Server) breachRegisterPage(w http.ResponseWriter, r *http.Request) error {
	bs, err := s.store.Breaches(r.Context())
	if err != nil {
		return err
	}
	lang := state(r).lang
	if err := s.store.AppendAudit(r.Context(), state(r).actor(), "breach.export", "breach-register", "", fmt.Sprintf("format=html rows=%d", len(bs))); err != nil {
		return err
	}
	heads := make([]string, len(registerColumns))
	for i, c := range registerColumns {
		heads[i] = i18n.T(lang, "breach.col."+c)
	}
	rows := make([]registerPageRow, len(bs))
	for i, b := range bs {
		rows[i] = registerPageRow{ID: b.IncidentID, Cells: s.registerRow(b, lang, s.fmtTime)}
		if d := b.NotifyDecision(); d != nil && d.Late {
			rows[i].Late = true
		}
	}
	s.render(w, r, http.StatusOK, "breaches", map[string]any{"Heads": heads, "Rows": rows, "Printed": s.fmtTime(s.now())})
	return nil
}
