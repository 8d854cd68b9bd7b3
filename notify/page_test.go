package notify

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

func pageNote(lang string) tocsin.PageNote {
	at := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	return tocsin.PageNote{
		Page:   &tocsin.Page{ID: 7, Subject: "Bucket lists its files"},
		Signal: &tocsin.Signal{ID: 3, Source: tocsin.SourceEmail, Receipt: "K7QM-2XD9", ReceivedAt: at},
		Step:   2, Level: 1, Round: 1, At: at,
		User: &tocsin.User{ID: 42, Email: "ann@example.org", Lang: lang},
		Contacts: []*tocsin.Contact{
			{ID: 1, Kind: tocsin.ContactEmail, Address: "ann@example.org"},
			{ID: 2, Kind: tocsin.ContactMatrix, Address: "!ann:example.org"},
			{ID: 3, Kind: tocsin.ContactWebhook, Address: "https://hooks.example.org/page"},
		},
	}
}

func TestPagesMessages(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	key := []byte("0123456789abcdef0123456789abcdef")
	c := Pages{BaseURL: "https://tocsin.example.org", Key: key, Location: paris}
	tests := []struct {
		lang, subject, field string
	}{
		{"", "[tocsin] Page: Bucket lists its files", "Receipt: K7QM-2XD9"},
		{"en", "[tocsin] Page: Bucket lists its files", "Received: 2026-11-20 17:40 CET (Europe/Paris)"},
		{"fr", "[tocsin] Alerte : Bucket lists its files", "Source : Courriel"},
	}
	for _, tt := range tests {
		t.Run("lang "+tt.lang, func(t *testing.T) {
			msgs := c.PageMessages(pageNote(tt.lang))
			if len(msgs) != 3 {
				t.Fatalf("%d messages, want one per contact", len(msgs))
			}
			keys := map[string]bool{}
			for _, m := range msgs {
				keys[m.Key] = true
				if !strings.HasPrefix(m.Key, "page:7:level:2:step:2:user:42:") {
					t.Errorf("key %q", m.Key)
				}
			}
			if len(keys) != 3 {
				t.Errorf("keys not unique: %v", keys)
			}
			mail := msgs[0]
			if mail.Channel != tocsin.ChannelEmail || mail.Subject != tt.subject || !strings.Contains(mail.Body, tt.field) {
				t.Errorf("mail %s %q:\n%s", mail.Channel, mail.Subject, mail.Body)
			}
			if msgs[1].Channel != tocsin.ChannelMatrix || msgs[1].To != "!ann:example.org" || msgs[1].Body != mail.Body {
				t.Errorf("matrix message %+v", msgs[1])
			}
			link := "https://tocsin.example.org/ack/"
			i := strings.Index(mail.Body, link)
			if i < 0 {
				t.Fatalf("no acknowledgement link:\n%s", mail.Body)
			}
			tok, _, _ := strings.Cut(mail.Body[i+len(link):], "\n")
			a, err := tocsin.ParsePageAck(key, tok, pageNote("").At)
			want := tocsin.PageAck{PageID: 7, Level: 1, Step: 2, UserID: 42, Expires: pageNote("").At.Add(tocsin.PageAckLifetime)}
			if err != nil || a != want {
				t.Errorf("link names %+v, %v; want %+v", a, err, want)
			}
			var payload struct {
				Page struct {
					ID             int64  `json:"id"`
					AcknowledgeURL string `json:"acknowledge_url"`
				} `json:"page"`
			}
			if err := json.Unmarshal([]byte(msgs[2].Body), &payload); err != nil || payload.Page.ID != 7 || !strings.HasPrefix(payload.Page.AcknowledgeURL, link) {
				t.Errorf("webhook payload %s (%v)", msgs[2].Body, err)
			}
		})
	}
}

// A page to a person's webhook is POSTed to its URL, signed with the
// secret derived for that contact.
func TestWebhookSendsAPageToAContactURL(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	box, err := auth.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	now := time.Now()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- VerifySignature(PageWebhookSecret(box.DeriveKey(PageWebhookKeyLabel), 3), r.Header.Get(SignatureHeader), body, now, time.Minute)
	}))
	defer ts.Close()
	note := pageNote("en")
	note.Contacts = []*tocsin.Contact{{ID: 3, Kind: tocsin.ContactWebhook, Address: ts.URL + "/page"}}
	m := Pages{BaseURL: "https://tocsin.example.org", Key: key}.PageMessages(note)[0]
	ch := &Webhook{Box: box, Now: func() time.Time { return now }}
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("signature: %v", err)
	}
}
