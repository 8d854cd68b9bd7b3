package httpserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// TestReplayBucketWarningPages replays the paging part of the bucket
// incident: the warning read from the intake mailbox on Friday at 17:40
// Paris time (outside working hours) pages Léa, on call this week, in
// French; nobody answers, so Camille is paged at 17:55 (once, however often
// the duty runs), acknowledges from the link in her mail at 17:58, and the
// escalation stops.
func TestReplayBucketWarningPages(t *testing.T) {
	r := newReplay(t)
	e := r.testEnv
	if err := e.store.SetLang(e.ctx, tocsin.CLI, r.lead.ID, "fr"); err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	worker := r.duties // newReplay put Léa on call and Camille behind her

	sig := r.intakeMail(bucketWarning)
	pageTo := func(to string) []*tocsin.Message {
		var out []*tocsin.Message
		for _, m := range e.messages() {
			if strings.HasPrefix(m.Key, "page:") && m.To == to {
				out = append(out, m)
			}
		}
		return out
	}
	lea := pageTo(r.lead.Email)
	if len(lea) != 1 {
		t.Fatalf("Léa got %d pages, want 1", len(lea))
	}
	for _, want := range []string{"Objet : Your media bucket lists its files to anyone", "Source : Courriel", sig.Receipt, "2026-11-20 17:40 CET (Europe/Paris)", "/ack/"} {
		if !strings.Contains(lea[0].Body, want) {
			t.Errorf("Léa's page lacks %q:\n%s", want, lea[0].Body)
		}
	}
	if !strings.HasPrefix(lea[0].Subject, "[tocsin] Alerte : ") {
		t.Errorf("Léa's page is not in French: %q", lea[0].Subject)
	}

	steps := []struct {
		hour, minute int
		camille      int
	}{{17, 54, 0}, {17, 55, 1}, {17, 55, 1}, {17, 56, 1}}
	for _, st := range steps {
		r.at(20, st.hour, st.minute)
		next, err := worker.Tick(e.ctx, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := len(pageTo(r.comms.Email)); got != st.camille {
			t.Fatalf("at %02d:%02d Camille has %d pages, want %d", st.hour, st.minute, got, st.camille)
		}
		if want := time.Date(2026, 11, 20, 17, 55, 0, 0, paris); st.camille == 1 {
			want = want.Add(15 * time.Minute)
			if !next.Equal(want) {
				t.Errorf("at %02d:%02d the next deadline is %v, want %v", st.hour, st.minute, next, want)
			}
		} else if !next.Equal(want) {
			t.Errorf("at %02d:%02d the next deadline is %v, want %v", st.hour, st.minute, next, want)
		}
	}

	link := ackLinkRe.FindString(pageTo(r.comms.Email)[0].Body)
	r.at(20, 17, 58)
	b := e.browser("127.0.0.40")
	b.get(link)
	if resp := b.post(link, nil); resp.Status != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", resp.Status, resp.Text)
	}
	r.at(20, 18, 30)
	if next, err := worker.Tick(e.ctx, e.clock.Now()); err != nil || !next.IsZero() {
		t.Fatalf("after the acknowledgement: next %v, %v; want nothing due", next, err)
	}
	if n := len(pageTo(r.lead.Email)) + len(pageTo(r.comms.Email)); n != 2 {
		t.Fatalf("%d pages in all, want Léa's and Camille's", n)
	}
	got, err := e.store.Signal(e.ctx, sig.ID)
	if err != nil || got.State != tocsin.SignalAcknowledged || got.AcknowledgedBy != r.comms.Email {
		t.Fatalf("signal = %+v, %v", got, err)
	}
	p := onlyPage(t, e)
	if p.TimeToAcknowledge() != 18*time.Minute {
		t.Fatalf("time to acknowledge %v, want 18m", p.TimeToAcknowledge())
	}
	page := e.signedIn(r.lead, "127.0.0.41").get("/console/pages")
	if !strings.Contains(page.Text, tocsin.FormatDuration(18*time.Minute)) || !strings.Contains(page.Text, r.comms.Email) {
		t.Errorf("/console/pages does not show Camille's acknowledgement after 18 minutes:\n%s", page.Text)
	}
}
