package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/tocsin-org/tocsin"
)

// Runbooks: one row per runbook holding its current version's number and
// title, and one row per version holding the Markdown. Audit target
// "runbook:N".

func runbookTarget(id int64) string { return "runbook:" + strconv.FormatInt(id, 10) }

func runbookNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "runbook %d does not exist", id).WithKey("runbook.not_found", id)
}

const runbookSelect = `SELECT r.id, r.slug, r.lang, r.title, r.version, r.builtin, r.updated_by, r.updated_at, v.markdown
	FROM runbooks r JOIN runbook_versions v ON v.runbook_id = r.id`

func scanRunbook(sc rowScanner) (*tocsin.Runbook, error) {
	var rb tocsin.Runbook
	err := sc.Scan(&rb.ID, &rb.Slug, &rb.Lang, &rb.Title, &rb.Version, &rb.Builtin, &rb.UpdatedBy, timeScan{&rb.UpdatedAt}, &rb.Markdown)
	return &rb, err
}

// Runbooks lists the current version of every runbook, by title and
// language, without parsing them.
func (db *DB) Runbooks(ctx context.Context) ([]*tocsin.Runbook, error) {
	out, err := list(ctx, db.read(), scanRunbook, runbookSelect+` AND v.version = r.version ORDER BY r.title, r.lang, r.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: runbooks: %w", err)
	}
	return out, nil
}

// Runbook returns runbook id at version (0: the current one), parsed;
// ENOTFOUND for an unknown runbook or version.
func (db *DB) Runbook(ctx context.Context, id int64, version int) (*tocsin.Runbook, error) {
	rb, err := db.read().runbook(ctx, id, version)
	return rb, wrapErr(err)
}

func (c conn) runbook(ctx context.Context, id int64, version int) (*tocsin.Runbook, error) {
	q := runbookSelect + ` AND v.version = r.version WHERE r.id = ?`
	args := []any{id}
	if version > 0 {
		q = runbookSelect + ` AND v.version = ? WHERE r.id = ?`
		args = []any{version, id}
	}
	rb, err := scanRunbook(c.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbookNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if version > 0 {
		rb.Version = version
	}
	parsed, err := tocsin.ParseRunbook(rb.Markdown)
	if err != nil {
		return nil, fmt.Errorf("runbook %d version %d no longer parses: %w", id, rb.Version, err)
	}
	rb.Title, rb.Description, rb.Items = parsed.Title, parsed.Description, parsed.Items
	return rb, nil
}

// RunbookVersions lists runbook id's versions, newest first.
func (db *DB) RunbookVersions(ctx context.Context, id int64) ([]tocsin.RunbookVersion, error) {
	c := db.read()
	out, err := list(ctx, c, func(sc rowScanner) (tocsin.RunbookVersion, error) {
		var v tocsin.RunbookVersion
		err := sc.Scan(&v.Version, &v.Title, &v.Markdown, &v.CreatedBy, timeScan{&v.CreatedAt})
		return v, err
	}, `SELECT version, title, markdown, created_by, created_at FROM runbook_versions WHERE runbook_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: runbook versions: %w", err)
	}
	if len(out) == 0 {
		return nil, runbookNotFound(id)
	}
	return out, nil
}

// SaveRunbook creates rb (ID 0, by Slug and Lang; ECONFLICT when they are
// taken) or stores rb.Markdown as runbook rb.ID's next version, with the
// audit entry "runbook.create" or "runbook.edit". The same text as the
// current version stores nothing. rb is then filled from the store.
func (db *DB) SaveRunbook(ctx context.Context, a tocsin.Actor, rb *tocsin.Runbook) error {
	parsed, err := tocsin.ParseRunbook(rb.Markdown)
	if err != nil {
		return err
	}
	if err := tocsin.ValidateLang(rb.Lang); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		if rb.ID == 0 {
			if err := tocsin.ValidateSlug(rb.Slug); err != nil {
				return err
			}
			if _, err := tx.runbookBySlug(ctx, rb.Slug, rb.Lang); err == nil {
				return tocsin.Errorf(tocsin.ECONFLICT, "there is already a runbook named %s", rb.Slug).WithKey("runbook.slug_taken", rb.Slug)
			} else if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
				return err
			}
			if err := tx.createRunbook(ctx, a, rb, parsed, false); err != nil {
				return err
			}
		} else {
			old, err := tx.runbook(ctx, rb.ID, 0)
			if err != nil {
				return err
			}
			if old.Markdown != rb.Markdown {
				if err := tx.addRunbookVersion(ctx, a, old, parsed, false, "runbook.edit"); err != nil {
					return err
				}
			}
		}
		got, err := tx.runbook(ctx, rb.ID, 0)
		if err != nil {
			return err
		}
		*rb = *got
		return nil
	})
}

// runbookBySlug returns the current version of the runbook named slug in
// lang, unparsed.
func (c conn) runbookBySlug(ctx context.Context, slug, lang string) (*tocsin.Runbook, error) {
	rb, err := scanRunbook(c.queryRow(ctx, runbookSelect+` AND v.version = r.version WHERE r.slug = ? AND r.lang = ?`, slug, lang))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tocsin.Errorf(tocsin.ENOTFOUND, "there is no runbook named %s", slug).WithKey("runbook.no_slug", slug)
	}
	return rb, err
}

func (c conn) createRunbook(ctx context.Context, a tocsin.Actor, rb, parsed *tocsin.Runbook, builtin bool) error {
	now := c.now()
	if err := c.queryRow(ctx, `INSERT INTO runbooks (slug, lang, title, version, builtin, updated_by, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?) RETURNING id`,
		rb.Slug, rb.Lang, parsed.Title, builtin, a.Label, now).Scan(&rb.ID); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `INSERT INTO runbook_versions (runbook_id, version, title, markdown, created_by, created_at) VALUES (?, 1, ?, ?, ?, ?)`,
		rb.ID, parsed.Title, parsed.Markdown, a.Label, now); err != nil {
		return err
	}
	return c.audit(ctx, a, "runbook.create", runbookTarget(rb.ID), "",
		fmt.Sprintf("slug=%s lang=%s title=%s items=%d builtin=%t", rb.Slug, rb.Lang, bodySummary(parsed.Title), len(parsed.Items), builtin))
}

func (c conn) addRunbookVersion(ctx context.Context, a tocsin.Actor, old, parsed *tocsin.Runbook, builtin bool, action string) error {
	now := c.now()
	v := old.Version + 1
	if _, err := c.exec(ctx, `INSERT INTO runbook_versions (runbook_id, version, title, markdown, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		old.ID, v, parsed.Title, parsed.Markdown, a.Label, now); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `UPDATE runbooks SET title = ?, version = ?, builtin = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
		parsed.Title, v, builtin, a.Label, now, old.ID); err != nil {
		return err
	}
	return c.audit(ctx, a, action, runbookTarget(old.ID), fmt.Sprintf("version=%d", old.Version),
		fmt.Sprintf("version=%d title=%s items=%d", v, bodySummary(parsed.Title), len(parsed.Items)))
}

// ImportRunbook stores rb.Markdown as the runbook named rb.Slug in
// rb.Lang: a new runbook, a new version when the text differs, nothing
// when it is the same. A builtin import replaces only a runbook whose
// current version is still a shipped one (ImportKept otherwise), so an
// edit made here is never overwritten.
func (db *DB) ImportRunbook(ctx context.Context, a tocsin.Actor, rb *tocsin.Runbook, builtin bool) (tocsin.RunbookImport, error) {
	parsed, err := tocsin.ParseRunbook(rb.Markdown)
	if err != nil {
		return "", err
	}
	if err := tocsin.ValidateSlug(rb.Slug); err != nil {
		return "", err
	}
	if err := tocsin.ValidateLang(rb.Lang); err != nil {
		return "", err
	}
	var result tocsin.RunbookImport
	err = db.update(ctx, func(tx conn) error {
		old, err := tx.runbookBySlug(ctx, rb.Slug, rb.Lang)
		switch {
		case tocsin.ErrorCode(err) == tocsin.ENOTFOUND:
			result = tocsin.ImportCreated
			return tx.createRunbook(ctx, a, rb, parsed, builtin)
		case err != nil:
			return err
		}
		rb.ID = old.ID
		switch {
		case old.Markdown == rb.Markdown:
			result = tocsin.ImportUnchanged
			return nil
		case builtin && !old.Builtin:
			result = tocsin.ImportKept
			return nil
		}
		result = tocsin.ImportUpdated
		return tx.addRunbookVersion(ctx, a, old, parsed, builtin, "runbook.import")
	})
	return result, err
}
