package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// HubOptions says how to reach the hub.
type HubOptions struct {
	// CAFile is a PEM file of the CA that signed the hub's certificate
	// (a private CA); the system's roots are used when empty.
	CAFile string
	// InsecureHTTP allows an http:// hub on a loopback address (tests, or
	// a TLS proxy on the same machine); any other http:// URL is refused.
	InsecureHTTP bool
	// UserAgent names tocsin and the agent's location.
	UserAgent string
	// Timeout bounds each request (30 s when zero).
	Timeout time.Duration
}

// Hub is the client of the hub's agent API.
type Hub struct {
	base   *url.URL
	token  string
	ua     string
	client *http.Client
}

// HubError is an answer of the hub other than 2xx.
type HubError struct {
	Status  int
	Message string // the hub's error message
}

func (e *HubError) Error() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return fmt.Sprintf("the hub refused the token (401: %s): create one with `tocsin token create --role agent --name LOCATION` on the hub and pass it in TOCSIN_AGENT_TOKEN", e.Message)
	case http.StatusForbidden:
		return fmt.Sprintf("the hub refused the token (403: %s): an agent's token needs the role agent, and only it (tocsin token create --role agent --name LOCATION)", e.Message)
	}
	return fmt.Sprintf("the hub answered %d: %s", e.Status, e.Message)
}

// Refused reports whether the hub refused the token itself (401, 403):
// trying again will not help until a person changes it.
func (e *HubError) Refused() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// UnreachableError is a hub that could not be asked at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("hub unreachable at %s: %v (results are kept in the spool and sent when it answers)", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// NewHub checks the hub's URL and token and builds its client.
func NewHub(rawURL, token string, o HubOptions) (*Hub, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, fmt.Errorf("--hub %q: give the hub's URL, such as https://status.example.org", rawURL)
	}
	if u.Scheme == "http" {
		if !o.InsecureHTTP {
			return nil, fmt.Errorf("--hub %q: the token and results would cross the network in clear; give an https:// URL (--insecure-http allows http:// on a loopback address only)", rawURL)
		}
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("--hub %q: --insecure-http allows http:// only to a loopback address (127.0.0.0/8, ::1, localhost); use https:// to reach another machine", rawURL)
		}
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("no agent token: set TOCSIN_AGENT_TOKEN (or --token) to a token made on the hub with `tocsin token create --role agent --name LOCATION`")
	}
	if strings.ContainsAny(token, " \r\n\t") {
		return nil, errors.New("the agent token contains spaces or line breaks: copy it again as `tocsin token create` printed it")
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", o.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	tr.Proxy = nil // the hub is reached directly; a proxy would see the token
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return &Hub{base: u, token: token, ua: o.UserAgent, client: &http.Client{
		Transport: tr, Timeout: timeout,
		// A redirect could carry the token elsewhere: none is followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SetUserAgent changes the User-Agent of later requests; call it before
// the agent runs (the location is known once the hub has answered).
func (h *Hub) SetUserAgent(ua string) { h.ua = ua }

// URL is the hub's base URL.
func (h *Hub) URL() string { return h.base.String() }

// Checks fetches the checks to run and the location the hub knows the
// agent by.
func (h *Hub) Checks(ctx context.Context) (*tocsin.AgentChecks, error) {
	var out tocsin.AgentChecks
	if err := h.do(ctx, http.MethodGet, "/api/v1/agent/checks", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Send posts one batch of results.
func (h *Hub) Send(ctx context.Context, results []tocsin.AgentResult) (tocsin.AgentReceipt, error) {
	var out tocsin.AgentReceipt
	body, err := json.Marshal(tocsin.AgentResults{Results: results})
	if err != nil {
		return out, err
	}
	err = h.do(ctx, http.MethodPost, "/api/v1/agent/results", body, &out)
	return out, err
}

func (h *Hub) do(ctx context.Context, method, path string, body []byte, out any) error {
	u := *h.base
	u.Path += path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Accept", "application/json")
	if h.ua != "" {
		req.Header.Set("User-Agent", h.ua)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return &UnreachableError{URL: h.base.String(), Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &UnreachableError{URL: h.base.String(), Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &HubError{Status: resp.StatusCode, Message: msg}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &HubError{Status: resp.StatusCode, Message: fmt.Sprintf("not the agent API's answer (%v): is --hub the tocsin instance?", err)}
	}
	return nil
}
