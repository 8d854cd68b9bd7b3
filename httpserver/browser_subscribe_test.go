package httpserver_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/notify"
)

// TestBrowserSubscribe follows a reader of the public page in French, in a
// real Chromium: the link to the form, a subscription to one service, the
// confirmation link of the mail and its button, then the unsubscribe link
// and its button. Every page passes axe-core.
func TestBrowserSubscribe(t *testing.T) {
	ctx := testpeer.Chromium(t)
	a := startApp(t)
	b := &browser{ctx: ctx, base: a.url, axe: testpeer.AxeScript(t)}
	fr := func(key string, args ...any) string { return i18n.T("fr", key, args...) }
	bg := context.Background()
	mail := &tocsin.Service{Name: "Messagerie"}
	if err := a.db.CreateService(bg, tocsin.CLI, mail); err != nil {
		t.Fatal(err)
	}
	if err := a.db.CreateService(bg, tocsin.CLI, &tocsin.Service{Name: "Wiki"}); err != nil {
		t.Fatal(err)
	}

	b.step(t, "subscribe from the public page", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		b.open(t, "/")
		b.follow(t, "the subscribe link", chromedp.Click(chromedp.CSS(`a[href="/subscribe"]`), chromedp.NodeVisible))
		b.wantPage(t, "/subscribe", "fr", fr("subscribe.title"))
		b.accessible(t, "subscribe (fr)")
		b.fill(t, map[string]string{"email": "ada@example.org"})
		b.check(t, `input[name=scope][value=some]`)
		b.check(t, `input[name=service][value="`+strconv.FormatInt(mail.ID, 10)+`"]`)
		b.submit(t, `form[action="/subscribe"] button[type=submit]`, 200)
		b.wantPage(t, "/subscribe", "fr", fr("subscribe.sent_title"))
		b.accessible(t, "check your mailbox (fr)")
	})

	var sub *tocsin.Subscriber
	b.step(t, "confirm with the mailed link", func(t *testing.T) {
		msgs, err := a.db.Messages(bg, 10)
		if err != nil || len(msgs) != 1 || msgs[0].To != "ada@example.org" || msgs[0].Subject != fr("subscribe.mail_subject") {
			t.Fatalf("confirmation mail: %+v, %v", msgs, err)
		}
		m := regexp.MustCompile(`https?://\S+/subscribe/confirm\?token=\S+`).FindString(msgs[0].Body)
		link, err := url.Parse(m)
		if err != nil || m == "" {
			t.Fatalf("no link in %q", msgs[0].Body)
		}
		b.open(t, link.RequestURI())
		b.wantPage(t, "/subscribe/confirm", "fr", fr("subscribe.confirm_title"))
		b.accessible(t, "confirm (fr)")
		if n, _ := a.db.CountSubscribers(bg, tocsin.SubscriberConfirmed); n != 0 {
			t.Fatal("opening the link confirmed the subscription")
		}
		b.submit(t, `form[action="/subscribe/confirm"] button[type=submit]`, 200)
		b.wantPage(t, "/subscribe/confirm", "fr", fr("subscribe.done_title"))
		b.accessible(t, "confirmed (fr)")
		subs, _ := a.db.Subscribers(bg, tocsin.SubscriberFilter{Status: tocsin.SubscriberConfirmed})
		if len(subs) != 1 || subs[0].Lang != "fr" || subs[0].AllServices || len(subs[0].ServiceIDs) != 1 || subs[0].ServiceIDs[0] != mail.ID {
			t.Fatalf("subscribers %+v", subs)
		}
		sub = subs[0]
	})

	b.step(t, "unsubscribe with the link of a notification", func(t *testing.T) {
		link := notify.SubscriberMail{BaseURL: a.url, Key: a.box.DeriveKey(notify.UnsubscribeKeyLabel)}.UnsubscribeURL(sub)
		path := strings.TrimPrefix(link, a.url)
		b.open(t, path)
		b.wantPage(t, path, "fr", fr("unsubscribe.title"))
		b.accessible(t, "unsubscribe (fr)")
		b.submit(t, `main form button[type=submit]`, 200)
		b.wantPage(t, path, "fr", fr("unsubscribe.done_title"))
		b.accessible(t, "unsubscribed (fr)")
		if n, _ := a.db.CountSubscribers(bg, ""); n != 0 {
			t.Fatalf("%d subscribers left", n)
		}
	})
}
