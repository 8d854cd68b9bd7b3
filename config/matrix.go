package config

import (
	"net"
	"net/url"
	"strings"
)

// Matrix is the account the outbox posts to Matrix rooms as (paging sends
// to rooms). An empty homeserver disables Matrix delivery.
type Matrix struct {
	Homeserver string `yaml:"homeserver"` // base URL of the client API, such as https://matrix.example.org
	// AccessToken is the account's token; better set through
	// TOCSIN_MATRIX_ACCESS_TOKEN than in the file. Never printed.
	AccessToken string `yaml:"access_token"`
	UserID      string `yaml:"user_id"` // optional: the account's ID, checked against the token's owner
}

// validate checks the section; an error never quotes the token.
func (m *Matrix) validate(bad func(key string, value any, allowed string) error) error {
	if m.Homeserver == "" {
		if m.AccessToken != "" || m.UserID != "" {
			return bad("matrix.homeserver", "", "set it to the homeserver's URL, such as https://matrix.example.org, or remove the other matrix settings")
		}
		return nil
	}
	u, err := url.Parse(m.Homeserver)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		!(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
		return bad("matrix.homeserver", redactURL(m.Homeserver),
			"the https:// URL of the homeserver's client API, such as https://matrix.example.org (http:// only on this host: the token would cross the network in clear)")
	}
	if strings.TrimSpace(m.AccessToken) == "" {
		return bad("matrix.access_token", "", "set the account's access token, preferably in "+EnvName("matrix.access_token"))
	}
	if strings.ContainsAny(m.AccessToken, " \t\r\n") {
		return bad("matrix.access_token", "(hidden)", "a token without spaces or line breaks: check what was pasted")
	}
	if id := m.UserID; id != "" {
		local, server, ok := strings.Cut(strings.TrimPrefix(id, "@"), ":")
		if !strings.HasPrefix(id, "@") || !ok || local == "" || server == "" || strings.ContainsAny(id, " /") {
			return bad("matrix.user_id", id, "the account's full ID, such as @tocsin:example.org, or nothing")
		}
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
