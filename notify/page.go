package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// PageAckKeyLabel derives, from the at-rest key (auth.Box.DeriveKey), the
// key that signs acknowledgement links in pages; the server checks them.
const PageAckKeyLabel = "page-ack"

// PageWebhookKeyLabel derives the key from which each webhook contact's
// signing secret is made (PageWebhookSecret).
const PageWebhookKeyLabel = "page-webhook"

// Headers that route a page to a person's own webhook (not a subscription).
const (
	pageURLHeader     = "page_url"
	pageContactHeader = "page_contact"
)

// PageWebhookSecret is the secret a person's webhook contact verifies the
// X-Tocsin-Signature of pages with, from the key derived under
// PageWebhookKeyLabel.
func PageWebhookSecret(key []byte, contactID int64) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("contact:" + strconv.FormatInt(contactID, 10)))
	return []byte(hex.EncodeToString(mac.Sum(nil)))
}

// Pages writes the messages of pages (tocsin.PageComposer): in the
// recipient's language, with the report's subject, source, receipt and
// arrival, and a signed acknowledgement link, on every contact.
type Pages struct {
	BaseURL  string // the console's base URL, without a trailing slash
	Key      []byte // signs acknowledgement links (PageAckKeyLabel)
	Location *time.Location
}

var _ tocsin.PageComposer = Pages{}

// AckURL is the acknowledgement link for a.
func (c Pages) AckURL(a tocsin.PageAck) string {
	return c.BaseURL + "/ack/" + a.Sign(c.Key)
}

// PageMessages writes one message per contact of n.User.
func (c Pages) PageMessages(n tocsin.PageNote) []*tocsin.Message {
	lang := n.User.Lang
	if !i18n.Supported(lang) {
		lang = "en"
	}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") + " (" + loc.String() + ")" }
	ack := tocsin.PageAck{PageID: n.Page.ID, Level: n.Level, Step: n.Step, UserID: n.User.ID, Expires: n.At.Add(tocsin.PageAckLifetime).Truncate(time.Second)}
	ackURL := c.AckURL(ack)
	subject := i18n.T(lang, "pages.mail_subject", n.Page.Subject)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", i18n.T(lang, "pages.mail_intro", n.Level+1))
	field := func(key, v string) { fmt.Fprintf(&b, "%s\n", i18n.T(lang, "pages.mail_field", i18n.T(lang, key), v)) }
	field("pages.subject", n.Page.Subject)
	console := c.BaseURL + "/console/pages"
	if s := n.Signal; s != nil {
		field("signals.source", i18n.T(lang, "signals.source."+string(s.Source)))
		field("signals.receipt", s.Receipt)
		field("signals.received", when(s.ReceivedAt))
		console = fmt.Sprintf("%s/console/signals/%d", c.BaseURL, s.ID)
	} else if id := n.Page.SecurityIncidentID; id != nil {
		console = fmt.Sprintf("%s/console/security/%d", c.BaseURL, *id)
	}
	field("pages.paged_at", when(n.At))
	b.WriteString("\n")
	fmt.Fprintf(&b, "%s\n%s\n\n", i18n.T(lang, "pages.mail_ack", when(ack.Expires)), ackURL)
	fmt.Fprintf(&b, "%s\n%s\n", i18n.T(lang, "pages.mail_console"), console)
	body := b.String()

	var out []*tocsin.Message
	for _, k := range n.Contacts {
		m := &tocsin.Message{
			Channel: string(k.Kind), To: k.Address, Subject: subject, Body: body,
			Key: fmt.Sprintf("page:%d:level:%d:step:%d:user:%d:%s:%d", n.Page.ID, n.Level+1, n.Step, n.User.ID, k.Kind, k.ID),
		}
		if k.Kind == tocsin.ContactWebhook {
			payload, _ := json.Marshal(map[string]any{
				"page": map[string]any{"id": n.Page.ID, "subject": n.Page.Subject, "level": n.Level + 1, "step": n.Step,
					"paged_at": n.At.UTC().Format(time.RFC3339), "acknowledge_url": ackURL, "console_url": console},
			})
			m.Body = string(payload)
			m.Headers = map[string]string{pageURLHeader: k.Address, pageContactHeader: strconv.FormatInt(k.ID, 10)}
		}
		out = append(out, m)
	}
	return out
}
