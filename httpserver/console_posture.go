package httpserver

import (
	"net/http"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// The security posture: every open finding in one place, grouped by kind
// (listable buckets, certificates, old protocols and weak ciphers, reused
// keys, failing checks), and the endpoints still serving a key first seen
// before a date — the admin-dashboard check of issue 7.

type findingGroup struct {
	Kind tocsin.FindingKind
	Rows []findingRow
}

func (s *Server) posture(w http.ResponseWriter, r *http.Request) error {
	open := true
	list, err := s.store.Findings(r.Context(), tocsin.FindingFilter{Open: &open, Limit: 1000})
	if err != nil {
		return err
	}
	checks, services, err := s.checksAndServices(r)
	if err != nil {
		return err
	}
	var groups []findingGroup
	for _, kind := range tocsin.FindingKinds {
		g := findingGroup{Kind: kind}
		for _, f := range list {
			if f.Kind != kind {
				continue
			}
			row := s.findingRow(state(r).lang, f)
			if c := checks[f.CheckID]; c != nil {
				row.Check = c.Name
			}
			if svc := services[f.ServiceID]; svc != nil {
				row.Service = svc.Name
			}
			g.Rows = append(g.Rows, row)
		}
		groups = append(groups, g)
	}
	data := map[string]any{"Groups": groups, "Total": len(list)}
	status := http.StatusOK
	if v := r.URL.Query().Get("before"); v != "" {
		data["Before"] = v
		before, err := s.parseDay("before", v)
		if err != nil {
			status = http.StatusBadRequest
			data["BeforeError"] = i18n.T(state(r).lang, "checks.date_invalid", v)
		} else {
			stale, err := s.staleKeys(r, before)
			if err != nil {
				return err
			}
			var rows []staleRow
			for _, k := range stale {
				rows = append(rows, staleRow{staleKeyJSON: k, FirstSeen: s.fmtTime(k.FirstSeen), LastSeen: s.fmtTime(k.LastSeen)})
			}
			data["Stale"], data["Asked"] = rows, true
		}
	}
	s.render(w, r, status, "posture", data)
	return nil
}

type staleRow struct {
	staleKeyJSON
	FirstSeen, LastSeen string
}
