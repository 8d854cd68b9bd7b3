package tocsin

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMatrixIDLen is the Matrix limit on any identifier, sigil included.
const maxMatrixIDLen = 255

// ParseMatrixRoom checks that s names a Matrix room, the To of a
// ChannelMatrix message: a room ID (!opaque:server.name, or the
// server-less !hash of room version 12) or a room alias (#name:server.name),
// and reports whether it is an alias. The opaque part may be anything but
// a colon, a space or a control character (a room ID pasted with a line
// break is a mistake, not a room).
func ParseMatrixRoom(s string) (alias bool, err error) {
	if !validMatrixRoom(s) {
		return false, Errorf(EINVALID, "%q is not a Matrix room: give a room ID such as !abc:example.org or an alias such as #ops:example.org", s).
			WithKey("matrix.room_invalid", s)
	}
	return s[0] == '#', nil
}

func validMatrixRoom(s string) bool {
	if len(s) < 2 || len(s) > maxMatrixIDLen || !utf8.ValidString(s) || (s[0] != '!' && s[0] != '#') {
		return false
	}
	local, server, hasServer := strings.Cut(s[1:], ":")
	if !hasServer {
		// Room version 12: the ID is the unpadded URL-safe base64 of a
		// SHA-256 hash, with no server name.
		return s[0] == '!' && len(local) == 43 && strings.Trim(local, base64URLChars) == ""
	}
	if local == "" || strings.IndexFunc(local, func(r rune) bool { return r == ' ' || unicode.IsControl(r) }) >= 0 {
		return false
	}
	return validServerName(server)
}

const base64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// validServerName follows the Matrix grammar: a DNS name, an IPv4 address
// or a bracketed IPv6 address, then an optional :port.
func validServerName(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		host, port = "", s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
			if port == "" {
				return false
			}
		}
	} else if h, p, ok := strings.Cut(s, ":"); ok {
		if p == "" {
			return false
		}
		host, port = h, p
	}
	if port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	if host == "" {
		return strings.HasPrefix(s, "[")
	}
	return strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == ""
}
