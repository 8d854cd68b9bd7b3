package tocsin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PageAck is what an acknowledgement link in a page says: this page, paged
// at this level, to this person, until this time. It is signed with a key
// derived from the server's at-rest key (HMAC-SHA256), so it cannot be
// forged or altered; a page is acknowledged once, so a link used again (or
// one of the other links of the same page) only shows who acknowledged.
type PageAck struct {
	PageID  int64
	Level   int // 0-based
	Step    int
	UserID  int64
	Expires time.Time
}

// PageAckLifetime is how long an acknowledgement link works.
const PageAckLifetime = 24 * time.Hour

const pageAckVersion = "a1"

func (p PageAck) payload() string {
	return fmt.Sprintf("%s.%d.%d.%d.%d.%d", pageAckVersion, p.PageID, p.Level, p.Step, p.UserID, p.Expires.Unix())
}

// Sign returns the link's token.
func (p PageAck) Sign(key []byte) string {
	pl := p.payload()
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(pl))
	return base64.RawURLEncoding.EncodeToString([]byte(pl)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// ParsePageAck checks a token's signature and expiry at now. A token that
// is malformed or signed with another key is EINVALID; an expired one
// ECONFLICT. Neither says more than that.
func ParsePageAck(key []byte, token string, now time.Time) (PageAck, error) {
	forged := Errorf(EINVALID, "this acknowledgement link is not valid").WithKey("pages.ack_invalid")
	if len(token) > 300 {
		return PageAck{}, forged
	}
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return PageAck{}, forged
	}
	pl, err1 := base64.RawURLEncoding.DecodeString(enc)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return PageAck{}, forged
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(pl)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return PageAck{}, forged
	}
	f := strings.Split(string(pl), ".")
	if len(f) != 6 || f[0] != pageAckVersion {
		return PageAck{}, forged
	}
	var n [5]int64
	for i := range n {
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return PageAck{}, forged
		}
		n[i] = v
	}
	p := PageAck{PageID: n[0], Level: int(n[1]), Step: int(n[2]), UserID: n[3], Expires: time.Unix(n[4], 0).UTC()}
	// One token per link: spellings the decoders tolerate (line breaks in
	// base64, leading zeros) are refused.
	if p.Sign(key) != token {
		return PageAck{}, forged
	}
	if !now.Before(p.Expires) {
		return PageAck{}, Errorf(ECONFLICT, "this acknowledgement link expired").WithKey("pages.ack_expired")
	}
	return p, nil
}
