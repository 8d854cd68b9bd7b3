package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// The Matrix channel is tested against a real Dendrite (testpeer): each
// message is read back from the room with /messages.

// matrixBot is the account the channel posts as, in a room of its own
// with an alias, on a fresh homeserver.
type matrixBot struct {
	peer          *testpeer.MatrixPeer
	userID, token string
	room          string
}

func startMatrixBot(t *testing.T) *matrixBot {
	t.Helper()
	peer := testpeer.StartMatrix(t)
	userID, token := peer.Register(t, "tocsin")
	return &matrixBot{peer: peer, userID: userID, token: token, room: peer.CreateRoom(t, token, "astreinte")}
}

func (b *matrixBot) channel(t *testing.T, cfg MatrixConfig) *Matrix {
	t.Helper()
	if cfg.Homeserver == "" {
		cfg.Homeserver = b.peer.URL
	}
	if cfg.AccessToken == "" {
		cfg.AccessToken = b.token
	}
	c := NewMatrix(cfg)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// content decodes the events' contents.
func contents(t *testing.T, events []testpeer.MatrixEvent) []matrixEvent {
	t.Helper()
	var out []matrixEvent
	for _, e := range events {
		var c matrixEvent
		if err := json.Unmarshal(e.Content, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestMatrixPostsToARealHomeserverOnceAKey(t *testing.T) {
	b := startMatrixBot(t)
	c := b.channel(t, MatrixConfig{UserID: b.userID})
	ctx := context.Background()
	page := &tocsin.Message{Channel: tocsin.ChannelMatrix, To: b.room, Key: "page:7:1",
		Subject: "SEV1 : fuite de données <clients>", Body: "Accusez réception dans la console.\nhttps://status.example.org/console/security/7\n"}

	// The same key twice, as after a crash between sending and recording:
	// the homeserver keeps one event.
	for range 2 {
		if err := c.Send(ctx, page); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	// Through the alias, with another key: a second event in the same room.
	second := &tocsin.Message{Channel: tocsin.ChannelMatrix, To: "#astreinte:" + testpeer.MatrixServerName, Key: "page:7:2", Body: "Relance\n"}
	if err := c.Send(ctx, second); err != nil {
		t.Fatalf("Send through the alias: %v", err)
	}

	// A duplicate would be the second of three messages: reading two is
	// enough to see it.
	events := b.peer.RoomMessagesAtLeast(t, b.token, b.room, 2, 10*time.Second)
	got := contents(t, events)
	want := []matrixEvent{
		{MsgType: "m.text", Body: "SEV1 : fuite de données <clients>\n\nAccusez réception dans la console.\nhttps://status.example.org/console/security/7",
			Format:        "org.matrix.custom.html",
			FormattedBody: "<p><strong>SEV1 : fuite de données &lt;clients&gt;</strong></p><p>Accusez réception dans la console.<br>https://status.example.org/console/security/7</p>"},
		{MsgType: "m.text", Body: "Relance"},
	}
	if len(got) != len(want) {
		t.Fatalf("the room holds %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d = %+v, want %+v", i, got[i], want[i])
		}
		if events[i].Sender != b.userID {
			t.Errorf("message %d was sent by %s, want %s", i, events[i].Sender, b.userID)
		}
	}
}

func TestMatrixRefusalsArePermanentAndNeverQuoteTheToken(t *testing.T) {
	b := startMatrixBot(t)
	_, otherToken := b.peer.Register(t, "autre")
	foreign := b.peer.CreateRoom(t, otherToken, "") // the bot is not invited
	server := testpeer.MatrixServerName
	tests := []struct {
		name string
		cfg  MatrixConfig
		to   string
		want string // in the error
	}{
		{"bad token", MatrixConfig{AccessToken: "syt_not_a_real_token"}, b.room, "M_UNKNOWN_TOKEN"},
		{"room the account is not in", MatrixConfig{}, foreign, "M_FORBIDDEN"},
		{"unknown room", MatrixConfig{}, "!nosuchroom:" + server, "400"}, // Dendrite: M_UNSUPPORTED_ROOM_VERSION
		{"unknown alias", MatrixConfig{}, "#nosuchalias:" + server, "M_NOT_FOUND"},
		{"not a room", MatrixConfig{}, "astreinte@example.org", "not a Matrix room"},
		{"token of another account", MatrixConfig{UserID: "@pager:" + server}, b.room, "belongs to " + b.userID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := b.channel(t, tt.cfg)
			err := c.Send(context.Background(), &tocsin.Message{Channel: tocsin.ChannelMatrix, To: tt.to, Key: "k", Body: "x"})
			if err == nil || !IsPermanent(err) {
				t.Fatalf("Send = %v, want a permanent error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			for _, secret := range []string{b.token, otherToken, "syt_not_a_real_token"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes an access token", err)
				}
			}
		})
	}
	if got := b.peer.RoomMessages(t, otherToken, foreign); len(got) != 0 {
		t.Errorf("the foreign room holds %d messages, want none", len(got))
	}
}

// TestMatrixWorkerDeliversAndLogsNoToken: the outbox worker sends a
// matrix message through the channel, records it sent, and its log never
// shows the token, even when the homeserver refuses it.
func TestMatrixWorkerDeliversAndLogsNoToken(t *testing.T) {
	b := startMatrixBot(t)
	db := openStore(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := startWorker(t, db, b.channel(t, MatrixConfig{}), WorkerOptions{}, logger)
	now := time.Now().UTC()
	msgs := enqueue(t, db, now,
		&tocsin.Message{Channel: tocsin.ChannelMatrix, To: b.room, Key: "page:1", Subject: "Page", Body: "SEV1"},
		&tocsin.Message{Channel: tocsin.ChannelMatrix, To: "#inconnu:" + testpeer.MatrixServerName, Key: "page:2", Body: "SEV1"})
	w.Kick()
	eventually(t, "the page is sent and the refusal given up", func() bool {
		return stored(t, db, msgs[0].ID).SentAt != nil && stored(t, db, msgs[1].ID).DeadAt != nil
	})
	if s := stored(t, db, msgs[1].ID); !strings.Contains(s.LastError, "M_NOT_FOUND") || s.Attempts != 1 {
		t.Errorf("refused message: %d attempts, error %q; want 1 and M_NOT_FOUND", s.Attempts, s.LastError)
	}
	if got := contents(t, b.peer.RoomMessagesAtLeast(t, b.token, b.room, 1, 10*time.Second)); len(got) != 1 || got[0].Body != "Page\n\nSEV1" {
		t.Errorf("room holds %+v, want the one page", got)
	}
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if strings.Contains(text, b.token) || !strings.Contains(text, "message refused") {
		t.Errorf("log quotes the token or misses the refusal:\n%s", text)
	}
}

func TestMatrixRetriesWhenTheHomeserverIsUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := NewMatrix(MatrixConfig{Homeserver: "http://" + addr, AccessToken: "syt_secret", Client: &http.Client{Timeout: 5 * time.Second}})
	err = c.Send(context.Background(), &tocsin.Message{To: "!room:example.org", Key: "k", Body: "x"})
	if err == nil || IsPermanent(err) || strings.Contains(err.Error(), "syt_secret") {
		t.Fatalf("Send = %v, want a retryable error that does not quote the token", err)
	}
}

// TestMatrixFailureClassification covers the answers a test homeserver
// does not give on demand: rate limits, outages, a proxy's error page.
func TestMatrixFailureClassification(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		permanent bool
		after     time.Duration
		want      string
	}{
		{"rate limited", 429, nil, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500}`, false, 2500 * time.Millisecond, "M_LIMIT_EXCEEDED"},
		{"rate limited, Retry-After header", 429, http.Header{"Retry-After": {"7"}}, `{"errcode":"M_LIMIT_EXCEEDED"}`, false, 7 * time.Second, "429"},
		{"rate limited, no hint", 429, nil, ``, false, 0, "429"},
		{"server error", 500, nil, `{"errcode":"M_UNKNOWN","error":"database is locked"}`, false, 0, "database is locked"},
		{"proxy error page", 502, nil, `<html>Bad Gateway</html>`, false, 0, "502"},
		{"request timeout", 408, nil, ``, false, 0, "408"},
		{"unknown token", 401, nil, `{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token"}`, true, 0, "M_UNKNOWN_TOKEN"},
		{"forbidden", 403, nil, `{"errcode":"M_FORBIDDEN","error":"not in room"}`, true, 0, "M_FORBIDDEN"},
		{"not found", 404, nil, `{"errcode":"M_NOT_FOUND"}`, true, 0, "M_NOT_FOUND"},
		{"long error text", 400, nil, `{"errcode":"M_BAD_JSON","error":"` + strings.Repeat("x", 5000) + `"}`, true, 0, "M_BAD_JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Status: fmt.Sprintf("%d %s", tt.status, http.StatusText(tt.status)),
				Header: tt.header, Body: io.NopCloser(strings.NewReader(tt.body))}
			if resp.Header == nil {
				resp.Header = http.Header{}
			}
			err := matrixFailure(resp, []byte(tt.body))
			if IsPermanent(err) != tt.permanent || retryAfter(err) != tt.after {
				t.Errorf("error %v: permanent %v, retry after %v; want %v, %v", err, IsPermanent(err), retryAfter(err), tt.permanent, tt.after)
			}
			if !strings.Contains(err.Error(), tt.want) || len(err.Error()) > 400 {
				t.Errorf("error %q: want %q in at most 400 bytes", err, tt.want)
			}
		})
	}
}

func TestMatrixValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  MatrixConfig
		want string // "" for valid
	}{
		{"valid", MatrixConfig{Homeserver: "https://matrix.example.org/", AccessToken: "syt_secret", UserID: "@tocsin:example.org"}, ""},
		{"no homeserver", MatrixConfig{AccessToken: "syt_secret"}, "homeserver"},
		{"homeserver without scheme", MatrixConfig{Homeserver: "matrix.example.org", AccessToken: "syt_secret"}, "homeserver"},
		{"no token", MatrixConfig{Homeserver: "https://matrix.example.org"}, "access token"},
		{"token with a line break", MatrixConfig{Homeserver: "https://matrix.example.org", AccessToken: "syt_secret\n"}, "line breaks"},
		{"bad user ID", MatrixConfig{Homeserver: "https://matrix.example.org", AccessToken: "syt_secret", UserID: "tocsin"}, "user ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewMatrix(tt.cfg).Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "syt_secret") {
				t.Errorf("Validate = %v, want an error about %q that does not quote the token", err, tt.want)
			}
		})
	}
	if a, b := TxnID("page:1"), TxnID("page:1"); a != b || a == TxnID("page:2") || strings.ContainsAny(a, "/:!#") {
		t.Errorf("TxnID is not a stable, distinct, path-safe function of the key: %q %q", a, TxnID("page:2"))
	}
}
