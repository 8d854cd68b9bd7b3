package httpserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/i18n"
)

// postUpload sends a multipart form with the browser's CSRF token (unless
// the form has its own) and, when content is not nil, a file.
func (b *browser) postUpload(path string, form url.Values, filename string, content []byte) *response {
	b.e.t.Helper()
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.token())
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if content != nil {
		fw, _ := mw.CreateFormFile(uploadFileField, filename)
		_, _ = fw.Write(content)
	}
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.e.ts.URL+path, &buf)
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.send(req)
}

// evidenceCount is how many items an incident has.
func (e *testEnv) evidenceCount(id int64) int {
	e.t.Helper()
	l, err := e.store.EvidenceList(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(l)
}

func TestConsoleEvidence(t *testing.T) {
	const limit = 4096
	e := newTestEnv(t, func(c *config.Config) { c.Evidence.MaxBytes = limit })
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	vic := e.createUser("vic@example.org", tocsin.RoleViewer)
	b := e.signedIn(ann, "127.0.0.1")
	room := &tocsin.SecurityIncident{Title: "Database password leaked", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
	other := &tocsin.SecurityIncident{Title: "Another case", Severity: tocsin.SEV3, Kind: tocsin.KindOther}
	for _, inc := range []*tocsin.SecurityIncident{room, other} {
		if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
			t.Fatal(err)
		}
	}
	logLine := []byte("203.0.113.9 - - [20/Nov/2026:17:40:00 +0100] \"GET /backup.sql HTTP/1.1\" 200\n")
	sum := sha256.Sum256(logLine)
	logSum := hex.EncodeToString(sum[:])

	r := b.postUpload(roomPath(room.ID, "evidence"), url.Values{"kind": {"file"}, "description": {"nginx <b>log</b> extract"}, "source": {"web3"}}, "../access.log", logLine)
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "evidence.added")) || !strings.Contains(r.Text, logSum) {
		t.Fatalf("upload: %d\n%s", r.Status, r.Text)
	}
	if strings.Contains(r.Body, "<b>log</b>") {
		t.Error("the description is not escaped")
	}
	items, _ := e.store.EvidenceList(e.ctx, room.ID)
	if len(items) != 1 || items[0].SHA256 != logSum || items[0].Filename != "access.log" || items[0].CollectedBy != ann.Email ||
		!strings.HasPrefix(items[0].MediaType, "text/plain") || items[0].Size != int64(len(logLine)) {
		t.Fatalf("stored item = %+v", items[0])
	}
	file := items[0]
	sealed, err := e.store.EvidenceContent(e.ctx, room.ID, file.ID)
	if err != nil || bytes.Contains(sealed, []byte("backup.sql")) {
		t.Errorf("content stored in the clear or not at all: %v", err)
	}

	r = b.postUpload(roomPath(room.ID, "evidence"), url.Values{"kind": {"reference"}, "description": {"disk image of web3"},
		"location": {"backup01:/images/web3.img"}, "sha256": {"SHA256:" + strings.Repeat("AB", 32)}, "size": {"42949672960"}, "collected_by": {"Bob"}}, "", nil)
	if r.Status != http.StatusOK || !strings.Contains(r.Text, strings.Repeat("ab", 32)) {
		t.Fatalf("reference: %d\n%s", r.Status, r.Text)
	}
	items, _ = e.store.EvidenceList(e.ctx, room.ID)
	ref := items[1]

	t.Run("refused, nothing stored", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			form     url.Values
			file     []byte
			status   int
			key      string
			args     []any
			filename string
		}{
			{name: "bad hash", form: url.Values{"kind": {"reference"}, "description": {"d"}, "location": {"x"}, "sha256": {"abc"}}, status: 400, key: "evidence.sha256_invalid"},
			{name: "no location", form: url.Values{"kind": {"reference"}, "description": {"d"}, "sha256": {logSum}}, status: 400, key: "evidence.location_invalid", args: []any{tocsin.MaxEvidenceLine}},
			{name: "no file", form: url.Values{"kind": {"file"}, "description": {"d"}}, status: 400, key: "evidence.no_file"},
			{name: "huge file", form: url.Values{"kind": {"file"}, "description": {"d"}}, file: bytes.Repeat([]byte("x"), limit+1), status: 413, key: "evidence.too_large", args: []any{1}},
			{name: "far too large", form: url.Values{"kind": {"file"}, "description": {"d"}}, file: bytes.Repeat([]byte("x"), limit+maxFormBytes+10), status: 413, key: "evidence.too_large", args: []any{1}},
			{name: "executable", form: url.Values{"kind": {"file"}, "description": {"d"}}, file: []byte("\x7fELF\x02\x01\x01rest"), status: 400, key: "evidence.denied_type", args: []any{"ELF executable"}},
			{name: "hash differs", form: url.Values{"kind": {"file"}, "description": {"d"}, "sha256": {strings.Repeat("0", 64)}}, file: []byte("x"), status: 400, key: "evidence.sha256_differs"},
			{name: "future", form: url.Values{"kind": {"reference"}, "description": {"d"}, "location": {"x"}, "sha256": {logSum}, "collected_at": {"2999-01-01T10:00"}}, status: 400, key: "security.future"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.securityState()
				r := b.postUpload(roomPath(room.ID, "evidence"), tc.form, "f.bin", tc.file)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d\n%s", r.Status, tc.status, r.Text)
				}
				if tc.args != nil && !strings.Contains(r.Text, i18n.T("en", tc.key, tc.args...)) {
					t.Errorf("message %q not shown:\n%s", i18n.T("en", tc.key, tc.args...), r.Text)
				}
				if after := e.securityState(); after != before || e.evidenceCount(room.ID) != 2 {
					t.Error("a refused item changed something")
				}
			})
		}
		// A multipart form without its CSRF field is refused like any form.
		r := b.postUpload(roomPath(room.ID, "evidence"), url.Values{csrfField: {"forged"}, "kind": {"reference"}, "description": {"d"}, "location": {"x"}, "sha256": {logSum}}, "", nil)
		if r.Status != http.StatusForbidden || e.evidenceCount(room.ID) != 2 {
			t.Errorf("forged CSRF: %d, %d items", r.Status, e.evidenceCount(room.ID))
		}
	})

	itemPath := func(inc, id int64, action string) string {
		p := fmt.Sprintf("/console/security/%d/evidence/%d", inc, id)
		if action != "" {
			p += "/" + action
		}
		return p
	}

	t.Run("roles and forged IDs", func(t *testing.T) {
		v := e.signedIn(vic, "127.0.0.2")
		for _, tc := range []struct {
			name   string
			b      *browser
			method string
			path   string
			status int
		}{
			{"viewer reads the item", v, http.MethodGet, itemPath(room.ID, file.ID, ""), http.StatusOK},
			{"viewer cannot download", v, http.MethodGet, itemPath(room.ID, file.ID, "content"), http.StatusForbidden},
			{"viewer cannot verify", v, http.MethodPost, itemPath(room.ID, file.ID, "verify"), http.StatusForbidden},
			{"viewer cannot add", v, http.MethodPost, roomPath(room.ID, "evidence"), http.StatusForbidden},
			{"another incident's item", b, http.MethodGet, itemPath(other.ID, file.ID, ""), http.StatusNotFound},
			{"another incident's content", b, http.MethodGet, itemPath(other.ID, file.ID, "content"), http.StatusNotFound},
			{"another incident's verify", b, http.MethodPost, itemPath(other.ID, file.ID, "verify"), http.StatusNotFound},
			{"a reference has no content", b, http.MethodGet, itemPath(room.ID, ref.ID, "content"), http.StatusNotFound},
			{"signed out", e.browser("127.0.0.3"), http.MethodGet, itemPath(room.ID, file.ID, "content"), http.StatusSeeOther},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var r *response
				if tc.method == http.MethodGet {
					r = tc.b.get(tc.path)
				} else {
					r = tc.b.post(tc.path, url.Values{"kind": {"reference"}, "description": {"d"}, "location": {"x"}, "sha256": {logSum}})
				}
				if r.Status != tc.status {
					t.Errorf("status %d, want %d", r.Status, tc.status)
				}
				if strings.Contains(r.Body, "backup.sql") {
					t.Error("the content leaked")
				}
			})
		}
	})

	t.Run("an upload's body is read only for a responder", func(t *testing.T) {
		v := e.signedIn(vic, "127.0.0.4")
		r := v.postUpload(roomPath(room.ID, "evidence"), url.Values{"kind": {"file"}, "description": {"d"}}, "big.bin", bytes.Repeat([]byte("x"), 2*limit+maxFormBytes))
		if r.Status != http.StatusForbidden || e.evidenceCount(room.ID) != 2 {
			t.Errorf("viewer's large upload: %d, want 403 before the size is read", r.Status)
		}
	})

	t.Run("download, verify, withdraw, custody", func(t *testing.T) {
		r := b.get(itemPath(room.ID, file.ID, "content"))
		h := r.Header
		if r.Status != http.StatusOK || r.Body != string(logLine) || h.Get("Content-Type") != "application/octet-stream" ||
			h.Get("Content-Disposition") != `attachment; filename=access.log` || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Cache-Control") != "no-store" || h.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("download: %d %v %q", r.Status, h, r.Body)
		}
		r = b.post(itemPath(room.ID, file.ID, "verify"), nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "evidence.verify_match")) {
			t.Errorf("verify: %d\n%s", r.Status, r.Text)
		}
		r = b.post(itemPath(room.ID, ref.ID, "verify"), nil)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, i18n.T("en", "evidence.verify_reference")) {
			t.Errorf("verify a reference: %d", r.Status)
		}
		r = b.post(itemPath(room.ID, ref.ID, "withdraw"), url.Values{"reason": {"wrong host"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Text, "wrong host") {
			t.Errorf("withdraw: %d\n%s", r.Status, r.Text)
		}
		r = b.post(itemPath(room.ID, ref.ID, "withdraw"), url.Values{"reason": {"again"}})
		if r.Status != http.StatusConflict {
			t.Errorf("withdraw again: %d", r.Status)
		}
		r = b.get(itemPath(room.ID, file.ID, ""))
		_, log, err := e.store.EvidenceItem(e.ctx, room.ID, file.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range log {
			got = append(got, string(ev.Action)+" "+ev.Actor+" "+ev.Detail)
		}
		want := "added ann@example.org |viewed vic@example.org |downloaded ann@example.org |verified ann@example.org match|viewed ann@example.org "
		if strings.Join(got, "|") != want {
			t.Errorf("custody = %q, want %q", strings.Join(got, "|"), want)
		}
		for _, s := range []string{i18n.T("en", "evidence.custody.downloaded"), i18n.T("en", "evidence.custody.verified"), "vic@example.org"} {
			if !strings.Contains(r.Text, s) {
				t.Errorf("item page lacks %q", s)
			}
		}
		audit, _ := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Action: "evidence.", Limit: 20})
		if len(audit) != 7 { // 2 added, viewed (vic), downloaded, verified, withdrawn, viewed (ann)
			t.Errorf("%d evidence audit entries, want 7", len(audit))
		}
		r = b.get(roomPath(room.ID, ""))
		for _, s := range []string{i18n.T("en", "security.text.evidence_added", fmt.Sprint(file.ID), logSum), i18n.T("en", "security.text.evidence_withdrawn", fmt.Sprint(ref.ID))} {
			if !strings.Contains(r.Text, s) {
				t.Errorf("timeline lacks %q", s)
			}
		}
	})
}

func TestConsoleSignalToIncident(t *testing.T) {
	e := newTestEnv(t)
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	vic := e.createUser("vic@example.org", tocsin.RoleViewer)
	b := e.signedIn(ann, "127.0.0.1")
	signal := func(subject string) *tocsin.Signal {
		s := &tocsin.Signal{Source: tocsin.SourceForm, Subject: subject, Body: "b"}
		if err := e.store.CreateSignal(e.ctx, tocsin.CLI, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	sig := signal("Bucket <i>world</i>-listable")
	path := func(s *tocsin.Signal, action string) string {
		return fmt.Sprintf("/console/signals/%d/%s", s.ID, action)
	}

	if r := b.get(fmt.Sprintf("/console/signals/%d", sig.ID)); !strings.Contains(r.Text, i18n.T("en", "signals.open_incident")) {
		t.Fatalf("the signal page has no form to open an incident:\n%s", r.Text)
	}
	r := e.signedIn(vic, "127.0.0.2").post(path(sig, "open"), url.Values{"severity": {"SEV2"}, "kind": {"data_exposure"}})
	if r.Status != http.StatusForbidden {
		t.Errorf("viewer opens an incident: %d", r.Status)
	}
	r = b.post(path(sig, "open"), url.Values{"title": {" "}, "severity": {"SEV2"}, "kind": {"data_exposure"}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "security.text.from_signal", sig.Receipt)) {
		t.Fatalf("open: %d\n%s", r.Status, r.Text)
	}
	list, _ := e.store.SecurityIncidents(e.ctx, tocsin.SecurityIncidentFilter{})
	if len(list) != 1 || list[0].Title != sig.Subject || list[0].Moments.Reported == nil || !list[0].Moments.Reported.Equal(sig.ReceivedAt) {
		t.Fatalf("incidents = %+v", list)
	}
	inc := list[0]
	if s, _ := e.store.Signal(e.ctx, sig.ID); s.State != tocsin.SignalLinked || *s.SecurityIncidentID != inc.ID {
		t.Errorf("signal = %+v", s)
	}

	dismissed := signal("spam")
	if err := e.store.DismissSignal(e.ctx, tocsin.CLI, dismissed.ID, "spam"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		s     *tocsin.Signal
		state tocsin.SignalState
	}{{"already linked", sig, tocsin.SignalLinked}, {"dismissed", dismissed, tocsin.SignalDismissed}} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.securityState()
			r := b.post(path(tc.s, "open"), url.Values{"severity": {"SEV2"}, "kind": {"other"}})
			state := strings.ToLower(i18n.T("en", "signals.state."+string(tc.state)))
			if r.Status != http.StatusConflict || !strings.Contains(r.Text, i18n.T("en", "signals.cannot_move", tc.s.ID, state, strings.ToLower(i18n.T("en", "signals.state.linked")))) {
				t.Errorf("open: %d\n%s", r.Status, r.Text)
			}
			if e.securityState() != before {
				t.Error("a refused opening changed something")
			}
		})
	}

	second := signal("same bucket, another finder")
	r = b.post(path(second, "link"), url.Values{"incident": {fmt.Sprint(inc.ID)}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "signals.linked_flash", inc.ID)) {
		t.Fatalf("link: %d\n%s", r.Status, r.Text)
	}
	r = b.get(roomPath(inc.ID, ""))
	if !strings.Contains(r.Text, i18n.T("en", "security.text.signal", second.Receipt)) {
		t.Errorf("the room's timeline lacks the second signal")
	}
	r = b.post(path(signal("third"), "link"), url.Values{"incident": {"999999"}})
	if r.Status != http.StatusBadRequest {
		t.Errorf("link to an unknown incident: %d", r.Status)
	}
}
