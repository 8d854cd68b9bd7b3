package tocsin

import (
	"bytes"
	"context"
	"encoding/hex"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Evidence is what a security incident keeps of what was found: a file
// uploaded to tocsin (stored sealed) or a reference to something too large
// to move (a disk image, a log on a host) with the hash its collector gave.
// Evidence is append-only: a mistaken item is withdrawn with a reason, never
// deleted. Every access after it was added is in its custody log.

// EvidenceKind says whether tocsin holds the content.
type EvidenceKind string

const (
	EvidenceFile      EvidenceKind = "file"      // uploaded; tocsin computed the hash
	EvidenceReference EvidenceKind = "reference" // stays where it is; the collector gave the hash
)

// DefaultEvidenceMaxBytes bounds an uploaded file unless configured
// otherwise (evidence.max_bytes).
const DefaultEvidenceMaxBytes = 25 << 20

// Limits of evidence's text fields, in characters.
const (
	MaxEvidenceDescription = 2000
	MaxEvidenceLine        = 500 // location, source, collector, file name
)

// Evidence is one item of evidence on a security incident.
type Evidence struct {
	ID          int64
	IncidentID  int64
	Kind        EvidenceKind
	Description string
	SHA256      string // 64 lowercase hex digits
	Size        int64  // bytes; for a reference as given, 0 when unknown
	MediaType   string // sniffed from an upload's content; "" for a reference
	Filename    string // the uploaded file's base name
	Location    string // a reference's whereabouts: "backup01:/images/web3.img"
	Source      string // where it came from: a host, a system, a person
	CollectedBy string // who collected it (a name, not necessarily an account)
	CollectedAt time.Time
	AddedBy     string // actor label
	AddedAt     time.Time

	WithdrawnAt     *time.Time
	WithdrawnBy     string
	WithdrawnReason string
}

// Withdrawn reports whether the item was withdrawn.
func (e *Evidence) Withdrawn() bool { return e.WithdrawnAt != nil }

// ParseSHA256 reads a SHA-256 digest as 64 hex digits, in either case,
// optionally prefixed "sha256:" or "SHA256 ", and returns it in lowercase.
func ParseSHA256(s string) (string, error) {
	v := strings.TrimSpace(s)
	for _, p := range []string{"sha256:", "sha256 ", "sha-256:"} {
		if len(v) >= len(p) && strings.EqualFold(v[:len(p)], p) {
			v = strings.TrimSpace(v[len(p):])
		}
	}
	if len(v) != 64 {
		return "", Errorf(EINVALID, "a SHA-256 is 64 hexadecimal digits; this is %d characters", utf8.RuneCountInString(v)).
			WithKey("evidence.sha256_invalid")
	}
	if _, err := hex.DecodeString(v); err != nil {
		return "", Errorf(EINVALID, "a SHA-256 is 64 hexadecimal digits (0-9, a-f)").WithKey("evidence.sha256_invalid")
	}
	return strings.ToLower(v), nil
}

// EvidenceEarliest is the earliest an item may have been collected on inc:
// a collection can precede the incident (logs copied when the report came
// in, before anyone opened it), so the earliest of its creation and its
// reported (a signal's receipt), detected and exposure-started moments.
func EvidenceEarliest(inc *SecurityIncident) time.Time {
	t := inc.CreatedAt
	for _, m := range []*time.Time{inc.Moments.Reported, inc.Moments.Detected, inc.Moments.ExposureStarted} {
		if m != nil && m.Before(t) {
			t = *m
		}
	}
	return t
}

// checkLine checks a one-line text field of at most most characters.
func checkLine(field, v string, least, most int) error {
	if utf8.RuneCountInString(strings.TrimSpace(v)) < least || utf8.RuneCountInString(v) > most || !utf8.ValidString(v) ||
		strings.IndexFunc(v, isControlChar) >= 0 || strings.ContainsAny(v, "\r\n") {
		return Errorf(EINVALID, "%s: give one line of %d to %d characters", field, least, most).WithKey("evidence.line_invalid", field, most)
	}
	return nil
}

// Validate checks and tidies a new item against the clock and the
// earliest collection time (EvidenceEarliest). A zero CollectedAt means
// now. A file needs its hash, size and media type set by the caller from
// the content; a reference needs a location and the collector's hash.
func (e *Evidence) Validate(now, earliest time.Time) error {
	e.Description = strings.TrimSpace(e.Description)
	e.Location = strings.TrimSpace(e.Location)
	e.Source = strings.TrimSpace(e.Source)
	e.CollectedBy = strings.TrimSpace(e.CollectedBy)
	if e.Description == "" {
		return Errorf(EINVALID, "say what this evidence is").WithKey("evidence.description_empty")
	}
	if utf8.RuneCountInString(e.Description) > MaxEvidenceDescription || !utf8.ValidString(e.Description) ||
		strings.IndexFunc(e.Description, isControlChar) >= 0 {
		return Errorf(EINVALID, "the description is text of at most %d characters", MaxEvidenceDescription).
			WithKey("evidence.description_long", MaxEvidenceDescription)
	}
	for _, f := range []struct{ name, v string }{{"source", e.Source}, {"collected_by", e.CollectedBy}} {
		if err := checkLine(f.name, f.v, 0, MaxEvidenceLine); err != nil {
			return err
		}
	}
	if e.CollectedBy == "" {
		return Errorf(EINVALID, "say who collected it").WithKey("evidence.collector_empty")
	}
	sum, err := ParseSHA256(e.SHA256)
	if err != nil {
		return err
	}
	e.SHA256 = sum
	if e.Size < 0 {
		return Errorf(EINVALID, "a size is a number of bytes, 0 or more").WithKey("evidence.size_invalid")
	}
	switch e.Kind {
	case EvidenceFile:
		e.Location = ""
		e.Filename = CleanFilename(e.Filename)
		if e.MediaType == "" {
			e.MediaType = "application/octet-stream"
		}
	case EvidenceReference:
		e.Filename, e.MediaType = "", ""
		if err := checkLine("location", e.Location, 1, MaxEvidenceLine); err != nil {
			return Errorf(EINVALID, "a reference needs where the evidence is: one line of at most %d characters", MaxEvidenceLine).
				WithKey("evidence.location_invalid", MaxEvidenceLine)
		}
	default:
		return Errorf(EINVALID, "evidence is a file or a reference, not %q", e.Kind).WithKey("evidence.kind_unknown", string(e.Kind))
	}
	if e.CollectedAt.IsZero() {
		e.CollectedAt = now
	}
	if err := NotFuture(e.CollectedAt, now); err != nil {
		return err
	}
	if e.CollectedAt.Before(earliest) {
		return Errorf(EINVALID, "collected at %s: that is before anything of this incident was known", e.CollectedAt.UTC().Format(time.RFC3339)).
			WithKey("evidence.too_early")
	}
	return nil
}

// CleanFilename keeps the base name of an uploaded file's name, without
// control characters or path separators, at most MaxEvidenceLine
// characters; "evidence" when nothing is left.
func CleanFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if isControlChar(r) || r == '\r' || r == '\n' || r == '\t' || r == '\\' || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(path.Base("/" + name))
	if name == "/" || name == "." || name == ".." || name == "" {
		return "evidence"
	}
	if r := []rune(name); len(r) > MaxEvidenceLine {
		name = string(r[len(r)-MaxEvidenceLine:])
	}
	return name
}

// DeniedContent reports why content may not be uploaded, or "": native
// executables (PE, ELF, Mach-O) are refused so that the console never hands
// out a runnable program; a sample worth keeping is uploaded inside an
// archive or recorded as a reference.
func DeniedContent(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("MZ")):
		return "Windows executable"
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "ELF executable"
	case slices.ContainsFunc([][]byte{{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe},
		{0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}}, func(m []byte) bool { return bytes.HasPrefix(head, m) }):
		return "Mach-O executable"
	}
	return ""
}

// CustodyAction is what was done with an item of evidence.
type CustodyAction string

const (
	CustodyAdded      CustodyAction = "added"
	CustodyViewed     CustodyAction = "viewed"     // its details were read
	CustodyDownloaded CustodyAction = "downloaded" // its content was served
	CustodyVerified   CustodyAction = "verified"   // its content was hashed again; Detail says match or mismatch
	CustodyWithdrawn  CustodyAction = "withdrawn"  // Detail the reason
)

// CustodyEvent is one line of an item's chain of custody.
type CustodyEvent struct {
	ID         int64
	EvidenceID int64
	Action     CustodyAction
	Actor      string // actor label
	At         time.Time
	Detail     string
}

// Verification results, the Detail of a CustodyVerified event.
const (
	VerifyMatch    = "match"
	VerifyMismatch = "mismatch"
)

// EvidenceService keeps the evidence of security incidents. An item is
// always read through its incident: an ID of another incident's item is
// ENOTFOUND.
type EvidenceService interface {
	// AddEvidence validates e and stores it on incident incidentID with its
	// sealed content (files only), its "added" custody event, an
	// "evidence" timeline entry and the audit entry, in one transaction.
	AddEvidence(ctx context.Context, a Actor, incidentID int64, e *Evidence, sealed []byte) error
	// EvidenceList returns an incident's items, oldest first.
	EvidenceList(ctx context.Context, incidentID int64) ([]*Evidence, error)
	// EvidenceItem returns one item and its custody log, oldest first.
	EvidenceItem(ctx context.Context, incidentID, id int64) (*Evidence, []*CustodyEvent, error)
	// EvidenceContent returns a file's sealed content; ENOTFOUND for a
	// reference.
	EvidenceContent(ctx context.Context, incidentID, id int64) ([]byte, error)
	// RecordCustody appends a viewed, downloaded or verified event and its
	// audit entry; a mismatch also goes on the timeline.
	RecordCustody(ctx context.Context, a Actor, incidentID, id int64, action CustodyAction, detail string) error
	// WithdrawEvidence marks an item withdrawn with the reason (custody
	// event, timeline entry, audit); ECONFLICT if it already is.
	WithdrawEvidence(ctx context.Context, a Actor, incidentID, id int64, reason string) error
}
