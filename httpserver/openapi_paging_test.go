package httpserver

import (
	"fmt"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// pagingAPICases are the OpenAPI walk's calls of the on-call and paging
// operations: a rota the walk edits, overrides and deletes, a policy, a
// contact, and a page opened by hand then acknowledged.
func pagingAPICases(t *testing.T, e *testEnv, admin, viewer string) map[string][]apiCase {
	t.Helper()
	u := e.createUser("oncall@example.org", tocsin.RoleResponder)
	rota := &tocsin.Rota{Name: "Walk", Zone: "Europe/Paris", Start: e.clock.Now(), PeriodDays: 7, Members: []int64{u.ID}}
	if err := e.store.SaveRota(e.ctx, tocsin.CLI, rota); err != nil {
		t.Fatal(err)
	}
	doomed := &tocsin.Rota{Name: "Doomed", Zone: "UTC", Start: e.clock.Now(), PeriodDays: 1}
	if err := e.store.SaveRota(e.ctx, tocsin.CLI, doomed); err != nil {
		t.Fatal(err)
	}
	o := &tocsin.Override{UserID: u.ID, From: e.clock.Now(), Until: e.clock.Now().Add(48 * 3600e9)}
	if err := e.store.AddOverride(e.ctx, tocsin.CLI, rota.ID, o); err != nil {
		t.Fatal(err)
	}
	c := &tocsin.Contact{UserID: u.ID, Kind: tocsin.ContactEmail, Address: "pager@example.org"}
	if err := e.store.AddContact(e.ctx, tocsin.CLI, c); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetEscalationPolicy(e.ctx, tocsin.CLI, &tocsin.EscalationPolicy{Levels: []tocsin.EscalationLevel{{RotaID: rota.ID}}}); err != nil {
		t.Fatal(err)
	}
	pg := &tocsin.Page{Subject: "Walked page"}
	if err := e.store.OpenPage(e.ctx, tocsin.CLI, pg); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/api/v1/pages/%d", pg.ID)
	r := fmt.Sprintf("/api/v1/oncall/rotas/%d", rota.ID)
	contacts := fmt.Sprintf("/api/v1/oncall/contacts/%d", u.ID)
	rotaBody := fmt.Sprintf(`{"name":"Ops","zone":"Europe/Paris","start":"2026-11-16T09:00:00+01:00","period_days":7,"members":[%d]}`, u.ID)
	policy := fmt.Sprintf(`{"levels":[{"rota_id":%d},{"user_ids":[%d],"delay_minutes":10}],"repeat":0}`, rota.ID, u.ID)
	return map[string][]apiCase{
		"GET /api/v1/oncall": {
			{name: "ok", path: "/api/v1/oncall", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/oncall", token: viewer, wantStatus: 200},
		},
		"PUT /api/v1/oncall/policy": {
			{name: "ok", path: "/api/v1/oncall/policy", token: admin, body: policy, wantStatus: 200},
			{name: "no level", path: "/api/v1/oncall/policy", token: admin, body: `{"levels":[{}]}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/oncall/policy", token: viewer, body: policy, wantStatus: 403},
		},
		"POST /api/v1/oncall/rotas": {
			{name: "ok", path: "/api/v1/oncall/rotas", token: admin, body: rotaBody, wantStatus: 201},
			{name: "bad zone", path: "/api/v1/oncall/rotas", token: admin, body: `{"name":"x","zone":"Mars/Base","start":"2026-11-16T09:00:00Z","period_days":7}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/oncall/rotas", token: viewer, body: rotaBody, wantStatus: 403},
		},
		"PUT /api/v1/oncall/rotas/{id}": {
			{name: "ok", path: r, token: admin, body: rotaBody, wantStatus: 200},
			{name: "missing", path: "/api/v1/oncall/rotas/999999", token: admin, body: rotaBody, wantStatus: 404},
		},
		"DELETE /api/v1/oncall/rotas/{id}": {
			{name: "ok", path: fmt.Sprintf("/api/v1/oncall/rotas/%d", doomed.ID), token: admin, wantStatus: 204},
			{name: "missing", path: "/api/v1/oncall/rotas/999999", token: admin, wantStatus: 404},
		},
		"POST /api/v1/oncall/rotas/{id}/overrides": {
			{name: "ok", path: r + "/overrides", token: admin, body: fmt.Sprintf(`{"user_id":%d,"from":"2026-12-24T09:00:00+01:00","until":"2026-12-28T09:00:00+01:00","note":"Christmas"}`, u.ID), wantStatus: 200},
			{name: "backwards", path: r + "/overrides", token: admin, body: fmt.Sprintf(`{"user_id":%d,"from":"2026-12-24T09:00:00Z","until":"2026-12-20T09:00:00Z"}`, u.ID), wantStatus: 400},
		},
		"DELETE /api/v1/oncall/rotas/{id}/overrides/{override}": {
			{name: "ok", path: fmt.Sprintf("%s/overrides/%d", r, o.ID), token: admin, wantStatus: 204},
			{name: "missing", path: r + "/overrides/999999", token: admin, wantStatus: 404},
		},
		"GET /api/v1/oncall/contacts/{user}": {
			{name: "ok", path: contacts, token: admin, wantStatus: 200},
			{name: "viewer", path: contacts, token: viewer, wantStatus: 403},
			{name: "missing", path: "/api/v1/oncall/contacts/999999", token: admin, wantStatus: 404},
		},
		"POST /api/v1/oncall/contacts/{user}": {
			{name: "ok", path: contacts, token: admin, body: `{"kind":"matrix","address":"#ops:example.org"}`, wantStatus: 200},
			{name: "bad address", path: contacts, token: admin, body: `{"kind":"webhook","address":"ftp://x"}`, wantStatus: 400},
		},
		"DELETE /api/v1/oncall/contacts/{user}/{id}": {
			{name: "ok", path: fmt.Sprintf("%s/%d", contacts, c.ID), token: admin, wantStatus: 204},
			{name: "missing", path: contacts + "/999999", token: admin, wantStatus: 404},
		},
		"POST /api/v1/pages": {
			{name: "ok", path: "/api/v1/pages", token: admin, body: `{"subject":"Root shell on web-3"}`, wantStatus: 201},
			{name: "no subject", path: "/api/v1/pages", token: admin, body: `{"subject":" "}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/pages", token: viewer, body: `{"subject":"x"}`, wantStatus: 403},
		},
		"GET /api/v1/pages": {
			{name: "ok", path: "/api/v1/pages", token: admin, wantStatus: 200},
			{name: "open", path: "/api/v1/pages?open=true", token: viewer, wantStatus: 200},
			{name: "bad open", path: "/api/v1/pages?open=maybe", token: admin, wantStatus: 400},
		},
		"GET /api/v1/pages/{id}": {
			{name: "ok", path: page, token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/pages/999999", token: admin, wantStatus: 404},
		},
		"POST /api/v1/pages/{id}/acknowledge": {
			{name: "ok", path: page + "/acknowledge", token: admin, wantStatus: 200},
			{name: "again", path: page + "/acknowledge", token: admin, wantStatus: 409},
			{name: "missing", path: "/api/v1/pages/999999/acknowledge", token: admin, wantStatus: 404},
		},
	}
}
