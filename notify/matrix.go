package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
)

// maxMatrixReply bounds what is read of a homeserver's answer: the ones we
// read are a few hundred bytes.
const maxMatrixReply = 64 << 10

// MatrixConfig is the account the Matrix channel posts as.
type MatrixConfig struct {
	Homeserver  string // base URL of the client-server API, such as https://matrix.example.org
	AccessToken string // the account's token; never logged nor put in an error
	// UserID, when set, is checked against the token's owner before the
	// first message, so that a token pasted from another account is
	// refused plainly rather than posting as someone else.
	UserID string
	Client *http.Client // default: 30 s timeout, redirects not followed
}

// Matrix is the Matrix channel: it posts each message as an m.text
// m.room.message event to the room named by its To (a room ID, or an alias
// it resolves), with the client-server API. The transaction ID is derived
// from Message.Key, so that the homeserver drops a copy sent again after a
// crash between sending and recording it (Matrix deduplicates a
// transaction ID per access token).
type Matrix struct {
	cfg    MatrixConfig
	base   *url.URL
	client *http.Client

	mu      sync.Mutex
	checked bool // UserID matched the token's owner once
}

// NewMatrix returns the channel; Validate says what is wrong with cfg.
func NewMatrix(cfg MatrixConfig) *Matrix {
	c := &Matrix{cfg: cfg, client: cfg.Client}
	c.base, _ = url.Parse(strings.TrimRight(cfg.Homeserver, "/"))
	if c.client == nil {
		c.client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return c
}

// Name is tocsin.ChannelMatrix.
func (c *Matrix) Name() string { return tocsin.ChannelMatrix }

// Validate checks the homeserver URL, that a token is set (its value is
// never quoted) and the user ID's form.
func (c *Matrix) Validate() error {
	u := c.base
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return tocsin.Errorf(tocsin.EINVALID, "notify: matrix homeserver %q is not valid: give the base URL of the homeserver's client API, such as https://matrix.example.org", c.cfg.Homeserver)
	}
	if strings.TrimSpace(c.cfg.AccessToken) == "" || strings.ContainsAny(c.cfg.AccessToken, " \t\r\n") {
		return tocsin.Errorf(tocsin.EINVALID, "notify: the matrix access token is missing or contains spaces or line breaks")
	}
	if id := c.cfg.UserID; id != "" {
		local, server, ok := strings.Cut(strings.TrimPrefix(id, "@"), ":")
		if !strings.HasPrefix(id, "@") || !ok || local == "" || !validMatrixServer(server) {
			return tocsin.Errorf(tocsin.EINVALID, "notify: matrix user ID %q is not valid: give the account's full ID, such as @tocsin:example.org", id)
		}
	}
	return nil
}

// validMatrixServer checks a server name with the room grammar, which
// shares it.
func validMatrixServer(s string) bool {
	_, err := tocsin.ParseMatrixRoom("!x:" + s)
	return err == nil
}

// TxnID is the transaction ID of the message with key: the same key gives
// the same ID, and so one event however often it is sent.
func TxnID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "tocsin-" + hex.EncodeToString(sum[:16])
}

// matrixEvent is the content of an m.room.message of msgtype m.text.
type matrixEvent struct {
	MsgType       string `json:"msgtype"`
	Body          string `json:"body"`
	Format        string `json:"format,omitempty"`
	FormattedBody string `json:"formatted_body,omitempty"`
}

// matrixContent is the event for m: the subject, a blank line and the
// body, and the same in HTML with the subject in bold for clients that
// show it.
func matrixContent(m *tocsin.Message) matrixEvent {
	body := strings.TrimRight(m.Body, "\n")
	if m.Subject == "" {
		return matrixEvent{MsgType: "m.text", Body: body}
	}
	return matrixEvent{
		MsgType:       "m.text",
		Body:          m.Subject + "\n\n" + body,
		Format:        "org.matrix.custom.html",
		FormattedBody: "<p><strong>" + html.EscapeString(m.Subject) + "</strong></p><p>" + strings.ReplaceAll(html.EscapeString(body), "\n", "<br>") + "</p>",
	}
}

// Send delivers m (see Matrix).
func (c *Matrix) Send(ctx context.Context, m *tocsin.Message) error {
	alias, err := tocsin.ParseMatrixRoom(m.To)
	if err != nil {
		return Permanent(err)
	}
	if err := c.checkUser(ctx); err != nil {
		return err
	}
	room := m.To
	if alias {
		var r struct {
			RoomID string `json:"room_id"`
		}
		if err := c.call(ctx, http.MethodGet, "directory/room/"+url.PathEscape(m.To), nil, &r); err != nil {
			return fmt.Errorf("resolving the alias: %w", err)
		}
		if a, err := tocsin.ParseMatrixRoom(r.RoomID); err != nil || a {
			return fmt.Errorf("the homeserver resolved the alias to %q, which is not a room ID", r.RoomID)
		}
		room = r.RoomID
	}
	body, err := json.Marshal(matrixContent(m))
	if err != nil {
		return Permanent(err)
	}
	path := "rooms/" + url.PathEscape(room) + "/send/m.room.message/" + url.PathEscape(TxnID(m.Key))
	var r struct {
		EventID string `json:"event_id"`
	}
	return c.call(ctx, http.MethodPut, path, body, &r)
}

// checkUser compares UserID with the token's owner, once it matched.
func (c *Matrix) checkUser(ctx context.Context) error {
	if c.cfg.UserID == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checked {
		return nil
	}
	var r struct {
		UserID string `json:"user_id"`
	}
	if err := c.call(ctx, http.MethodGet, "account/whoami", nil, &r); err != nil {
		return fmt.Errorf("checking the access token's user: %w", err)
	}
	if r.UserID != c.cfg.UserID {
		return Permanent(fmt.Errorf("the matrix access token belongs to %s, not to matrix.user_id %s", r.UserID, c.cfg.UserID))
	}
	c.checked = true
	return nil
}

// matrixError is the error body of the client-server API.
type matrixError struct {
	ErrCode      string `json:"errcode"`
	Error        string `json:"error"`
	RetryAfterMS int64  `json:"retry_after_ms"`
}

// call sends one request to /_matrix/client/v3/path and decodes a 200
// answer into out. The error it returns is classified: Permanent for a
// refusal (bad token, forbidden, unknown room), RetryAfter for a rate
// limit, plain for what may pass (5xx, network).
func (c *Matrix) call(ctx context.Context, method, path string, body []byte, out any) error {
	// path is escaped already: room IDs hold '!' and ':', maybe '/'.
	u := strings.TrimRight(c.base.String(), "/") + "/_matrix/client/v3/" + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	req.Header.Set("User-Agent", "tocsin-matrix/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxMatrixReply))
	if err != nil {
		return fmt.Errorf("matrix %s: reading the answer: %w", resp.Status, err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("matrix: the homeserver's answer is not JSON: %w", err)
		}
		return nil
	}
	return matrixFailure(resp, data)
}

// matrixFailure classifies a non-200 answer.
func matrixFailure(resp *http.Response, data []byte) error {
	var e matrixError
	_ = json.Unmarshal(data, &e) // a proxy's HTML error page has no errcode
	err := fmt.Errorf("matrix %s", resp.Status)
	if e.ErrCode != "" {
		msg := e.Error
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		err = fmt.Errorf("matrix %s: %s: %s", resp.Status, e.ErrCode, msg)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || e.ErrCode == "M_LIMIT_EXCEEDED":
		wait := time.Duration(e.RetryAfterMS) * time.Millisecond
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && wait == 0 {
			wait = time.Duration(s) * time.Second
		}
		return RetryAfter(err, wait)
	case code == http.StatusRequestTimeout:
		return err
	case code >= 400 && code < 500:
		// M_FORBIDDEN (not in the room), M_UNKNOWN_TOKEN, M_NOT_FOUND
		// (unknown room or alias), M_BAD_JSON: sending the same again
		// gets the same answer.
		return Permanent(err)
	}
	return err
}
