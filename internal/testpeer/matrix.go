package testpeer

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Matrix peer is a real Dendrite homeserver (matrix-org/dendrite, pure
// Go, SQLite) with federation off, listening on plain HTTP on 127.0.0.1.
// Its programs (dendrite, generate-keys) are built by .ci/run into
// .cache/dendrite/bin of the repository, or found on PATH. Accounts are
// made with shared-secret registration, which answers with a token, so no
// password login is needed.

// MatrixServerName is the peer's server name: user and room IDs end in it.
const MatrixServerName = "localhost"

// MatrixPeer is a running Dendrite.
type MatrixPeer struct {
	URL string // http://127.0.0.1:port, the client-server API's base URL
	Dir string // the peer's temporary directory

	secret string // registration_shared_secret
	proc   *process
	client *http.Client
}

// StartMatrix starts a homeserver for the length of the test. It skips the
// test when Dendrite is not installed, or fails it when
// TOCSIN_REQUIRE_PEERS is set.
func StartMatrix(t testing.TB) *MatrixPeer {
	t.Helper()
	dendrite, err := findDendrite("dendrite")
	if err != nil {
		unavailable(t, "Matrix peer needs Dendrite (.ci/run builds it into .cache/dendrite/bin): %v", err)
	}
	genKeys, err := findDendrite("generate-keys")
	if err != nil {
		unavailable(t, "Matrix peer needs Dendrite's generate-keys: %v", err)
	}
	var lastErr error
	for range 3 { // a port picked may be taken before Dendrite binds it
		dir := t.TempDir()
		p, err := startDendrite(dendrite, genKeys, dir)
		if err == nil {
			t.Cleanup(func() {
				if err := p.proc.stop(5 * time.Second); err != nil {
					t.Errorf("testpeer: %v", err)
				}
			})
			return p
		}
		lastErr = err
	}
	t.Fatalf("testpeer: Matrix peer: %v", lastErr)
	return nil
}

// findDendrite looks for one of Dendrite's programs in the repository's
// .cache/dendrite/bin, then on PATH.
func findDendrite(name string) (string, error) {
	if dir, err := os.Getwd(); err == nil {
		for ; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, ".cache", "dendrite", "bin", name)
				if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
					return p, nil
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return findProgram(name)
}

// dendriteConfig is the homeserver's configuration: every database a
// SQLite file in dir, streams in memory, no federation, no rate limit (a
// test sends quickly), cheap password hashing.
const dendriteConfig = `version: 2
global:
  server_name: {{server}}
  private_key: {{dir}}/matrix_key.pem
  disable_federation: true
  trusted_third_party_id_servers: []
  presence: {enable_inbound: false, enable_outbound: false}
  report_stats: {enabled: false}
  jetstream: {in_memory: true, storage_path: {{dir}}/jetstream, topic_prefix: Dendrite}
  dns_cache: {enabled: false}
app_service_api:
  database: {connection_string: "file:{{dir}}/appservice.db"}
client_api:
  registration_disabled: true
  guests_disabled: true
  registration_shared_secret: "{{secret}}"
  rate_limiting: {enabled: false}
federation_api:
  database: {connection_string: "file:{{dir}}/federation.db"}
  key_perspectives: []
key_server:
  database: {connection_string: "file:{{dir}}/keys.db"}
media_api:
  database: {connection_string: "file:{{dir}}/media.db"}
  base_path: {{dir}}/media
mscs:
  database: {connection_string: "file:{{dir}}/mscs.db"}
relay_api:
  database: {connection_string: "file:{{dir}}/relay.db"}
room_server:
  database: {connection_string: "file:{{dir}}/roomserver.db"}
sync_api:
  database: {connection_string: "file:{{dir}}/sync.db"}
  search: {enabled: false}
user_api:
  bcrypt_cost: 4
  account_database: {connection_string: "file:{{dir}}/userapi.db"}
logging:
  - {type: std, level: warn}
`

// startDendrite writes the configuration and key into dir, starts the
// server on a free port and waits until it answers.
func startDendrite(dendrite, genKeys, dir string) (*MatrixPeer, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	p := &MatrixPeer{
		URL: "http://127.0.0.1:" + strconv.Itoa(ports[0]), Dir: dir,
		secret: hex.EncodeToString(secret), client: &http.Client{Timeout: 30 * time.Second},
	}
	conf := dendriteConfig
	for k, v := range map[string]string{"{{server}}": MatrixServerName, "{{dir}}": dir, "{{secret}}": p.secret} {
		conf = strings.ReplaceAll(conf, k, v)
	}
	confPath := filepath.Join(dir, "dendrite.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "dendrite.log")
	keys, err := startProcess("generate-keys", logPath, genKeys, "--private-key", filepath.Join(dir, "matrix_key.pem"))
	if err != nil {
		return nil, err
	}
	<-keys.done
	if keys.err != nil {
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("generate-keys: %v\n%s", keys.err, lastLines(log, 20))
	}
	p.proc, err = startProcess("dendrite", logPath, dendrite, "-config", confPath,
		"-http-bind-address", "127.0.0.1:"+strconv.Itoa(ports[0]))
	if err != nil {
		return nil, err
	}
	// Dendrite opens its databases and runs their migrations before it
	// listens: seconds on a loaded machine.
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := p.client.Get(p.URL + "/_matrix/client/versions")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if p.proc.exited() || time.Now().After(deadline) {
			_ = p.proc.stop(5 * time.Second)
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("dendrite did not answer on %s (exit: %v):\n%s", p.URL, p.proc.err, lastLines(log, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Register creates the account @localpart:localhost with shared-secret
// registration and returns its user ID and access token.
func (p *MatrixPeer) Register(t testing.TB, localpart string) (userID, token string) {
	t.Helper()
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	p.Do(t, http.MethodGet, "/_synapse/admin/v1/register", "", nil, &nonce)
	password := hex.EncodeToString([]byte(localpart + "-password"))
	mac := hmac.New(sha1.New, []byte(p.secret))
	mac.Write([]byte(nonce.Nonce + "\x00" + localpart + "\x00" + password + "\x00notadmin"))
	var r struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
	}
	p.Do(t, http.MethodPost, "/_synapse/admin/v1/register", "", map[string]any{
		"nonce": nonce.Nonce, "username": localpart, "password": password, "admin": false,
		"mac": hex.EncodeToString(mac.Sum(nil)),
	}, &r)
	if r.UserID == "" || r.AccessToken == "" {
		t.Fatalf("testpeer: registering %s gave no user ID or token", localpart)
	}
	return r.UserID, r.AccessToken
}

// CreateRoom creates a private room as the token's owner, with the alias
// #aliasLocalpart:localhost unless it is "", and returns its ID.
func (p *MatrixPeer) CreateRoom(t testing.TB, token, aliasLocalpart string) string {
	t.Helper()
	req := map[string]any{"preset": "private_chat", "name": "tocsin test"}
	if aliasLocalpart != "" {
		req["room_alias_name"] = aliasLocalpart
	}
	var r struct {
		RoomID string `json:"room_id"`
	}
	p.Do(t, http.MethodPost, "/_matrix/client/v3/createRoom", token, req, &r)
	return r.RoomID
}

// MatrixEvent is a room event as /messages returns it.
type MatrixEvent struct {
	EventID string          `json:"event_id"`
	Type    string          `json:"type"`
	Sender  string          `json:"sender"`
	Content json.RawMessage `json:"content"`
}

// RoomMessages returns the room's m.room.message events, oldest first, as
// the token's owner (a member) reads them.
func (p *MatrixPeer) RoomMessages(t testing.TB, token, roomID string) []MatrixEvent {
	t.Helper()
	var r struct {
		Chunk []MatrixEvent `json:"chunk"`
	}
	p.Do(t, http.MethodGet, "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/messages?dir=b&limit=100", token, nil, &r)
	var msgs []MatrixEvent
	for i := len(r.Chunk) - 1; i >= 0; i-- {
		if r.Chunk[i].Type == "m.room.message" {
			msgs = append(msgs, r.Chunk[i])
		}
	}
	return msgs
}

// RoomMessagesAtLeast is RoomMessages once it holds at least n messages:
// Dendrite's client API shows an event a moment after its send returned.
// After timeout it returns what the room holds, for the test to judge.
func (p *MatrixPeer) RoomMessagesAtLeast(t testing.TB, token, roomID string, n int, timeout time.Duration) []MatrixEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := p.RoomMessages(t, token, roomID)
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Do sends one request to the homeserver and decodes its 200 answer into
// out; any other answer fails the test.
func (p *MatrixPeer) Do(t testing.TB, method, path, token string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("testpeer: matrix %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = errors.New(resp.Status)
	}
	if err != nil {
		t.Fatalf("testpeer: matrix %s %s: %v: %s", method, path, err, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("testpeer: matrix %s %s: %v: %s", method, path, err, data)
		}
	}
}
