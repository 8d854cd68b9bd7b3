package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

// Results: the scheduler and the agents send batches (about 200); each is
// one transaction that stores the raw results with a few multi-row
// statements, then moves each check's standing in Go and saves them all
// with one statement. Only what changes — a check going down, a finding
// opening, a service's status — costs statements of its own.

// resultChunk bounds the rows of one INSERT (12 parameters each, well
// under both databases' limits).
const resultChunk = 400

// checkInBatch is a check of a batch with its standing, its service's
// name, its open findings and its certificate history, loaded once.
type checkInBatch struct {
	check       *tocsin.Check
	service     string
	status      *tocsin.CheckStatus
	before      tocsin.ServiceStatus // what it gave its service before the batch
	maintenance bool
	findings    map[tocsin.FindingKind]*tocsin.Finding // open ones
	certs       []*tlsCert                             // read when a result has a certificate
	certsRead   bool
}

// RecordCheckResults stores results in one transaction and follows them:
//   - a result whose Key was stored before (an agent resending) is skipped;
//     results of unknown checks are refused (EINVALID), nothing is stored;
//   - results of paused checks are stored and move nothing;
//   - each check's standing moves by tocsin.CheckStatus.Apply, in the
//     order the results started;
//   - a check going down opens a signal (source "check") with the
//     evidence, and pages on-call when the check says page — unless it is
//     flapping. Recovery is recorded in its standing (state up, changed_at)
//     and writes no signal: the open one tells the story;
//   - findings open and close (see findings.go), certificates are added
//     to their endpoint's history;
//   - each service whose checks changed what they give it takes the worst
//     status they give (as tocsin.Monitor), unless pinned by a person.
//
// A service under maintenance has its results stored, its findings kept
// and its certificates recorded, but its checks start over (pending) and
// move no status and open no signal: the maintenance silences them.
func (db *DB) RecordCheckResults(ctx context.Context, results []*tocsin.CheckResult) error {
	if len(results) == 0 {
		return nil
	}
	results, err := cleanResults(results)
	if err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		stored, err := tx.insertResults(ctx, results)
		if err != nil || len(stored) == 0 {
			return err
		}
		slices.SortStableFunc(stored, func(a, b *tocsin.CheckResult) int { return a.StartedAt.Compare(b.StartedAt) })
		checks, err := tx.loadBatchChecks(ctx, stored, now)
		if err != nil {
			return err
		}
		if err := tx.loadOpenFindings(ctx, checks); err != nil {
			return err
		}
		if err := tx.loadCerts(ctx, checks, stored); err != nil {
			return err
		}
		moved := map[int64]time.Time{} // service → when its checks changed
		var statuses []*tocsin.CheckStatus
		for _, r := range stored {
			cb := checks[r.CheckID]
			if cb == nil || cb.check.Paused {
				continue
			}
			if err := tx.followResult(ctx, db, cb, r, now); err != nil {
				return err
			}
		}
		for _, cb := range sortedChecks(checks) {
			if cb.check.Paused {
				continue
			}
			statuses = append(statuses, cb.status)
			if !cb.maintenance && cb.status.ServiceStatus(cb.check) != cb.before {
				at := now
				if cb.status.LastResult != nil {
					at = cb.status.LastResult.StartedAt
				}
				if t, ok := moved[cb.check.ServiceID]; !ok || at.After(t) {
					moved[cb.check.ServiceID] = at
				}
			}
		}
		if err := tx.saveCerts(ctx, sortedChecks(checks)); err != nil {
			return err
		}
		if err := tx.saveCheckStatuses(ctx, statuses); err != nil {
			return err
		}
		services := make([]int64, 0, len(moved))
		for id := range moved {
			services = append(services, id)
		}
		slices.Sort(services)
		for _, id := range services {
			if err := tx.applyServiceStatus(ctx, id, moved[id]); err != nil {
				return err
			}
		}
		return nil
	})
}

// cleanResults refuses results that cannot be stored and returns copies
// whose error text is plain (see plainText): a probe brings back whatever
// a server sent.
func cleanResults(results []*tocsin.CheckResult) ([]*tocsin.CheckResult, error) {
	out := make([]*tocsin.CheckResult, len(results))
	for i, r := range results {
		switch {
		case r == nil || r.CheckID <= 0:
			return nil, tocsin.Errorf(tocsin.EINVALID, "result %d names no check", i+1)
		case r.StartedAt.IsZero():
			return nil, tocsin.Errorf(tocsin.EINVALID, "result %d (check %d) has no start time", i+1, r.CheckID)
		case r.Duration < 0:
			return nil, tocsin.Errorf(tocsin.EINVALID, "result %d (check %d) lasted a negative time", i+1, r.CheckID)
		case !oneLine(r.Location, 100):
			return nil, tocsin.Errorf(tocsin.EINVALID, "result %d (check %d): a location is one line of at most 100 characters", i+1, r.CheckID)
		case !oneLine(r.Key, 200):
			return nil, tocsin.Errorf(tocsin.EINVALID, "result %d (check %d): a key is one line of at most 200 characters", i+1, r.CheckID)
		}
		c := *r
		c.StartedAt = c.StartedAt.UTC().Truncate(time.Microsecond)
		c.Error = cut(plainText(c.Error), 2000)
		out[i] = &c
	}
	return out, nil
}

func oneLine(s string, most int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= most && strings.IndexFunc(s, unicode.IsControl) < 0
}

// plainText makes text a probe brought back storable in both databases and
// fit for a signal: valid UTF-8, no control characters but tabs and line
// feeds.
func plainText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func sortedChecks(m map[int64]*checkInBatch) []*checkInBatch {
	out := make([]*checkInBatch, 0, len(m))
	for _, cb := range m {
		out = append(out, cb)
	}
	slices.SortFunc(out, func(a, b *checkInBatch) int { return cmp.Compare(a.check.ID, b.check.ID) })
	return out
}

// insertResults stores results and returns those stored: a Key seen before
// (in the database or earlier in the batch) is skipped.
func (c conn) insertResults(ctx context.Context, results []*tocsin.CheckResult) ([]*tocsin.CheckResult, error) {
	keyed := map[string]bool{}
	batch := make([]*tocsin.CheckResult, 0, len(results))
	for _, r := range results {
		if r.Key != "" {
			if keyed[r.Key] {
				continue
			}
			keyed[r.Key] = true
		}
		batch = append(batch, r)
	}
	var stored []*tocsin.CheckResult
	for len(batch) > 0 {
		n := min(len(batch), resultChunk)
		chunk := batch[:n]
		batch = batch[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO check_results (check_id, location, result_key, started_at, duration_us, ok, degraded, status_code, error, tls, bucket) VALUES `)
		args := make([]any, 0, n*11)
		hasKey := false
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			var key, tlsJSON, bucketJSON any
			if r.Key != "" {
				key, hasKey = r.Key, true
			}
			if r.TLS != nil {
				j, err := json.Marshal(r.TLS)
				if err != nil {
					return nil, err
				}
				tlsJSON = string(j)
			}
			if r.Bucket != nil {
				j, err := json.Marshal(r.Bucket)
				if err != nil {
					return nil, err
				}
				bucketJSON = string(j)
			}
			args = append(args, r.CheckID, r.Location, key, r.StartedAt, r.Duration.Microseconds(), r.OK, r.Degraded, r.StatusCode,
				r.Error, tlsJSON, bucketJSON)
		}
		if !hasKey {
			if _, err := c.exec(ctx, b.String(), args...); err != nil {
				return nil, resultsErr(err)
			}
			stored = append(stored, chunk...)
			continue
		}
		// Rows whose key exists are skipped; RETURNING names the keys kept.
		b.WriteString(` ON CONFLICT (result_key) DO NOTHING RETURNING result_key`)
		keys, err := list(ctx, c, func(sc rowScanner) (sql.NullString, error) {
			var k sql.NullString
			err := sc.Scan(&k)
			return k, err
		}, b.String(), args...)
		if err != nil {
			return nil, resultsErr(err)
		}
		kept := make(map[string]bool, len(keys))
		for _, k := range keys {
			kept[k.String] = k.Valid
		}
		for _, r := range chunk {
			if r.Key == "" || kept[r.Key] {
				stored = append(stored, r)
			}
		}
	}
	return stored, nil
}

// resultsErr words a foreign-key failure: a result of a check that does not
// exist (deleted while the result was on its way).
func resultsErr(err error) error {
	if strings.Contains(strings.ToLower(err.Error()), "foreign key") {
		return tocsin.Errorf(tocsin.EINVALID, "a result names a check that does not exist: %v", err)
	}
	return err
}

// loadBatchChecks reads the checks of results with their standing and
// service, and notes what each gave its service before.
func (c conn) loadBatchChecks(ctx context.Context, results []*tocsin.CheckResult, now time.Time) (map[int64]*checkInBatch, error) {
	var ids []int64
	seen := map[int64]bool{}
	for _, r := range results {
		if !seen[r.CheckID] {
			seen[r.CheckID] = true
			ids = append(ids, r.CheckID)
		}
	}
	under, err := c.servicesUnderMaintenance(ctx, now)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*checkInBatch, len(ids))
	// In PostgreSQL two batches (the scheduler's, an agent's) may carry
	// results of one check at once: the second waits for the first's
	// standing rather than overwrite it. SQLite has one writer anyway.
	lock := ""
	if c.dialect == DialectPostgres {
		lock = ` FOR UPDATE OF s`
	}
	cols := prefixColumns("c.", checkColumns)
	scols := prefixColumns("s.", checkStatusColumns)
	for len(ids) > 0 {
		n := min(len(ids), 500)
		part := ids[:n]
		ids = ids[n:]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := c.query(ctx, `SELECT `+cols+`, `+scols+`, v.name FROM checks c
			JOIN check_status s ON s.check_id = c.id JOIN services v ON v.id = c.service_id
			WHERE c.id IN (?`+strings.Repeat(", ?", n-1)+`) ORDER BY c.id`+lock, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			cb, err := scanBatchCheck(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			cb.maintenance = under[cb.check.ServiceID]
			cb.before = cb.status.ServiceStatus(cb.check)
			out[cb.check.ID] = cb
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanBatchCheck scans checkColumns, checkStatusColumns and the service's
// name from one row.
func scanBatchCheck(sc rowScanner) (*checkInBatch, error) {
	var (
		cs   checkScan
		ss   statusScan
		name string
	)
	if err := sc.Scan(append(append(cs.dests(), ss.dests()...), &name)...); err != nil {
		return nil, err
	}
	ch, err := cs.finish()
	if err != nil {
		return nil, err
	}
	st, err := ss.finish()
	if err != nil {
		return nil, err
	}
	return &checkInBatch{check: ch, service: name, status: st}, nil
}

// followResult moves cb's standing by r and does what the move calls for.
func (c conn) followResult(ctx context.Context, db *DB, cb *checkInBatch, r *tocsin.CheckResult, now time.Time) error {
	st := cb.status
	if cb.maintenance {
		// Silenced: the last result shows, nothing moves.
		st.Reset()
		at := notAfter(r.StartedAt, now)
		st.LastResult = &tocsin.CheckResult{CheckID: r.CheckID, Location: r.Location, StartedAt: at, Duration: r.Duration,
			OK: r.OK, Degraded: r.Degraded, StatusCode: r.StatusCode, Error: r.Error}
		if r.OK {
			st.LastSuccess = &at
		}
	} else {
		tr := st.Apply(cb.check, r, now)
		if tr.Ignored {
			return nil
		}
		if (tr.WentDown() && !st.Flapping) || (tr.FlapEnded && st.State == tocsin.CheckDown) {
			if err := c.checkDownSignal(ctx, db, cb, r, tr); err != nil {
				return err
			}
		}
		if tr.Changed() || tr.FlapStarted || tr.FlapEnded {
			after := "state=" + string(tr.To)
			if st.Flapping {
				after += " flapping"
			}
			if err := c.audit(ctx, tocsin.Monitor, "check.state", checkTarget(cb.check.ID), "state="+string(tr.From), after); err != nil {
				return err
			}
		}
	}
	return c.followFindings(ctx, db, cb, r, now)
}

// checkDownSignal opens the signal of a check gone down, with the
// evidence, and pages on-call when the check says page.
func (c conn) checkDownSignal(ctx context.Context, db *DB, cb *checkInBatch, r *tocsin.CheckResult, tr tocsin.CheckTransition) error {
	ch, st := cb.check, cb.status
	at := notAfter(r.StartedAt, c.now())
	subject := fmt.Sprintf("%s: %s is down", cb.service, ch.Name)
	var b strings.Builder
	fmt.Fprintf(&b, "Check: %s (%s %s)\n", ch.Name, ch.Kind, ch.Target())
	fmt.Fprintf(&b, "Service: %s, now %s unless pinned or under maintenance\n", cb.service, ch.FailStatus)
	if tr.FlapEnded {
		b.WriteString("It was flapping, and has stayed down.\n")
	}
	var locs []string
	for name, l := range st.Locations {
		if l.Down {
			locs = append(locs, locationName(name))
		}
	}
	slices.Sort(locs)
	fmt.Fprintf(&b, "Down from: %s (quorum %d)\n", strings.Join(locs, ", "), ch.Quorum)
	fmt.Fprintf(&b, "Consecutive failures: %d (threshold %d)\n", st.Fails, ch.FailThreshold)
	fmt.Fprintf(&b, "Last result: %s from %s, after %s", at.Format(time.RFC3339), locationName(r.Location), r.Duration.Round(time.Millisecond))
	if r.StatusCode != 0 {
		fmt.Fprintf(&b, ", status %d", r.StatusCode)
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", cut(r.Error, 2000))
	}
	_, err := c.openSignal(ctx, db, subject, b.String(), at, ch.Page)
	return err
}

func locationName(l string) string {
	if l == "" {
		return "tocsin"
	}
	return l
}

// openSignal stores a signal of source "check" as tocsin.Monitor and pages
// on-call with it when page is true.
func (c conn) openSignal(ctx context.Context, db *DB, subject, body string, at time.Time, page bool) (*tocsin.Signal, error) {
	s := &tocsin.Signal{Source: tocsin.SourceCheck, Subject: cut(strings.Join(strings.Fields(plainText(subject)), " "), tocsin.MaxSignalSubject),
		Body: cut(plainText(body), tocsin.MaxSignalBody/4), ReceivedAt: at.UTC().Truncate(time.Microsecond)}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := c.insertSignal(ctx, tocsin.Monitor, s); err != nil {
		return nil, err
	}
	if page {
		if _, err := c.openPage(ctx, db.composer(), tocsin.Monitor, &tocsin.Page{SignalID: &s.ID, Subject: s.Subject}, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// CheckResults returns check checkID's raw results started at or after
// since, newest first; limit defaults to 100 and is at most 10,000.
func (db *DB) CheckResults(ctx context.Context, checkID int64, since time.Time, limit int) ([]*tocsin.CheckResult, error) {
	out, err := list(ctx, db.read(), scanCheckResult, `SELECT check_id, location, result_key, started_at, duration_us, ok, degraded,
		status_code, error, tls, bucket FROM check_results WHERE check_id = ? AND started_at >= ? ORDER BY started_at DESC, id DESC LIMIT ?`,
		checkID, since, limitOr(limit, 100, 10000))
	if err == nil {
		// Results of folded hours are packed (check_blocks.go).
		out, err = db.withPackedResults(ctx, checkID, since, limitOr(limit, 100, 10000), out)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: check results: %w", err)
	}
	return out, nil
}

func scanCheckResult(sc rowScanner) (*tocsin.CheckResult, error) {
	var (
		r                    tocsin.CheckResult
		key, tlsJSON, bucket sql.NullString
		durationUS           int64
	)
	err := sc.Scan(&r.CheckID, &r.Location, &key, timeScan{&r.StartedAt}, &durationUS, &r.OK, &r.Degraded, &r.StatusCode, &r.Error,
		&tlsJSON, &bucket)
	if err != nil {
		return nil, err
	}
	r.Key, r.Duration = key.String, time.Duration(durationUS)*time.Microsecond
	if tlsJSON.Valid {
		r.TLS = &tocsin.TLSObservation{}
		if err := json.Unmarshal([]byte(tlsJSON.String), r.TLS); err != nil {
			return nil, fmt.Errorf("result tls: %w", err)
		}
	}
	if bucket.Valid {
		r.Bucket = &tocsin.BucketObservation{}
		if err := json.Unmarshal([]byte(bucket.String), r.Bucket); err != nil {
			return nil, fmt.Errorf("result bucket: %w", err)
		}
	}
	return &r, nil
}

// prefixColumns qualifies each column of a list with prefix ("c.").
func prefixColumns(prefix, columns string) string {
	fields := strings.Split(columns, ",")
	for i, f := range fields {
		fields[i] = prefix + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}
