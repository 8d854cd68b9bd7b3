package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// SubscriberToken is the secret part of a subscriber's unsubscribe link:
// an HMAC of its ID and its stored random nonce under a key derived from
// the at-rest key. The database alone cannot produce it, and a new nonce
// (a new subscription) voids old links.
func SubscriberToken(key []byte, id int64, nonce string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("unsubscribe\x00" + strconv.FormatInt(id, 10) + "\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckSubscriberToken compares token with SubscriberToken in constant time.
func CheckSubscriberToken(key []byte, id int64, nonce, token string) bool {
	return hmac.Equal([]byte(token), []byte(SubscriberToken(key, id, nonce)))
}
