package httpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestBrowserReport files a report through the public form in a real
// browser, in French and English, under axe-core: the form, a refusal that
// keeps what was typed, and the receipt page.
func TestBrowserReport(t *testing.T) {
	ctx := testpeer.Chromium(t)
	a := startApp(t)
	b := &browser{ctx: ctx, base: a.url, axe: testpeer.AxeScript(t)}
	for _, lang := range []string{"fr", "en"} {
		tr := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
		b.step(t, lang, func(t *testing.T) {
			b.setHeaders(t, map[string]string{"Accept-Language": lang})
			b.open(t, "/report")
			b.wantPage(t, "/report", lang, tr("report.title"))
			b.accessible(t, "report form ("+lang+")")

			// No subject: refused, the description kept.
			b.fill(t, map[string]string{"report-body": "<script>alert(1)</script> the bucket lists its files"})
			// form.submit() skips the browser's own check of required
			// fields, as an old browser or a script would.
			b.follow(t, "submit without a subject", chromedp.Submit(chromedp.CSS("#report-body")))
			b.wantPage(t, "/report", lang, tr("report.title"))
			if got := b.text(t, "#report-error"); got != tr("signals.subject_empty") {
				t.Errorf("error %q, want %q", got, tr("signals.subject_empty"))
			}
			if got := eval[string](t, b, `document.getElementById("report-body").value`); !strings.HasPrefix(got, "<script>alert(1)</script>") {
				t.Errorf("description not kept: %q", got)
			}
			b.accessible(t, "report refused ("+lang+")")

			b.fill(t, map[string]string{"report-subject": "Bucket " + lang, "report-contact": "finder@example.net"})
			b.submit(t, `main form[action="/report"] button[type=submit]`, 200)
			b.wantPage(t, "/report", lang, tr("report.done_title"))
			receipt := b.text(t, "#receipt")
			b.accessible(t, "report received ("+lang+")")
			list, err := a.db.Signals(context.Background(), tocsin.SignalFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 0 || list[0].Receipt != receipt || list[0].Subject != "Bucket "+lang {
				t.Errorf("receipt %q does not name the stored report", receipt)
			}
		})
	}
}
