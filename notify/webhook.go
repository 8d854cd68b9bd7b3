package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

// WebhookSecretAD is the additional data webhook secrets are sealed with,
// so that a sealed secret cannot be passed off as another kind of secret.
const WebhookSecretAD = "tocsin webhook secret"

// SignatureHeader carries "t=UNIX,v1=HEX": HEX is the HMAC-SHA256, under
// the subscription's secret, of the decimal timestamp, a dot and the body.
// Receivers check it and refuse old timestamps, against replays.
const SignatureHeader = "X-Tocsin-Signature"

// webhookIDHeader is where a webhook message names its subscription (the
// message's Headers; it is not sent).
const webhookIDHeader = "webhook_id"

// Sign returns the signature header value of body at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a signature header against body, refusing a
// timestamp further than tolerance from now.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return errors.New("malformed signature header")
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp %s is too far from now", at.UTC().Format(time.RFC3339))
	}
	_, want, _ := strings.Cut(Sign(secret, at, body), ",v1=")
	if !hmac.Equal([]byte(v1), []byte(want)) {
		return errors.New("signature does not match")
	}
	return nil
}

// Webhook is the webhook channel: it POSTs a message's JSON body to its
// subscription's URL, signed with the subscription's secret. A non-2xx
// answer is an error the outbox retries; a deleted subscription is a
// permanent one.
type Webhook struct {
	Store interface {
		Webhook(ctx context.Context, id int64) (*tocsin.Webhook, error)
	}
	Box    *auth.Box
	Client *http.Client     // default: 10 s timeout, redirects not followed
	Now    func() time.Time // default time.Now
}

// Name is tocsin.ChannelWebhook.
func (c *Webhook) Name() string { return tocsin.ChannelWebhook }

// Validate checks that the channel can look up and open secrets.
func (c *Webhook) Validate() error {
	if c.Store == nil || c.Box == nil {
		return tocsin.Errorf(tocsin.EINVALID, "notify: the webhook channel needs the store and the secret box")
	}
	return nil
}

// Send delivers m (see Webhook).
func (c *Webhook) Send(ctx context.Context, m *tocsin.Message) error {
	target, secret, id, err := c.target(ctx, m)
	if err != nil {
		return err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	body := []byte(m.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tocsin-webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, now(), body))
	req.Header.Set("X-Tocsin-Delivery", m.Key) // the same on every retry: receivers drop copies
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %d answered %s", id, resp.Status)
	}
	return nil
}

// target returns where m goes and the secret that signs it: a page to a
// person's own webhook contact (its URL in the message, its secret derived
// from the at-rest key), else a subscription's URL and sealed secret.
func (c *Webhook) target(ctx context.Context, m *tocsin.Message) (string, []byte, int64, error) {
	if u := m.Headers[pageURLHeader]; u != "" {
		contact, err := strconv.ParseInt(m.Headers[pageContactHeader], 10, 64)
		if err != nil {
			return "", nil, 0, Permanent(errors.New("the page names no contact"))
		}
		return u, PageWebhookSecret(c.Box.DeriveKey(PageWebhookKeyLabel), contact), contact, nil
	}
	id, err := strconv.ParseInt(m.Headers[webhookIDHeader], 10, 64)
	if err != nil {
		return "", nil, 0, Permanent(errors.New("the message names no webhook subscription"))
	}
	w, err := c.Store.Webhook(ctx, id)
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		return "", nil, 0, Permanent(fmt.Errorf("webhook %d was deleted", id))
	} else if err != nil {
		return "", nil, 0, err
	}
	secret, err := c.Box.Open(w.SecretSealed, []byte(WebhookSecretAD))
	if err != nil {
		return "", nil, 0, Permanent(fmt.Errorf("webhook %d: cannot open its secret: %w", id, err))
	}
	return w.URL, secret, id, nil
}
