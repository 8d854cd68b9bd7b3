package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/markdown"
)

// UnsubscribeKeyLabel derives, from the at-rest key (auth.Box.DeriveKey),
// the key that signs unsubscribe links; the server checks what the fan-out
// signs.
const UnsubscribeKeyLabel = "unsubscribe"

// SubscriberMail writes the mails subscribers receive: in their language,
// with the update's text, a link to its page and a one-click unsubscribe
// link (RFC 8058 headers included).
type SubscriberMail struct {
	BaseURL string // the public site, without a trailing slash
	Key     []byte // signs unsubscribe links (auth.SubscriberToken)
	// Location is the host's time zone, in which mails give times, naming
	// it as the status page does; nil for UTC.
	Location *time.Location
}

// UnsubscribeURL is the link that erases s.
func (c SubscriberMail) UnsubscribeURL(s *tocsin.Subscriber) string {
	return fmt.Sprintf("%s/unsubscribe/%d/%s", c.BaseURL, s.ID, auth.SubscriberToken(c.Key, s.ID, s.Nonce))
}

// noticeText is a notice's body as plain text; a body the renderer
// refuses (it was accepted when published, so this is unexpected) is sent
// as typed rather than not at all.
func noticeText(n *tocsin.Notice) string {
	text, err := markdown.Text(n.Body)
	if err != nil {
		return n.Body
	}
	return strings.TrimSpace(text)
}

// Compose writes the message of notice n to subscriber s; text is n's body
// as plain text (noticeText, computed once per notice).
func (c SubscriberMail) Compose(n *tocsin.Notice, text string, s *tocsin.Subscriber) *tocsin.Message {
	lang := s.Lang
	if !i18n.Supported(lang) {
		lang = "en"
	}
	status := i18n.T(lang, "public.incident_status."+n.Status)
	if n.Status == tocsin.NoticeReminder {
		status = i18n.T(lang, "notice.mail_reminder")
	}
	unsubscribe := c.UnsubscribeURL(s)
	var b strings.Builder
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	at := n.At.In(loc).Format("2006-01-02 15:04 MST") + " (" + loc.String() + ")"
	fmt.Fprintf(&b, "%s\n%s — %s\n\n%s\n\n", n.Title, status, at, text)
	more := "notice.mail_more"
	if n.Kind == tocsin.NoticeMaintenance {
		more = "notice.mail_more_maintenance"
	}
	fmt.Fprintf(&b, "%s\n%s/%s%s\n\n-- \n", i18n.T(lang, more), c.BaseURL, lang, n.Path)
	fmt.Fprintf(&b, "%s\n%s: %s\n", i18n.T(lang, "notice.mail_why"), i18n.T(lang, "notice.mail_unsubscribe"), unsubscribe)
	return &tocsin.Message{
		Channel: tocsin.ChannelEmail,
		To:      s.Email,
		Subject: i18n.T(lang, "notice.mail_subject", n.Title, status),
		Body:    b.String(),
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + unsubscribe + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		// One key per (notice, subscriber): a fan-out replayed after a crash
		// inserts nothing new, and the worker sends each key once.
		Key: fmt.Sprintf("notice:%d:subscriber:%d", n.ID, s.ID),
	}
}
