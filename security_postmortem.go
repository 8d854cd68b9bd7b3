package tocsin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Digest is the hex SHA-256 of the post-mortem's canonical serialisation,
// recorded when it is published (the audit entry "postmortem.publish" and
// PublishedSHA256) so that anyone holding the text can check it is the
// one published. The serialisation is UTF-8 lines, every value
// length-prefixed so that no two texts share one:
//
//	tocsin-postmortem-v1
//	incident <ID>
//	revision <N>
//	summary <LEN>:<bytes>
//	impact <LEN>:<bytes>
//	root_cause <LEN>:<bytes>
//	went_well <LEN>:<bytes>
//	changes <LEN>:<bytes>
//	timeline <COUNT>
//	<RFC 3339 UTC, seconds> <LEN>:<bytes>   (one line per entry, in order)
//
// where LEN is the byte length in decimal and each line ends with "\n".
func (p *Postmortem) Digest() string {
	var b strings.Builder
	field := func(name, v string) {
		b.WriteString(name + " " + strconv.Itoa(len(v)) + ":" + v + "\n")
	}
	b.WriteString("tocsin-postmortem-v1\n")
	b.WriteString("incident " + strconv.FormatInt(p.IncidentID, 10) + "\n")
	b.WriteString("revision " + strconv.Itoa(p.Revision) + "\n")
	field("summary", p.Summary)
	field("impact", p.Impact)
	field("root_cause", p.RootCause)
	field("went_well", p.WentWell)
	field("changes", p.Changes)
	b.WriteString("timeline " + strconv.Itoa(len(p.Timeline)) + "\n")
	for _, e := range p.Timeline {
		field(e.At.UTC().Truncate(time.Second).Format(time.RFC3339), e.Text)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// PublicSafe reports whether an entry of a security incident's timeline
// may go into the draft of its public post-mortem: key moments, decisions,
// status changes and public updates. Observations, actions, roles, links
// and edits name people, systems and suspicions: the scribe writes what
// of them the public should read.
func (e *SecurityEntry) PublicSafe() bool {
	switch e.Kind {
	case EntryMoment:
		return e.New != ""
	case EntryDecision:
		return e.Decision != nil
	case EntryStatus, EntryReopened, EntryPublicUpdate:
		return true
	}
	return false
}

// AssemblePostmortem drafts the public post-mortem of public incident pub
// from security incident sec, its timeline entries (all of them, oldest
// first) and its decisions, in the language of t (an i18n lookup). The
// draft is Markdown for the scribe to edit: the summary and impact give
// the public incident and the key durations; the timeline holds the
// public-safe entries; the changes list the decisions and why; root cause
// and what went well are left to write.
func AssemblePostmortem(sec *SecurityIncident, entries []*SecurityEntry, pub *Incident, t func(key string, args ...any) string) *Postmortem {
	p := &Postmortem{IncidentID: pub.ID}
	var summary []string
	summary = append(summary, t("comms.pm.summary", pub.Title))
	if len(pub.Updates) > 0 {
		first := pub.Updates[len(pub.Updates)-1] // oldest (newest first)
		summary = append(summary, "", oneLine(first.Body, 1000))
	}
	p.Summary = strings.Join(summary, "\n")

	var impact []string
	impact = append(impact, t("comms.pm.impact", t("public.impact."+string(pub.Impact))))
	m := sec.Moments
	if d, ok, ongoing := m.ExposureDuration(); ok {
		impact = append(impact, "- "+t("comms.pm.exposure", FormatDuration(d)))
	} else if ongoing {
		impact = append(impact, "- "+t("comms.pm.exposure_ongoing"))
	}
	if d, ok := m.TimeToAcknowledge(); ok {
		impact = append(impact, "- "+t("comms.pm.tta", FormatDuration(d)))
	}
	if d, ok := m.TimeToContain(); ok {
		impact = append(impact, "- "+t("comms.pm.ttc", FormatDuration(d)))
	}
	p.Impact = strings.Join(impact, "\n")

	var changes []string
	size := 0 // of changes, kept under a section's limit
	for _, e := range entries {
		if !e.PublicSafe() || len(p.Timeline) >= MaxTimelineEntries {
			continue
		}
		text := ""
		switch e.Kind {
		case EntryMoment:
			text = t("security.moment." + e.Subject)
		case EntryStatus, EntryReopened:
			text = t("comms.pm.status", t("security.status."+e.New))
		case EntryDecision:
			text = t("comms.pm.decision", e.Decision.Choice)
			line := "- **" + oneLine(e.Decision.Choice, 500) + "**"
			if why := oneLine(e.Decision.Why, 1000); why != "" {
				line += " — " + why
			}
			if size += len(line) + 1; size < MaxUpdateBytes-1000 {
				changes = append(changes, line)
			}
		case EntryPublicUpdate:
			text = t("comms.pm.public_update", e.Body)
		}
		p.Timeline = append(p.Timeline, TimelineEntry{At: e.OccurredAt.UTC().Truncate(time.Second), Text: oneLine(text, MaxTimelineEntryText)})
	}
	if len(changes) > 0 {
		p.Changes = t("comms.pm.decisions") + "\n\n" + strings.Join(changes, "\n")
	}
	return p
}

// oneLine folds s to one line of at most n bytes, cut at a rune boundary.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// String names the link for logs and audit entries.
func (l *PublicLink) String() string {
	return fmt.Sprintf("security:%d→incident:%d", l.SecurityID, l.IncidentID)
}
