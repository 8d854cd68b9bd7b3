package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Findings: what checks saw that is unsafe, one open finding per check and
// kind at most (a partial unique index), closed when a result that could
// judge its kind no longer shows it. Certificates: every (serial, public
// key) an endpoint served, with its first and last sighting, from which a
// renewal that kept the key (tls_key_reused) is told from a rotation.

const findingColumns = `id, kind, check_id, service_id, severity, detail, opened_at, closed_at, signal_id, tier, words`

// findingWordsJSON is how the words column keeps a finding's Words and Args.
type findingWordsJSON struct {
	Key  string   `json:"key"`
	Args []string `json:"args"`
}

func wordsOf(f *tocsin.Finding) (string, error) {
	if f.Words == "" {
		return "", nil
	}
	b, err := json.Marshal(findingWordsJSON{Key: f.Words, Args: f.Args})
	return string(b), err
}

func scanFinding(sc rowScanner) (*tocsin.Finding, error) {
	var f tocsin.Finding
	var signal *int64
	var words string
	err := sc.Scan(&f.ID, &f.Kind, &f.CheckID, &f.ServiceID, &f.Severity, &f.Detail, timeScan{&f.OpenedAt}, nullTimeScan{&f.ClosedAt}, &signal, &f.Tier, &words)
	if err != nil {
		return nil, err
	}
	f.SignalID = signal
	// Findings opened before words were kept have none: their Detail shows.
	if words != "" {
		var w findingWordsJSON
		if err := json.Unmarshal([]byte(words), &w); err != nil {
			return nil, fmt.Errorf("sqlstore: finding %d: words: %w", f.ID, err)
		}
		f.Words, f.Args = w.Key, w.Args
	}
	return &f, nil
}

func findingTarget(id int64) string { return fmt.Sprintf("finding:%d", id) }

// findingWords names a kind in a signal's subject.
var findingWords = map[tocsin.FindingKind]string{
	tocsin.FindingBucketListable:  "bucket listable by anyone",
	tocsin.FindingCertExpiring:    "certificate expiring",
	tocsin.FindingCertInvalid:     "certificate invalid",
	tocsin.FindingTLSProtocolWeak: "old TLS protocol accepted",
	tocsin.FindingTLSCipherWeak:   "weak TLS cipher suites accepted",
	tocsin.FindingTLSKeyReused:    "certificate renewed with the same key",
	tocsin.FindingCheckFailing:    "check failing",
}

// Findings returns the findings f selects, newest first; Limit defaults to
// 100 and is at most 1000.
func (db *DB) Findings(ctx context.Context, f tocsin.FindingFilter) ([]*tocsin.Finding, error) {
	var (
		where []string
		args  []any
	)
	if f.Open != nil {
		if *f.Open {
			where = append(where, `closed_at IS NULL`)
		} else {
			where = append(where, `closed_at IS NOT NULL`)
		}
	}
	if f.Kind != "" {
		where = append(where, `kind = ?`)
		args = append(args, string(f.Kind))
	}
	if f.CheckID != 0 {
		where = append(where, `check_id = ?`)
		args = append(args, f.CheckID)
	}
	q := `SELECT ` + findingColumns + ` FROM findings`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY opened_at DESC, id DESC LIMIT ?`
	args = append(args, limitOr(f.Limit, 100, 1000))
	out, err := list(ctx, db.read(), scanFinding, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: findings: %w", err)
	}
	return out, nil
}

// loadOpenFindings reads the open findings of the batch's checks.
func (c conn) loadOpenFindings(ctx context.Context, checks map[int64]*checkInBatch) error {
	ids := make([]any, 0, len(checks))
	for id, cb := range checks {
		cb.findings = map[tocsin.FindingKind]*tocsin.Finding{}
		ids = append(ids, id)
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		part := ids[:n]
		ids = ids[n:]
		fs, err := list(ctx, c, scanFinding, `SELECT `+findingColumns+` FROM findings WHERE closed_at IS NULL AND check_id IN (?`+
			strings.Repeat(", ?", n-1)+`)`, part...)
		if err != nil {
			return err
		}
		for _, f := range fs {
			checks[f.CheckID].findings[f.Kind] = f
		}
	}
	return nil
}

// notAfter returns t, or now when t is later or zero.
func notAfter(t, now time.Time) time.Time {
	if t.IsZero() || t.After(now) {
		return now
	}
	return t
}

// followFindings opens the findings result r shows that are not open yet
// (updating the detail of those that are), closes the open ones of the
// kinds r judged and no longer shows, keeps check_failing open while the
// check is down, and adds r's certificate to the endpoint's history. A
// new finding opens a signal (not under maintenance); a listable bucket's
// pages on-call when the check says page. check_failing opens none: the
// check going down opened one.
func (c conn) followFindings(ctx context.Context, db *DB, cb *checkInBatch, r *tocsin.CheckResult, now time.Time) error {
	at := notAfter(r.StartedAt, now)
	found, judged := cb.check.Findings(r, now)
	judged = append(judged, tocsin.FindingCheckFailing)
	if cb.status.State == tocsin.CheckDown {
		f := &tocsin.Finding{Kind: tocsin.FindingCheckFailing, CheckID: cb.check.ID, ServiceID: cb.check.ServiceID, Severity: cb.check.Severity}
		// The prober's error is its own English words.
		switch since := cb.status.ChangedAt; {
		case since != nil && r.Error != "":
			f.Say("findings.detail.check_failing_since_error", "%s has failed %s times in a row, down since %s: %s",
				cb.check.Target(), cb.status.Fails, *since, cut(r.Error, 500))
		case since != nil:
			f.Say("findings.detail.check_failing_since", "%s has failed %s times in a row, down since %s", cb.check.Target(), cb.status.Fails, *since)
		case r.Error != "":
			f.Say("findings.detail.check_failing_error", "%s has failed %s times in a row: %s", cb.check.Target(), cb.status.Fails, cut(r.Error, 500))
		default:
			f.Say("findings.detail.check_failing", "%s has failed %s times in a row", cb.check.Target(), cb.status.Fails)
		}
		found = append(found, f)
	}
	if r.TLS != nil {
		reused, rotated, err := c.followCert(ctx, cb, r.TLS, at)
		if err != nil {
			return err
		}
		if reused != nil {
			found = append(found, reused)
		}
		if rotated {
			judged = append(judged, tocsin.FindingTLSKeyReused)
		}
	}
	shown := map[tocsin.FindingKind]bool{}
	for _, f := range found {
		f.Detail = cut(plainText(f.Detail), 2000)
		for i, a := range f.Args {
			f.Args[i] = cut(plainText(a), 2000)
		}
		shown[f.Kind] = true
		if open := cb.findings[f.Kind]; open != nil && f.Tier < open.Tier {
			// A certificate fell into a lower expiry tier (30 → 14 → 7 → 1
			// days): the finding starts over, with its signal.
			if err := c.closeFinding(ctx, open, at); err != nil {
				return err
			}
			delete(cb.findings, f.Kind)
		}
		if open := cb.findings[f.Kind]; open != nil {
			if open.Detail != f.Detail && f.Kind != tocsin.FindingCheckFailing {
				open.Detail, open.Words, open.Args = f.Detail, f.Words, f.Args
				words, err := wordsOf(f)
				if err != nil {
					return err
				}
				if _, err := c.exec(ctx, `UPDATE findings SET detail = ?, words = ? WHERE id = ?`, f.Detail, words, open.ID); err != nil {
					return err
				}
			}
			continue
		}
		if err := c.openFinding(ctx, db, cb, f, at); err != nil {
			return err
		}
	}
	for _, kind := range slices.Compact(judged) {
		open := cb.findings[kind]
		if open == nil || shown[kind] {
			continue
		}
		if err := c.closeFinding(ctx, open, at); err != nil {
			return err
		}
		delete(cb.findings, kind)
	}
	return nil
}

// closeFinding closes an open finding at at, with its audit entry.
func (c conn) closeFinding(ctx context.Context, open *tocsin.Finding, at time.Time) error {
	if _, err := c.exec(ctx, `UPDATE findings SET closed_at = ? WHERE id = ?`, at, open.ID); err != nil {
		return err
	}
	return c.audit(ctx, tocsin.Monitor, "finding.close", findingTarget(open.ID), "kind="+string(open.Kind)+" state=open", "state=closed")
}

func (c conn) openFinding(ctx context.Context, db *DB, cb *checkInBatch, f *tocsin.Finding, at time.Time) error {
	f.CheckID, f.ServiceID, f.OpenedAt = cb.check.ID, cb.check.ServiceID, at
	if f.Severity == "" {
		f.Severity = cb.check.Severity
	}
	if f.Kind != tocsin.FindingCheckFailing && !cb.maintenance {
		subject := fmt.Sprintf("%s: %s (%s)", cb.service, findingWords[f.Kind], cb.check.Name)
		body := fmt.Sprintf("%s\n\nCheck: %s (%s %s)\nService: %s\nSeverity: %s\nSeen: %s\n", f.Detail, cb.check.Name, cb.check.Kind,
			cb.check.Target(), cb.service, f.Severity, at.Format(time.RFC3339))
		page := f.Kind == tocsin.FindingBucketListable && cb.check.Page
		sig, err := c.openSignal(ctx, db, subject, body, at, page)
		if err != nil {
			return err
		}
		f.SignalID = &sig.ID
	}
	words, err := wordsOf(f)
	if err != nil {
		return err
	}
	err = c.queryRow(ctx, `INSERT INTO findings (kind, check_id, service_id, severity, detail, opened_at, signal_id, tier, words)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, string(f.Kind), f.CheckID, f.ServiceID, f.Severity, f.Detail, at, f.SignalID, f.Tier, words).Scan(&f.ID)
	if err != nil {
		return err
	}
	cb.findings[f.Kind] = f
	return c.audit(ctx, tocsin.Monitor, "finding.open", findingTarget(f.ID), "",
		fmt.Sprintf("kind=%s check=%d severity=%s", f.Kind, f.CheckID, f.Severity))
}

// tlsCert is one row of tls_certs.
type tlsCert struct {
	serial, spki        string
	notBefore, notAfter time.Time
	firstSeen, lastSeen time.Time
	stored, dirty       bool
}

// followCert adds o to cb's certificate history at at. A new serial with a
// key the endpoint served before returns the tls_key_reused finding; a new
// key (after another) reports rotated, which closes it.
func (c conn) followCert(ctx context.Context, cb *checkInBatch, o *tocsin.TLSObservation, at time.Time) (reused *tocsin.Finding, rotated bool, err error) {
	if o.Serial == "" || o.SPKISHA256 == "" {
		return nil, false, nil
	}
	var prev *tlsCert
	keyFirst := time.Time{}
	for _, x := range cb.certs {
		if x.serial == o.Serial && x.spki == o.SPKISHA256 {
			if at.After(x.lastSeen) {
				x.lastSeen, x.dirty = at, true
			}
			if at.Before(x.firstSeen) {
				x.firstSeen, x.dirty = at, true
			}
			return nil, false, nil
		}
		if prev == nil || x.lastSeen.After(prev.lastSeen) {
			prev = x
		}
		if x.spki == o.SPKISHA256 && (keyFirst.IsZero() || x.firstSeen.Before(keyFirst)) {
			keyFirst = x.firstSeen
		}
	}
	cb.certs = append(cb.certs, &tlsCert{serial: o.Serial, spki: o.SPKISHA256, notBefore: o.NotBefore, notAfter: o.NotAfter,
		firstSeen: at, lastSeen: at, dirty: true})
	switch {
	case !keyFirst.IsZero():
		f := &tocsin.Finding{Kind: tocsin.FindingTLSKeyReused, Severity: cb.check.Severity}
		f.Say("findings.detail.tls_key_reused", "%s: certificate renewed (serial %s → %s) but the public key is the same, first seen on %s",
			cb.check.Target(), prev.serial, o.Serial, keyFirst)
		return f, false, nil
	case prev != nil:
		return nil, true, nil
	}
	return nil, false, nil
}

// loadCerts reads the certificate history of the checks that have a
// result with a certificate in the batch, in one query.
func (c conn) loadCerts(ctx context.Context, checks map[int64]*checkInBatch, results []*tocsin.CheckResult) error {
	var ids []any
	for _, r := range results {
		if cb := checks[r.CheckID]; r.TLS != nil && cb != nil && !cb.certsRead {
			cb.certsRead = true
			ids = append(ids, r.CheckID)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		by, _, err := c.certRows(ctx, ` WHERE check_id IN (?`+strings.Repeat(", ?", n-1)+`)`, ids[:n]...)
		if err != nil {
			return err
		}
		for id, certs := range by {
			checks[id].certs = certs
		}
		ids = ids[n:]
	}
	return nil
}

// saveCerts writes the certificate sightings the batch changed, one
// statement for all.
func (c conn) saveCerts(ctx context.Context, checks []*checkInBatch) error {
	var (
		b    strings.Builder
		args []any
		n    int
	)
	flush := func() error {
		if n == 0 {
			return nil
		}
		b.WriteString(` ON CONFLICT (check_id, serial, spki_sha256) DO UPDATE SET first_seen = excluded.first_seen, last_seen = excluded.last_seen`)
		_, err := c.exec(ctx, b.String(), args...)
		b.Reset()
		args, n = args[:0], 0
		return err
	}
	for _, cb := range checks {
		for _, x := range cb.certs {
			if !x.dirty {
				continue
			}
			if n == 0 {
				b.WriteString(`INSERT INTO tls_certs (check_id, serial, spki_sha256, not_before, not_after, first_seen, last_seen) VALUES `)
			} else {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, cb.check.ID, x.serial, x.spki, x.notBefore, x.notAfter, x.firstSeen, x.lastSeen)
			x.dirty, x.stored = false, true
			if n++; n == 500 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// tlsKeys groups certificate rows by key: first seen is the earliest
// sighting of the key, last seen the latest, and serial and expiry those
// of the certificate seen last. Newest first.
func tlsKeys(checkID int64, certs []*tlsCert) []*tocsin.TLSKeySeen {
	by := map[string]*tocsin.TLSKeySeen{}
	var out []*tocsin.TLSKeySeen
	for _, x := range certs {
		k := by[x.spki]
		if k == nil {
			k = &tocsin.TLSKeySeen{CheckID: checkID, SPKISHA256: x.spki, FirstSeen: x.firstSeen}
			by[x.spki] = k
			out = append(out, k)
		}
		if x.firstSeen.Before(k.FirstSeen) {
			k.FirstSeen = x.firstSeen
		}
		if k.Serial == "" || x.lastSeen.After(k.LastSeen) {
			k.Serial, k.NotAfter, k.LastSeen = x.serial, x.notAfter, x.lastSeen
		}
	}
	slices.SortFunc(out, func(a, b *tocsin.TLSKeySeen) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), b.FirstSeen.Compare(a.FirstSeen), strings.Compare(a.SPKISHA256, b.SPKISHA256))
	})
	return out
}

func (c conn) certRows(ctx context.Context, where string, args ...any) (map[int64][]*tlsCert, []int64, error) {
	type row struct {
		check int64
		cert  *tlsCert
	}
	rows, err := list(ctx, c, func(sc rowScanner) (row, error) {
		x := &tlsCert{stored: true}
		var id int64
		err := sc.Scan(&id, &x.serial, &x.spki, timeScan{&x.notBefore}, timeScan{&x.notAfter}, timeScan{&x.firstSeen}, timeScan{&x.lastSeen})
		return row{id, x}, err
	}, `SELECT check_id, serial, spki_sha256, not_before, not_after, first_seen, last_seen FROM tls_certs`+where+` ORDER BY check_id`, args...)
	if err != nil {
		return nil, nil, err
	}
	by := map[int64][]*tlsCert{}
	var ids []int64
	for _, r := range rows {
		if by[r.check] == nil {
			ids = append(ids, r.check)
		}
		by[r.check] = append(by[r.check], r.cert)
	}
	return by, ids, nil
}

// TLSKeys returns the public keys check checkID's endpoint served, newest
// (the one served now) first: keys[0].FirstSeen is when the key last
// changed (see tocsin.KeyChangedAt).
func (db *DB) TLSKeys(ctx context.Context, checkID int64) ([]*tocsin.TLSKeySeen, error) {
	by, _, err := db.read().certRows(ctx, ` WHERE check_id = ?`, checkID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: tls keys: %w", err)
	}
	return tlsKeys(checkID, by[checkID]), nil
}

// StaleTLSKeys returns, per check that saw a certificate, the key its
// endpoint serves now (the one seen last) when that key was first seen
// before before: the endpoints that still serve an old key. By check.
func (db *DB) StaleTLSKeys(ctx context.Context, before time.Time) ([]*tocsin.TLSKeySeen, error) {
	by, ids, err := db.read().certRows(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: stale tls keys: %w", err)
	}
	var out []*tocsin.TLSKeySeen
	for _, id := range ids {
		if keys := tlsKeys(id, by[id]); len(keys) > 0 && keys[0].FirstSeen.Before(before) {
			out = append(out, keys[0])
		}
	}
	return out, nil
}
