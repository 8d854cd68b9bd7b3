package httpserver

import (
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// securityEntryRow is one timeline entry as the room shows it: the sentence
// for an automatic entry is made here, in the reader's language, so that
// the template of a long timeline stays a plain loop.
type securityEntryRow struct {
	ID        int64
	Kind      tocsin.EntryKind
	Label     string // "Observation", "Status", …
	Text      string // the sentence of an automatic entry
	Body      string // what a person typed: observation, action, reason
	Occurred  string
	Written   string
	Backdated bool
	Author    string
	Decision  *securityDecisionRow
	LinkID    string // the other incident of a link entry
	// EvidenceID is the item of an evidence entry.
	EvidenceID string
}

type securityDecisionRow struct {
	Choice, Options, Why, By string
}

// securityEntryRow words entry e in lang.
func (s *Server) securityEntryRow(lang string, e *tocsin.SecurityEntry) securityEntryRow {
	row := securityEntryRow{
		ID: e.ID, Kind: e.Kind, Label: i18n.T(lang, "security.entry."+string(e.Kind)), Body: e.Body,
		Occurred: s.fmtTime(e.OccurredAt), Written: s.fmtTime(e.CreatedAt), Backdated: e.Backdated(), Author: e.Author,
	}
	status := func(v string) string { return i18n.T(lang, "security.status."+v) }
	switch e.Kind {
	case tocsin.EntryCreated:
		row.Text = i18n.T(lang, "security.text.created", e.Body, e.New)
		if e.Subject != "" { // opened from a signal: its receipt
			row.Text += " " + i18n.T(lang, "security.text.from_signal", e.Subject)
		}
		row.Body = ""
	case tocsin.EntrySignal:
		row.Text = i18n.T(lang, "security.text.signal", e.New)
	case tocsin.EntryEvidence:
		switch e.Old {
		case "withdrawn":
			row.Text = i18n.T(lang, "security.text.evidence_withdrawn", e.Subject)
		case tocsin.VerifyMismatch:
			row.Text = i18n.T(lang, "security.text.evidence_mismatch", e.Subject, e.New)
		default:
			row.Text = i18n.T(lang, "security.text.evidence_added", e.Subject, e.New)
		}
		row.EvidenceID = e.Subject
	case tocsin.EntryStatus, tocsin.EntryReopened:
		row.Text = i18n.T(lang, "security.text.status", status(e.Old), status(e.New))
	case tocsin.EntrySeverity:
		row.Text = i18n.T(lang, "security.text.status", e.Old, e.New)
	case tocsin.EntryEdited:
		row.Text = i18n.T(lang, "security.text.edited", e.Subject)
	case tocsin.EntryRole:
		role := i18n.T(lang, "security.role."+e.Subject)
		switch {
		case e.New != "" && e.Old != "":
			row.Text = i18n.T(lang, "security.text.role_replaced", role, e.New, e.Old)
		case e.New != "":
			row.Text = i18n.T(lang, "security.text.role_given", role, e.New)
		default:
			row.Text = i18n.T(lang, "security.text.role_taken", role, e.Old)
		}
	case tocsin.EntryMoment:
		moment := i18n.T(lang, "security.moment."+e.Subject)
		if t, err := time.Parse(time.RFC3339Nano, e.New); err == nil {
			row.Text = i18n.T(lang, "security.text.moment_set", moment, s.fmtTime(t))
		} else {
			row.Text = i18n.T(lang, "security.text.moment_cleared", moment)
		}
		if t, err := time.Parse(time.RFC3339Nano, e.Old); err == nil {
			row.Text += " " + i18n.T(lang, "security.text.was", s.fmtTime(t))
		}
	case tocsin.EntryLink:
		row.Text = i18n.T(lang, "security.link."+e.Subject)
		if _, err := strconv.ParseInt(e.New, 10, 64); err == nil {
			row.LinkID = e.New
		}
	case tocsin.EntryBreach:
		row.Text, row.Body = s.breachEntryText(lang, e), ""
	case tocsin.EntryNotified:
		row.Text, row.Body = i18n.T(lang, "security.text.notified."+e.Subject, e.New, e.Body), ""
	case tocsin.EntryTaskAdded, tocsin.EntryTaskStatus, tocsin.EntryTaskOwner, tocsin.EntryTaskDue, tocsin.EntryRunbookApplied:
		row.Text, row.Body = s.taskEntryText(lang, e), ""
	case tocsin.EntryPublicLink, tocsin.EntryPublicUpdate, tocsin.EntryCadence, tocsin.EntryPostmortem:
		s.commsEntryRow(lang, e, &row)
	case tocsin.EntryDecision:
		if d := e.Decision; d != nil {
			by := d.DecidedByEmail
			if d.DecidedByName != "" {
				by = d.DecidedByName + " <" + d.DecidedByEmail + ">"
			}
			row.Decision = &securityDecisionRow{Choice: d.Choice, Options: d.Options, Why: d.Why, By: by}
		}
	}
	return row
}
