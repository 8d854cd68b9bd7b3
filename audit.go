package tocsin

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// AuditEntry is one mutation in the append-only audit log. Entries form a
// hash chain: each holds the hash of the one before, so editing or removing
// a row breaks every hash after it.
type AuditEntry struct {
	Seq      int64 // 1, 2, 3… without gaps
	At       time.Time
	ActorID  int64  // the user, 0 if none
	TokenID  int64  // the API token acted through, 0 if none
	Actor    string // label: e-mail, "token:NAME", "cli", "system"
	IP       string
	Action   string // "user.create", "session.delete"…
	Target   string // "user:3", "token:7"…
	Before   string // short summary of the state before, "" for creations
	After    string // short summary of the state after, "" for deletions
	PrevHash string // Hash of entry Seq-1; "" for the first
	Hash     string
}

// ComputeHash returns the hex SHA-256 of every field but Hash. Fields are
// length-prefixed so that no two different entries encode the same way.
func (e *AuditEntry) ComputeHash() string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(fmt.Sprint(e.Seq))
	put(e.At.UTC().Format(time.RFC3339Nano))
	put(fmt.Sprint(e.ActorID))
	put(fmt.Sprint(e.TokenID))
	put(e.Actor)
	put(e.IP)
	put(e.Action)
	put(e.Target)
	put(e.Before)
	put(e.After)
	put(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal fills Seq, PrevHash and Hash so that e follows prev (nil for the
// first entry). At is cut to microseconds, the precision both databases keep.
func (e *AuditEntry) Seal(prev *AuditEntry) {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Seq, e.PrevHash = 1, ""
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = e.ComputeHash()
}

// AuditBreak says where the chain is broken.
type AuditBreak struct {
	Seq    int64
	Reason string
}

func (b *AuditBreak) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", b.Seq, b.Reason)
}

// ChainVerifier checks entries fed to it in ascending order.
type ChainVerifier struct {
	prev  *AuditEntry
	Count int64
}

// Next checks e against the entry before it and returns the first break.
func (v *ChainVerifier) Next(e *AuditEntry) *AuditBreak {
	want := int64(1)
	wantPrev := ""
	if v.prev != nil {
		want, wantPrev = v.prev.Seq+1, v.prev.Hash
	}
	switch {
	case e.Seq != want:
		return &AuditBreak{Seq: want, Reason: fmt.Sprintf("entry %d is missing (next present entry is %d)", want, e.Seq)}
	case e.PrevHash != wantPrev:
		return &AuditBreak{Seq: e.Seq, Reason: "previous-hash link does not match: an entry before it was altered or removed"}
	case e.ComputeHash() != e.Hash:
		return &AuditBreak{Seq: e.Seq, Reason: "content does not match its hash: the entry was altered"}
	}
	v.prev = e
	v.Count++
	return nil
}

// AuditFilter selects entries for the console; empty fields match all.
type AuditFilter struct {
	Actor  string // substring of the actor label
	Action string // prefix, such as "user." or "token.create"
	Target string
	Since  time.Time
	Until  time.Time
	Limit  int
	Offset int
}

// AuditService reads the log. Entries are appended by the mutations
// themselves, inside their transactions; AppendAudit is for actions that
// change nothing else (an export, a failed verification).
type AuditService interface {
	AppendAudit(ctx context.Context, a Actor, action, target, before, after string) error
	// AuditEntries returns matching entries, newest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	// VerifyAudit walks the whole chain; it returns the number of entries and
	// the first break, or nil if the chain is intact.
	VerifyAudit(ctx context.Context) (int64, *AuditBreak, error)
}
