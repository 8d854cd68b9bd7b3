package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

var visitor = tocsin.Actor{Label: "anonymous", IP: "198.51.100.7"}

func subscribeReq(email, hash string, services ...int64) *tocsin.SubscribeRequest {
	return &tocsin.SubscribeRequest{
		Email: email, Lang: "fr", AllServices: len(services) == 0, ServiceIDs: services, TokenHash: hash,
		Confirm: &tocsin.Message{Channel: tocsin.ChannelEmail, To: email, Subject: "Confirm", Body: "link", Key: "confirm:" + hash},
		Net:     "198.51.100.7", EmailHash: "digest:" + strings.ToLower(email),
	}
}

func subscribed(t *testing.T, db *DB, email string, services ...int64) *tocsin.Subscriber {
	t.Helper()
	ctx := context.Background()
	hash := "h-" + email
	if _, err := db.Subscribe(ctx, visitor, subscribeReq(email, hash, services...)); err != nil {
		t.Fatal(err)
	}
	s, err := db.ConfirmSubscriber(ctx, visitor, hash, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubscribeOutcomes(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		svc := newService(t, db, &tocsin.Service{Name: "Mail"})
		steps := []struct {
			name string
			req  *tocsin.SubscribeRequest
			want tocsin.SubscribeOutcome
			mail int // confirmation mails queued so far
		}{
			{"new", subscribeReq("Ada@Example.org", "h1", svc.ID), tocsin.SubscribeMailed, 1},
			{"pending, mailed recently", subscribeReq("ada@example.org", "h2"), tocsin.SubscribeSuppressed, 1},
		}
		for _, st := range steps {
			got, err := db.Subscribe(ctx, visitor, st.req)
			if err != nil || got != st.want {
				t.Fatalf("%s: %q, %v; want %q", st.name, got, err, st.want)
			}
			if n, _ := db.OutboxStats(ctx); n.Pending != st.mail {
				t.Fatalf("%s: %d mails queued, want %d", st.name, n.Pending, st.mail)
			}
		}
		// The suppressed request changed the choice but kept the first link.
		if _, err := db.PendingSubscriberByToken(ctx, "h2", time.Now()); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Fatalf("the suppressed request's link works: %v", err)
		}
		s, err := db.PendingSubscriberByToken(ctx, "h1", time.Now())
		if err != nil || s.Email != "ada@example.org" || !s.AllServices || len(s.ServiceIDs) != 0 {
			t.Fatalf("pending %+v, %v", s, err)
		}
		// After the resend period, a new mail and a new link.
		raw(t, db, `UPDATE subscribers SET confirm_sent_at = ?`, time.Now().Add(-tocsin.ConfirmResendAfter-time.Minute))
		if got, err := db.Subscribe(ctx, visitor, subscribeReq("ada@example.org", "h3")); err != nil || got != tocsin.SubscribeMailed {
			t.Fatalf("after the period: %q, %v", got, err)
		}
		if _, err := db.ConfirmSubscriber(ctx, visitor, "h1", time.Now()); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Fatalf("the replaced link confirmed: %v", err)
		}
		if _, err := db.ConfirmSubscriber(ctx, visitor, "h3", time.Now().Add(tocsin.ConfirmLifetime+time.Minute)); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Fatalf("an expired link confirmed: %v", err)
		}
		if s, err = db.ConfirmSubscriber(ctx, visitor, "h3", time.Now()); err != nil || s.Status != tocsin.SubscriberConfirmed {
			t.Fatalf("confirm: %+v, %v", s, err)
		}
		if got, err := db.Subscribe(ctx, visitor, subscribeReq("ada@example.org", "h4", svc.ID)); err != nil || got != tocsin.SubscribeAlready {
			t.Fatalf("confirmed: %q, %v", got, err)
		}
		if s, _ = db.Subscriber(ctx, s.ID); !s.AllServices {
			t.Error("a request for a confirmed address changed its services")
		}
		if n, _ := db.CountSubscribeAttempts(ctx, tocsin.SubscribeAttemptFilter{EmailHash: "digest:ada@example.org", Since: time.Now().Add(-time.Hour)}); n != 4 {
			t.Errorf("attempts per address = %d, want 4", n)
		}
		if n, _ := db.CountSubscribeAttempts(ctx, tocsin.SubscribeAttemptFilter{Net: "198.51.100.7", Since: time.Now().Add(-time.Hour)}); n != 4 {
			t.Errorf("attempts per network = %d, want 4", n)
		}

		if _, err := db.Subscribe(ctx, visitor, subscribeReq("bob@example.org", "h5", 999999)); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Errorf("unknown service: %v", err)
		}
		// The janitor: attempts, and pending subscribers whose link expired.
		if _, err := db.Subscribe(ctx, visitor, subscribeReq("carol@example.org", "h6")); err != nil {
			t.Fatal(err)
		}
		if n, err := db.PruneSubscribeAttempts(ctx, time.Now().Add(tocsin.ConfirmLifetime+time.Hour)); err != nil || n != 6 {
			t.Errorf("pruned %d, %v; want 5 attempts and 1 expired pending subscriber", n, err)
		}
		if n, _ := db.CountSubscribers(ctx, ""); n != 1 {
			t.Errorf("%d subscribers after pruning, want the confirmed one", n)
		}
		if err := db.DeleteSubscriber(ctx, admin, s.ID, "subscriber.erase"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteSubscriber(ctx, admin, s.ID, "subscriber.erase"); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Errorf("erase twice: %v", err)
		}
		entries, _ := db.AuditEntries(ctx, tocsin.AuditFilter{Action: "subscriber.", Limit: 100})
		if len(entries) != 7 { // five requests, a confirmation, an erasure
			t.Errorf("%d subscriber audit entries, want 7", len(entries))
		}
		for _, e := range entries {
			if strings.Contains(strings.ToLower(e.Before+e.After+e.Target), "ada") {
				t.Errorf("audit entry keeps the address: %+v", e)
			}
		}
	})
}

func TestNoticesFanOutToMatchingSubscribers(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mail := newService(t, db, &tocsin.Service{Name: "Mail"})
		wiki := newService(t, db, &tocsin.Service{Name: "Wiki"})
		all := subscribed(t, db, "all@example.org")
		onMail := subscribed(t, db, "mail@example.org", mail.ID)
		subscribed(t, db, "wiki@example.org", wiki.ID)
		if _, err := db.Subscribe(ctx, visitor, subscribeReq("pending@example.org", "hp")); err != nil {
			t.Fatal(err)
		}

		// A draft records no notice; publishing it and each later update do.
		inc := &tocsin.Incident{Title: "Mail down", Services: []tocsin.ServiceImpact{{ServiceID: mail.ID, Status: tocsin.StatusMajorOutage}}}
		if err := db.CreateIncident(ctx, admin, inc, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Looking."}, nil); err != nil {
			t.Fatal(err)
		}
		if ns, _ := db.PendingNotices(ctx, 10); len(ns) != 0 {
			t.Fatalf("a draft recorded %d notices", len(ns))
		}
		if err := db.AddUpdate(ctx, admin, inc.ID, &tocsin.Update{Status: tocsin.IncidentIdentified, Body: "Disk."}, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.PublishIncident(ctx, admin, inc.ID, time.Time{}, nil); err != nil {
			t.Fatal(err)
		}
		ns, err := db.PendingNotices(ctx, 10)
		if err != nil || len(ns) != 1 || ns[0].Status != "identified" || ns[0].Body != "Disk." || ns[0].AllServices ||
			len(ns[0].ServiceIDs) != 1 || ns[0].Path != fmt.Sprintf("/incidents/%d/", inc.ID) {
			t.Fatalf("notices after publishing: %+v, %v", ns, err)
		}
		n := ns[0]
		var got []int64
		for after := int64(0); ; {
			subs, err := db.NoticeRecipients(ctx, n, after, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(subs) == 0 {
				break
			}
			got, after = append(got, subs[0].ID), subs[0].ID
		}
		if fmt.Sprint(got) != fmt.Sprint([]int64{all.ID, onMail.ID}) {
			t.Fatalf("recipients %v, want %v", got, []int64{all.ID, onMail.ID})
		}

		// A batch replayed (a crash after commit) adds nothing.
		batch := func() []*tocsin.Message {
			return []*tocsin.Message{{Channel: tocsin.ChannelEmail, To: "all@example.org", Subject: "s", Body: "b", Key: fmt.Sprintf("notice:%d:subscriber:%d", n.ID, all.ID)}}
		}
		before, _ := db.OutboxStats(ctx)
		for range 2 {
			if err := db.AdvanceNotice(ctx, n.ID, all.ID, false, batch()); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AdvanceNotice(ctx, n.ID, 0, true, nil); err != nil { // a stale cursor never moves it back
			t.Fatal(err)
		}
		after, _ := db.OutboxStats(ctx)
		if after.Pending-before.Pending != 1 {
			t.Errorf("replayed batch queued %d messages, want 1", after.Pending-before.Pending)
		}
		if ns, _ := db.PendingNotices(ctx, 10); len(ns) != 0 {
			t.Errorf("notice still pending: %+v", ns)
		}
		var cursor int64
		if err := db.read().queryRow(ctx, `SELECT cursor FROM notices WHERE id = ?`, n.ID).Scan(&cursor); err != nil || cursor != all.ID {
			t.Errorf("cursor %d, %v; want %d", cursor, err, all.ID)
		}

		// The maintenance helper's entry point: a notice for everyone, once per key.
		m := &tocsin.Notice{Key: "maintenance:1:reminder", Kind: tocsin.NoticeMaintenance, Title: "Upgrade", Status: "scheduled", Body: "Tonight.", Path: "/maintenance/1/"}
		for range 2 {
			if err := db.NotifySubscribers(ctx, admin, m); err != nil {
				t.Fatal(err)
			}
		}
		ns, _ = db.PendingNotices(ctx, 10)
		if len(ns) != 1 || !ns[0].AllServices {
			t.Fatalf("maintenance notices %+v", ns)
		}
		subs, _ := db.NoticeRecipients(ctx, ns[0], 0, 100)
		if len(subs) != 3 {
			t.Errorf("a notice for all services reaches %d subscribers, want the 3 confirmed", len(subs))
		}
		if err := db.NotifySubscribers(ctx, admin, &tocsin.Notice{Key: "x", Kind: "party", Title: "t", Path: "/"}); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Errorf("bad kind: %v", err)
		}
	})
}
