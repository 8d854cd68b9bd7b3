package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

// A group is the group_name of its services: it exists while one names it.
// Names are unique by name_key, strings.ToLower(name), the same fold as the
// configuration file's check.

const serviceColumns = `id, name, description, link, group_name, position, status, config_managed, status_pinned, created_at, updated_at`

func scanService(sc rowScanner) (*tocsin.Service, error) {
	var s tocsin.Service
	err := sc.Scan(&s.ID, &s.Name, &s.Description, &s.Link, &s.Group, &s.Position, &s.Status, &s.ConfigManaged, &s.StatusPinned,
		timeScan{&s.CreatedAt}, timeScan{&s.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func serviceNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "service %d does not exist", id)
}

func serviceTarget(id int64) string { return fmt.Sprintf("service:%d", id) }

func nameKey(name string) string { return strings.ToLower(name) }

func configManagedErr(s *tocsin.Service) error {
	return tocsin.Errorf(tocsin.ECONFLICT, "service %q is declared in the configuration file; change it there", s.Name)
}

// service reads one service inside a transaction (or the read pool).
func (c conn) service(ctx context.Context, id int64) (*tocsin.Service, error) {
	s, err := scanService(c.queryRow(ctx, `SELECT `+serviceColumns+` FROM services WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, serviceNotFound(id)
	}
	return s, err
}

// checkServiceName returns ECONFLICT if a service other than id has name,
// compared case-insensitively.
func (c conn) checkServiceName(ctx context.Context, name string, id int64) error {
	var other string
	err := c.queryRow(ctx, `SELECT name FROM services WHERE name_key = ? AND id <> ?`, nameKey(name), id).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return tocsin.Errorf(tocsin.ECONFLICT, "a service named %q already exists; choose another name", other)
}

// insertService inserts s, valid and named uniquely, with its first history
// row at its creation, and sets its ID and times.
func (c conn) insertService(ctx context.Context, s *tocsin.Service, now time.Time) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.CreatedAt = s.CreatedAt.UTC().Truncate(time.Microsecond)
	s.UpdatedAt = s.CreatedAt
	err := c.queryRow(ctx, `INSERT INTO services (name, name_key, description, link, group_name, position, status, config_managed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.Name, nameKey(s.Name), s.Description, s.Link, s.Group, s.Position, string(s.Status), s.ConfigManaged, s.CreatedAt, s.UpdatedAt).Scan(&s.ID)
	if err != nil {
		return err
	}
	return c.insertStatusChange(ctx, s.ID, s.Status, s.CreatedAt)
}

func (c conn) insertStatusChange(ctx context.Context, id int64, status tocsin.ServiceStatus, at time.Time) error {
	_, err := c.exec(ctx, `INSERT INTO service_status_history (service_id, status, at) VALUES (?, ?, ?)`, id, string(status), at)
	return err
}

// Services returns every service: ungrouped services first, then groups in
// the order of their smallest position, then of their name; within a group
// by position, then name. Names compare case-insensitively, then exactly, in
// Go, so that both dialects order them alike whatever their collation.
func (db *DB) Services(ctx context.Context) ([]*tocsin.Service, error) {
	out, err := list(ctx, db.read(), scanService, `SELECT `+serviceColumns+` FROM services`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: services: %w", err)
	}
	sortServices(out)
	return out, nil
}

func sortServices(ss []*tocsin.Service) {
	groupPos := map[string]int{}
	for _, s := range ss {
		if p, ok := groupPos[s.Group]; !ok || s.Position < p {
			groupPos[s.Group] = s.Position
		}
	}
	byName := func(a, b string) int {
		return cmp.Or(strings.Compare(strings.ToLower(a), strings.ToLower(b)), strings.Compare(a, b))
	}
	slices.SortFunc(ss, func(a, b *tocsin.Service) int {
		if a.Group != b.Group {
			return cmp.Or(
				cmp.Compare(boolInt(a.Group != ""), boolInt(b.Group != "")),
				cmp.Compare(groupPos[a.Group], groupPos[b.Group]),
				byName(a.Group, b.Group))
		}
		return cmp.Or(cmp.Compare(a.Position, b.Position), byName(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Service returns the service with this ID; ENOTFOUND if there is none.
func (db *DB) Service(ctx context.Context, id int64) (*tocsin.Service, error) {
	s, err := db.read().service(ctx, id)
	return s, wrapErr(err)
}

// CreateService validates and inserts s, sets its ID and times, and starts
// its status history at its creation. Services made here are never
// config-managed (only SyncConfigServices makes those); ECONFLICT if a
// service has the same name in any case.
func (db *DB) CreateService(ctx context.Context, a tocsin.Actor, s *tocsin.Service) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.ConfigManaged = false
	return db.update(ctx, func(tx conn) error {
		if err := tx.checkServiceName(ctx, s.Name, 0); err != nil {
			return err
		}
		if err := tx.insertService(ctx, s, db.now()); err != nil {
			return err
		}
		after := fmt.Sprintf("name=%q group=%q position=%d status=%s", s.Name, s.Group, s.Position, s.Status)
		return tx.audit(ctx, a, "service.create", serviceTarget(s.ID), "", after)
	})
}

// UpdateService replaces the name, description, link, group and position of
// the service s.ID (its status and config flag are left alone) and fills s
// with the stored service. An update that changes nothing writes nothing.
// ENOTFOUND for an unknown service, ECONFLICT for a config-managed one or a
// name another service has.
func (db *DB) UpdateService(ctx context.Context, a tocsin.Actor, s *tocsin.Service) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		old, err := tx.service(ctx, s.ID)
		if err != nil {
			return err
		}
		if old.ConfigManaged {
			return configManagedErr(old)
		}
		if err := tx.checkServiceName(ctx, s.Name, s.ID); err != nil {
			return err
		}
		before, after := serviceDiff(old, s)
		s.Status, s.ConfigManaged, s.CreatedAt, s.UpdatedAt = old.Status, old.ConfigManaged, old.CreatedAt, old.UpdatedAt
		if before == "" && after == "" {
			return nil
		}
		s.UpdatedAt = db.now()
		if err := tx.updateServiceFields(ctx, s, false); err != nil {
			return err
		}
		return tx.audit(ctx, a, "service.update", serviceTarget(s.ID), before, after)
	})
}

func (c conn) updateServiceFields(ctx context.Context, s *tocsin.Service, configManaged bool) error {
	_, err := c.exec(ctx, `UPDATE services SET name = ?, name_key = ?, description = ?, link = ?, group_name = ?, position = ?,
		config_managed = ?, updated_at = ? WHERE id = ?`,
		s.Name, nameKey(s.Name), s.Description, s.Link, s.Group, s.Position, configManaged, s.UpdatedAt, s.ID)
	return err
}

// serviceDiff summarizes the editable fields that differ between was and
// is, as key=value lists for an audit entry; both "" if none does. Long
// descriptions are cut; one that differs only past the cut shows as changed.
func serviceDiff(was, is *tocsin.Service) (before, after string) {
	var b, a []string
	add := func(key, o, n string) {
		if o != n {
			b = append(b, key+"="+o)
			a = append(a, key+"="+n)
		}
	}
	add("name", fmt.Sprintf("%q", was.Name), fmt.Sprintf("%q", is.Name))
	add("group", fmt.Sprintf("%q", was.Group), fmt.Sprintf("%q", is.Group))
	add("position", fmt.Sprint(was.Position), fmt.Sprint(is.Position))
	add("link", fmt.Sprintf("%q", was.Link), fmt.Sprintf("%q", is.Link))
	if was.Description != is.Description {
		o, n := fmt.Sprintf("%q", cut(was.Description, 60)), fmt.Sprintf("%q", cut(is.Description, 60))
		if o == n {
			o, n = "(changed)", "(changed)"
		}
		b, a = append(b, "description="+o), append(a, "description="+n)
	}
	return strings.Join(b, " "), strings.Join(a, " ")
}

// cut shortens s to at most n runes, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// DeleteService removes a service and, by cascade, its status history.
// ENOTFOUND for an unknown service, ECONFLICT for a config-managed one.
func (db *DB) DeleteService(ctx context.Context, a tocsin.Actor, id int64) error {
	return db.update(ctx, func(tx conn) error {
		old, err := tx.service(ctx, id)
		if err != nil {
			return err
		}
		if old.ConfigManaged {
			return configManagedErr(old)
		}
		if _, err := tx.exec(ctx, `DELETE FROM services WHERE id = ?`, id); err != nil {
			return err
		}
		before := fmt.Sprintf("name=%q group=%q status=%s", old.Name, old.Group, old.Status)
		return tx.audit(ctx, a, "service.delete", serviceTarget(id), before, "")
	})
}

// SetServiceStatus records that the service entered status at at (now when
// zero); config-managed services included, since status is not
// configuration. Nothing is written when the status is unchanged. A change
// dated before the service's last recorded change is recorded at that
// change's time instead, so the history stays in order and its last row is
// always the current status. A person (any actor but tocsin.System and
// tocsin.Monitor) pins the status, even to the one it had: its checks stop
// moving it until UnpinServiceStatus ("service.pin" when only the pin
// changes).
func (db *DB) SetServiceStatus(ctx context.Context, a tocsin.Actor, id int64, status tocsin.ServiceStatus, at time.Time) error {
	status, err := tocsin.ParseServiceStatus(string(status))
	if err != nil {
		return err
	}
	now := db.now()
	if at.IsZero() {
		at = now
	}
	byHand := a.Label != tocsin.System.Label && a.Label != tocsin.Monitor.Label
	return db.update(ctx, func(tx conn) error {
		if !byHand {
			return tx.setServiceStatus(ctx, a, id, status, at, now)
		}
		old, err := tx.service(ctx, id)
		if err != nil {
			return err
		}
		if old.StatusPinned && old.Status == status {
			return nil
		}
		if !old.StatusPinned {
			if _, err := tx.exec(ctx, `UPDATE services SET status_pinned = ? WHERE id = ?`, true, id); err != nil {
				return err
			}
			if old.Status == status {
				return tx.audit(ctx, a, "service.pin", serviceTarget(id), "pinned=false", "pinned=true status="+string(status))
			}
		}
		return tx.setServiceStatus(ctx, a, id, status, at, now)
	})
}

// setServiceStatus is SetServiceStatus inside tx, status valid; at is
// moved up to the service's last change if earlier, so history stays in order.
func (c conn) setServiceStatus(ctx context.Context, a tocsin.Actor, id int64, status tocsin.ServiceStatus, at, now time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	old, err := c.service(ctx, id)
	if err != nil {
		return err
	}
	if old.Status == status {
		return nil
	}
	var last time.Time
	err = c.queryRow(ctx, `SELECT at FROM service_status_history WHERE service_id = ? ORDER BY at DESC, id DESC LIMIT 1`, id).Scan(timeScan{&last})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if at.Before(last) {
		at = last
	}
	if _, err := c.exec(ctx, `UPDATE services SET status = ?, updated_at = ? WHERE id = ?`, string(status), now, id); err != nil {
		return err
	}
	if err := c.insertStatusChange(ctx, id, status, at); err != nil {
		return err
	}
	return c.audit(ctx, a, "service.status", serviceTarget(id), "status="+string(old.Status), "status="+string(status))
}

// SyncConfigServices makes the config-managed services those of specs, in
// one transaction with one audit entry ("service.sync", target "services"):
// names match case-insensitively; missing services are created (status
// operational unless the spec says otherwise), existing ones get the spec's
// name spelling, description, link and group, the spec's index as position,
// and become config-managed; config-managed services absent from specs are
// released (kept, with their history, and editable again). Statuses are left
// alone. A sync that changes nothing writes nothing. Each spec gets the ID,
// position, status and times of its stored service.
func (db *DB) SyncConfigServices(ctx context.Context, a tocsin.Actor, specs []*tocsin.Service) error {
	seen := make(map[string]bool, len(specs))
	for i, s := range specs {
		if err := s.Validate(); err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "configured service %d (%q): %s", i+1, s.Name, tocsin.ErrorMessage(err))
		}
		if seen[nameKey(s.Name)] {
			return tocsin.Errorf(tocsin.EINVALID, "the service %q is declared twice (names are compared regardless of case)", s.Name)
		}
		seen[nameKey(s.Name)] = true
		s.Position = i
	}
	return db.update(ctx, func(tx conn) error {
		all, err := list(ctx, tx, scanService, `SELECT `+serviceColumns+` FROM services`)
		if err != nil {
			return err
		}
		byKey := make(map[string]*tocsin.Service, len(all))
		for _, s := range all {
			byKey[nameKey(s.Name)] = s
		}
		now := db.now()
		var created, updated, released int
		for _, spec := range specs {
			old := byKey[nameKey(spec.Name)]
			if old == nil {
				spec.ConfigManaged = true
				spec.CreatedAt = time.Time{}
				if err := tx.insertService(ctx, spec, now); err != nil {
					return err
				}
				created++
				continue
			}
			spec.ID, spec.Status, spec.CreatedAt, spec.UpdatedAt, spec.ConfigManaged = old.ID, old.Status, old.CreatedAt, old.UpdatedAt, true
			if before, after := serviceDiff(old, spec); before == "" && after == "" && old.ConfigManaged {
				continue
			}
			spec.UpdatedAt = now
			if err := tx.updateServiceFields(ctx, spec, true); err != nil {
				return err
			}
			updated++
		}
		for _, s := range all {
			if s.ConfigManaged && !seen[nameKey(s.Name)] {
				if _, err := tx.exec(ctx, `UPDATE services SET config_managed = ?, updated_at = ? WHERE id = ?`, false, now, s.ID); err != nil {
					return err
				}
				released++
			}
		}
		if created+updated+released == 0 {
			return nil
		}
		return tx.audit(ctx, a, "service.sync", "services", "",
			fmt.Sprintf("created=%d updated=%d released=%d", created, updated, released))
	})
}

// StatusHistory returns, oldest first, each service's last change before
// since (its status at since) followed by every change at or after since.
// Services created after since have no row before it.
func (db *DB) StatusHistory(ctx context.Context, since time.Time) ([]tocsin.StatusChange, error) {
	scan := func(sc rowScanner) (tocsin.StatusChange, error) {
		var (
			id int64
			c  tocsin.StatusChange
		)
		err := sc.Scan(&id, &c.ServiceID, &c.Status, timeScan{&c.At})
		return c, err
	}
	// The first half finds, per service, its newest row before since through
	// the (service_id, at) index; the second reads the rows since.
	out, err := list(ctx, db.read(), scan, `
		SELECT h.id, h.service_id, h.status, h.at
		FROM services s JOIN service_status_history h ON h.id = (
			SELECT p.id FROM service_status_history p
			WHERE p.service_id = s.id AND p.at < ?
			ORDER BY p.at DESC, p.id DESC LIMIT 1)
		UNION ALL
		SELECT id, service_id, status, at FROM service_status_history WHERE at >= ?
		ORDER BY 4, 1`, since, since)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: status history: %w", err)
	}
	return out, nil
}
