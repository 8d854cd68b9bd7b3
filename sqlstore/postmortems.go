package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Post-mortems: each state change is a conditional UPDATE on the revision
// (and status) read in the same transaction, so that on PostgreSQL an
// approval racing an edit fails instead of approving a text nobody read.

const postmortemColumns = `incident_id, summary, impact, root_cause, went_well, changes, status, revision,
	approved_by, approved_at, published_by, published_at, created_at, updated_at, published_sha256`

func scanPostmortem(sc rowScanner) (*tocsin.Postmortem, error) {
	var p tocsin.Postmortem
	err := sc.Scan(&p.IncidentID, &p.Summary, &p.Impact, &p.RootCause, &p.WentWell, &p.Changes, &p.Status, &p.Revision,
		&p.ApprovedBy, nullTimeScan{&p.ApprovedAt}, &p.PublishedBy, nullTimeScan{&p.PublishedAt},
		timeScan{&p.CreatedAt}, timeScan{&p.UpdatedAt}, &p.PublishedSHA256)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func postmortemNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "incident %d has no post-mortem", id).WithKey("postmortems.none", id)
}

// fillPostmortems reads the timelines and contributors of ps in two queries.
func (c conn) fillPostmortems(ctx context.Context, ps []*tocsin.Postmortem) error {
	if len(ps) == 0 {
		return nil
	}
	byID := make(map[int64]*tocsin.Postmortem, len(ps))
	ids := make([]int64, len(ps))
	for i, p := range ps {
		byID[p.IncidentID], ids[i] = p, p.IncidentID
		p.Timeline, p.Contributors = nil, nil
	}
	arg := jsonIDs(ids)
	type entry struct {
		id int64
		tocsin.TimelineEntry
	}
	entries, err := list(ctx, c, func(sc rowScanner) (entry, error) {
		var e entry
		err := sc.Scan(&e.id, timeScan{&e.At}, &e.Text)
		return e, err
	}, `SELECT incident_id, at, text FROM postmortem_timeline WHERE incident_id IN (`+c.idsIn()+`) ORDER BY incident_id, position`, arg)
	if err != nil {
		return fmt.Errorf("post-mortem timelines: %w", err)
	}
	for _, e := range entries {
		p := byID[e.id]
		p.Timeline = append(p.Timeline, e.TimelineEntry)
	}
	type contributor struct {
		id int64
		tocsin.Contributor
	}
	cs, err := list(ctx, c, func(sc rowScanner) (contributor, error) {
		var x contributor
		err := sc.Scan(&x.id, &x.Key, &x.Label)
		return x, err
	}, `SELECT incident_id, actor_key, label FROM postmortem_contributors WHERE incident_id IN (`+c.idsIn()+`) ORDER BY incident_id, position`, arg)
	if err != nil {
		return fmt.Errorf("post-mortem contributors: %w", err)
	}
	for _, x := range cs {
		p := byID[x.id]
		p.Contributors = append(p.Contributors, x.Contributor)
	}
	return nil
}

func (c conn) postmortem(ctx context.Context, incidentID int64) (*tocsin.Postmortem, error) {
	return one(ctx, c, scanPostmortem, c.fillPostmortems, postmortemNotFound(incidentID), `SELECT `+postmortemColumns+` FROM postmortems WHERE incident_id = ?`, incidentID)
}

// Postmortem returns incident incidentID's post-mortem with its timeline
// (in time order) and contributors (in order of first contribution);
// ENOTFOUND if it has none.
func (db *DB) Postmortem(ctx context.Context, incidentID int64) (*tocsin.Postmortem, error) {
	p, err := db.read().postmortem(ctx, incidentID)
	return p, wrapErr(err)
}

// PublishedPostmortems returns every published post-mortem, most recently
// published first, in three queries.
func (db *DB) PublishedPostmortems(ctx context.Context) ([]*tocsin.Postmortem, error) {
	c := db.read()
	out, err := list(ctx, c, scanPostmortem, `SELECT `+postmortemColumns+` FROM postmortems
		WHERE status = 'published' ORDER BY published_at DESC, incident_id DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: post-mortems: %w", err)
	}
	if err := c.fillPostmortems(ctx, out); err != nil {
		return nil, fmt.Errorf("sqlstore: post-mortems: %w", err)
	}
	return out, nil
}

func postmortemTarget(id int64) string { return fmt.Sprintf("postmortem:%d", id) }

// postmortemState is what an audit entry says of a post-mortem's standing.
func postmortemState(p *tocsin.Postmortem) string {
	s := fmt.Sprintf("status=%s revision=%d", p.Status, p.Revision)
	if p.ApprovedBy != "" {
		s += " approved_by=" + p.ApprovedBy
	}
	return s
}

// changedSections names the parts of the text that differ between a and b.
func changedSections(a, b *tocsin.Postmortem) string {
	var out []string
	for _, f := range []struct {
		name string
		x, y string
	}{{"summary", a.Summary, b.Summary}, {"impact", a.Impact, b.Impact}, {"root_cause", a.RootCause, b.RootCause},
		{"went_well", a.WentWell, b.WentWell}, {"changes", a.Changes, b.Changes}} {
		if f.x != f.y {
			out = append(out, f.name)
		}
	}
	if !(&tocsin.Postmortem{Timeline: a.Timeline}).SameText(&tocsin.Postmortem{Timeline: b.Timeline}) {
		out = append(out, "timeline")
	}
	return strings.Join(out, ",")
}

// SavePostmortem validates p and stores its text as the incident's
// post-mortem: created at revision 1, or edited as the next revision. The
// actor joins the contributors. Editing an approved post-mortem withdraws
// the approval: it is a draft again, and the audit entry "postmortem.edit"
// says "approval=withdrawn". An unchanged text writes nothing. ENOTFOUND
// for an unknown incident, ECONFLICT for a published post-mortem or an
// edit racing another. p is then filled from the store.
func (db *DB) SavePostmortem(ctx context.Context, a tocsin.Actor, p *tocsin.Postmortem) error {
	now := db.now()
	if err := p.Validate(now); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error { return tx.savePostmortem(ctx, a, p, now) })
}

// savePostmortem writes a validated p in tx (see SavePostmortem); a
// security incident's room assembles its draft with it.
func (tx conn) savePostmortem(ctx context.Context, a tocsin.Actor, p *tocsin.Postmortem, now time.Time) error {
	var one int
	err := tx.queryRow(ctx, `SELECT 1 FROM incidents WHERE id = ?`, p.IncidentID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return incidentNotFound(p.IncidentID)
	}
	if err != nil {
		return err
	}
	old, err := tx.postmortem(ctx, p.IncidentID)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	action, before, after := "postmortem.create", "", ""
	if old == nil {
		if _, err := tx.exec(ctx, `INSERT INTO postmortems (incident_id, summary, impact, root_cause, went_well, changes, status, revision, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
			p.IncidentID, p.Summary, p.Impact, p.RootCause, p.WentWell, p.Changes, string(tocsin.PostmortemDraft), now, now); err != nil {
			return err
		}
		after = fmt.Sprintf("status=draft revision=1 summary=%s timeline=%d", bodySummary(p.Summary), len(p.Timeline))
	} else {
		if err := old.CheckEdit(); err != nil {
			return err
		}
		if old.SameText(p) {
			*p = *old
			return nil
		}
		action, before = "postmortem.edit", postmortemState(old)
		after = fmt.Sprintf("status=draft revision=%d changed=%s", old.Revision+1, changedSections(old, p))
		if old.Status == tocsin.PostmortemApproved {
			after += " approval=withdrawn"
		}
		if err := tx.execOne(ctx, tocsin.Errorf(tocsin.ECONFLICT, "the post-mortem changed meanwhile: reload it").WithKey("postmortems.changed_meanwhile"),
			`UPDATE postmortems SET summary = ?, impact = ?, root_cause = ?, went_well = ?, changes = ?, status = 'draft',
			revision = revision + 1, approved_by = '', approved_at = NULL, updated_at = ?
			WHERE incident_id = ? AND revision = ? AND status <> 'published'`,
			p.Summary, p.Impact, p.RootCause, p.WentWell, p.Changes, now, p.IncidentID, old.Revision); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM postmortem_timeline WHERE incident_id = ?`, p.IncidentID); err != nil {
			return err
		}
	}
	for i, e := range p.Timeline {
		if _, err := tx.exec(ctx, `INSERT INTO postmortem_timeline (incident_id, position, at, text) VALUES (?, ?, ?, ?)`,
			p.IncidentID, i, e.At, e.Text); err != nil {
			return err
		}
	}
	key := tocsin.ActorKey(a)
	if old == nil || !old.ContributedBy(key) {
		n := 0
		if old != nil {
			n = len(old.Contributors)
		}
		if _, err := tx.exec(ctx, `INSERT INTO postmortem_contributors (incident_id, actor_key, label, position) VALUES (?, ?, ?, ?)`,
			p.IncidentID, key, a.Label, n); err != nil {
			return err
		}
	}
	if err := tx.audit(ctx, a, action, postmortemTarget(p.IncidentID), before, after); err != nil {
		return err
	}
	saved, err := tx.postmortem(ctx, p.IncidentID)
	if err != nil {
		return err
	}
	*p = *saved
	return nil
}

// ApprovePostmortem approves revision of incident incidentID's post-mortem
// for a, who holds roles, with the audit entry "postmortem.approve". The
// rules are tocsin.Postmortem.CheckApprove's: EFORBIDDEN for a
// non-approver or a contributor, ECONFLICT for a text that changed since
// revision or is already approved or published; ENOTFOUND if there is no
// post-mortem.
func (db *DB) ApprovePostmortem(ctx context.Context, a tocsin.Actor, roles tocsin.Roles, incidentID int64, revision int) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		p, err := tx.postmortem(ctx, incidentID)
		if err != nil {
			return err
		}
		if err := p.CheckApprove(tocsin.ActorKey(a), roles, revision); err != nil {
			return err
		}
		if err := tx.execOne(ctx, tocsin.Errorf(tocsin.ECONFLICT, "the post-mortem changed meanwhile: reload it").WithKey("postmortems.changed_meanwhile"),
			`UPDATE postmortems SET status = 'approved', approved_by = ?, approved_at = ?, updated_at = ?
			WHERE incident_id = ? AND revision = ? AND status = 'draft'`, a.Label, now, now, incidentID, revision); err != nil {
			return err
		}
		before := postmortemState(p)
		p.Status, p.ApprovedBy = tocsin.PostmortemApproved, a.Label
		return tx.audit(ctx, a, "postmortem.approve", postmortemTarget(incidentID), before, postmortemState(p))
	})
}

// PublishPostmortem publishes incident incidentID's approved post-mortem
// and sets the incident's status to postmortem, as Statuspage does, with
// the audit entry "postmortem.publish" and msgs. The incident's updates
// are left as they are: the post-mortem is its own page. ECONFLICT when
// the current text is not approved, or the incident is a draft or still
// open (tocsin.Postmortem.CheckPublish); ENOTFOUND without a post-mortem.
func (db *DB) PublishPostmortem(ctx context.Context, a tocsin.Actor, incidentID int64, msgs []*tocsin.Message) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		p, err := tx.postmortem(ctx, incidentID)
		if err != nil {
			return err
		}
		inc, err := scanIncident(tx.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, incidentID))
		if err != nil {
			return err
		}
		if err := p.CheckPublish(inc); err != nil {
			return err
		}
		// The text as published, frozen from now on (CheckEdit), is named
		// by its digest in the column and in the audit entry.
		digest := p.Digest()
		if err := tx.execOne(ctx, tocsin.Errorf(tocsin.ECONFLICT, "the post-mortem changed meanwhile: reload it").WithKey("postmortems.changed_meanwhile"),
			`UPDATE postmortems SET status = 'published', published_by = ?, published_at = ?, updated_at = ?, published_sha256 = ?
			WHERE incident_id = ? AND revision = ? AND status = 'approved'`, a.Label, now, now, digest, incidentID, p.Revision); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?`,
			string(tocsin.IncidentPostmortem), now, incidentID); err != nil {
			return err
		}
		before := postmortemState(p)
		p.Status = tocsin.PostmortemPublished
		after := postmortemState(p) + fmt.Sprintf(" incident_status=%s→postmortem sha256=%s", inc.Status, digest)
		if err := tx.audit(ctx, a, "postmortem.publish", postmortemTarget(incidentID), before, after); err != nil {
			return err
		}
		return tx.enqueue(ctx, msgs)
	})
}
