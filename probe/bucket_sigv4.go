package probe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// SigV4Key is what AWS Signature Version 4 signs with. The secret is
// never written anywhere: not in results, not in errors, not in logs.
type SigV4Key struct {
	AccessKeyID string
	Secret      string
	Region      string // "us-east-1" when empty
	Service     string // "s3" when empty
}

// EmptyPayloadHash is the hex SHA-256 of an empty body.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// SignV4 signs r for S3: it sets X-Amz-Date, X-Amz-Content-Sha256 and
// Authorization. The payload's SHA-256 is computed from payload. It is
// exported so that the S3 test peer can sign its administrative
// requests with the same code the prober uses.
func SignV4(r *http.Request, payload []byte, k SigV4Key, now time.Time) {
	sum := sha256.Sum256(payload)
	hash := hex.EncodeToString(sum[:])
	r.Header.Set("X-Amz-Content-Sha256", hash)
	signV4(r, hash, k, now)
}

// signV4 sets X-Amz-Date and Authorization on r, signing the host and
// every header r carries except Authorization and User-Agent (which
// proxies rewrite), with payloadHash as the body's hash. It is split from
// SignV4 so that the published test suite (which, unlike S3, does not
// send X-Amz-Content-Sha256) can be checked against it.
func signV4(r *http.Request, payloadHash string, k SigV4Key, now time.Time) {
	region, service := k.Region, k.Service
	if region == "" {
		region = "us-east-1"
	}
	if service == "" {
		service = "s3"
	}
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	r.Header.Set("X-Amz-Date", amzDate)
	creq, signed := sigV4CanonicalRequest(r, payloadHash)
	scope := day + "/" + region + "/" + service + "/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256(creq)
	key := hmacSHA256([]byte("AWS4"+k.Secret), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, sts))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+k.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// sigV4CanonicalRequest returns the canonical request of r and its list
// of signed headers.
func sigV4CanonicalRequest(r *http.Request, payloadHash string) (creq, signedHeaders string) {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	headers := map[string][]string{"host": {host}}
	for name, vals := range r.Header {
		n := strings.ToLower(name)
		if n == "authorization" || n == "user-agent" || n == "host" {
			continue
		}
		headers[n] = append(headers[n], vals...)
	}
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, n := range names {
		vals := make([]string, len(headers[n]))
		for i, v := range headers[n] {
			vals[i] = strings.Join(strings.Fields(v), " ") // trim, collapse inner spaces
		}
		ch.WriteString(n + ":" + strings.Join(vals, ",") + "\n")
	}
	signedHeaders = strings.Join(names, ";")
	creq = r.Method + "\n" + sigV4CanonicalURI(r.URL) + "\n" + sigV4CanonicalQuery(r.URL.RawQuery) + "\n" +
		ch.String() + "\n" + signedHeaders + "\n" + payloadHash
	return creq, signedHeaders
}

// sigV4CanonicalURI encodes each path segment once, as S3 expects (no
// normalisation of "." or "//": S3 keys may contain them).
func sigV4CanonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
		segs[i] = sigV4Escape(s)
	}
	return strings.Join(segs, "/")
}

// sigV4CanonicalQuery sorts the parameters by encoded name, then value.
func sigV4CanonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		// Query strings decode "+" as a space; S3 signs it as a literal.
		if d, err := url.PathUnescape(k); err == nil {
			k = d
		}
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
		pairs = append(pairs, pair{sigV4Escape(k), sigV4Escape(v)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// sigV4Escape percent-encodes every byte but the unreserved ones, with
// upper-case hex, as SigV4 requires.
func sigV4Escape(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
