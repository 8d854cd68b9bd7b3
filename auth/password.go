package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/tocsin-org/tocsin"
)

// PasswordParams are the argon2id cost parameters and the number of hashes
// allowed to run at once. Memory in use for hashing is about
// MaxConcurrent × MemoryKiB; the Go heap peaks near twice that (with the
// default GOGC=100, finished hashes are collected once the heap doubles).
type PasswordParams struct {
	MemoryKiB     uint32 // argon2 m, in KiB
	Time          uint32 // argon2 t, passes over the memory
	Threads       uint8  // argon2 p, lanes (also the goroutines per hash)
	MaxConcurrent int    // hashes in flight at once; 0 means runtime.NumCPU()
}

// DefaultPasswordParams is RFC 9106's second recommended option (§4: "if
// much less memory is available"): 64 MiB, t=3, p=4, with a 128-bit salt and
// a 256-bit tag. It is stronger than every OWASP argon2id configuration
// (whose floor is 46 MiB, t=1, p=1) and costs about 75 ms per hash on a
// 2-core AMD EPYC server, an imperceptible delay at sign-in. With
// MaxConcurrent defaulting to the number of CPUs, a 2-core server holds
// 128 MiB of hashing memory however many sign-ins arrive at once (measured
// heap peak with 200 concurrent sign-ins: 256 MiB), and works through them
// at about 12 a second.
var DefaultPasswordParams = PasswordParams{
	MemoryKiB: 64 * 1024,
	Time:      3,
	Threads:   4,
}

// Limits accepted by Validate and by the parser of stored hashes, so that a
// typo in the configuration or a forged hash in the database cannot make one
// hash take gigabytes or minutes.
const (
	minMemoryKiB     = 7 * 1024    // OWASP's lowest argon2id configuration (7 MiB, t=5)
	maxMemoryKiB     = 1024 * 1024 // 1 GiB
	minTime          = 1
	maxTime          = 16
	minThreads       = 1
	maxThreads       = 16
	maxMaxConcurrent = 256

	saltLen    = 16 // bytes; RFC 9106 recommends 128 bits
	keyLen     = 32 // bytes; RFC 9106 recommends 256 bits
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// MaxPasswordBytes is the longest password accepted, in bytes.
const MaxPasswordBytes = 1024

// Validate reports the first parameter out of range, naming it and the
// allowed range.
func (p PasswordParams) Validate() error {
	switch {
	case p.MemoryKiB < minMemoryKiB || p.MemoryKiB > maxMemoryKiB:
		return tocsin.Errorf(tocsin.EINVALID, "password hashing memory is %d KiB: allowed is %d to %d KiB (7 MiB to 1 GiB)", p.MemoryKiB, minMemoryKiB, maxMemoryKiB)
	case p.Time < minTime || p.Time > maxTime:
		return tocsin.Errorf(tocsin.EINVALID, "password hashing time is %d: allowed is %d to %d passes", p.Time, minTime, maxTime)
	case p.Threads < minThreads || p.Threads > maxThreads:
		return tocsin.Errorf(tocsin.EINVALID, "password hashing threads is %d: allowed is %d to %d", p.Threads, minThreads, maxThreads)
	case p.MaxConcurrent < 0 || p.MaxConcurrent > maxMaxConcurrent:
		return tocsin.Errorf(tocsin.EINVALID, "password hashing max concurrent is %d: allowed is 0 (the number of CPUs) to %d", p.MaxConcurrent, maxMaxConcurrent)
	}
	return nil
}

// Hasher hashes and verifies passwords with argon2id. At most MaxConcurrent
// hashes run at once; the others wait for a slot, so a flood of sign-ins
// queues instead of exhausting memory. A Hasher is safe for concurrent use.
type Hasher struct {
	params PasswordParams
	sem    chan struct{}
	dummy  string // a hash with the current parameters, for DummyVerify

	// derive computes the argon2id key; tests replace it to observe how
	// many hashes are in flight.
	derive func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher with parameters p. It panics if p.Validate
// fails: the configuration is validated when it is loaded, so an invalid p
// here is a bug.
func NewHasher(p PasswordParams) *Hasher {
	if err := p.Validate(); err != nil {
		panic("auth.NewHasher: " + err.Error())
	}
	if p.MaxConcurrent == 0 {
		p.MaxConcurrent = max(runtime.NumCPU(), 1)
	}
	h := &Hasher{
		params: p,
		sem:    make(chan struct{}, p.MaxConcurrent),
		derive: argon2.IDKey,
	}
	// The dummy hash is encoded with the real salt and key lengths so that
	// DummyVerify parses and derives exactly like Verify. Its value matches
	// no password anybody can type; computing it here would cost one hash
	// at start-up for nothing.
	h.dummy = encodePHC(phc{
		memory: p.MemoryKiB, time: p.Time, threads: p.Threads,
		salt: make([]byte, saltLen), key: make([]byte, keyLen),
	})
	return h
}

// Params returns the parameters in use, MaxConcurrent resolved.
func (h *Hasher) Params() PasswordParams { return h.params }

// Hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>, base64 without padding.
// It waits for a free slot; when ctx ends first it returns ETOOMANY.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", tocsin.Errorf(tocsin.EINVALID, "the password is longer than %d bytes", MaxPasswordBytes)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := h.derive([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return encodePHC(phc{memory: p.MemoryKiB, time: p.Time, threads: p.Threads, salt: salt, key: key}), nil
}

// Verify reports whether password matches the PHC string encoded, in
// constant time. needsRehash is true when the password matched but encoded
// was made with other parameters than the current ones: the caller then
// stores a fresh Hash, so hashes upgrade at the next sign-in. A malformed
// encoded string is an error. Verify waits for a free slot like Hash.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	stored, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	// No stored password is longer than MaxPasswordBytes (Hash refuses it),
	// so a longer one cannot match; the hash is still computed, over a
	// truncated copy, so that the answer takes as long.
	tooLong := len(password) > MaxPasswordBytes
	key := h.derive([]byte(password[:min(len(password), MaxPasswordBytes)]), stored.salt, stored.time, stored.memory, stored.threads, uint32(len(stored.key)))
	if subtle.ConstantTimeCompare(key, stored.key) != 1 || tooLong {
		return false, false, nil
	}
	p := h.params
	rehash := stored.memory != p.MemoryKiB || stored.time != p.Time || stored.threads != p.Threads ||
		len(stored.salt) != saltLen || len(stored.key) != keyLen
	return true, rehash, nil
}

// DummyVerify spends the time and memory of one Verify with the current
// parameters, waiting for a slot like Verify. Sign-in calls it when the e-mail matches no
// account, so that the response time does not tell which accounts exist.
func (h *Hasher) DummyVerify(ctx context.Context) error {
	_, _, err := h.Verify(ctx, "tocsin-dummy-password", h.dummy)
	return err
}

// acquire takes a hashing slot, waiting until one is free or ctx ends.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return tocsin.Errorf(tocsin.ETOOMANY, "too many sign-ins are being checked at once; try again in a moment")
	}
}

func (h *Hasher) release() { <-h.sem }

// phc is a decoded argon2id PHC string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

func encodePHC(p phc) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// errMalformedHash is returned for every stored hash that is not a PHC
// string this package writes. It is an internal error: the stored value is
// corrupt, and the caller cannot fix it.
var errMalformedHash = errors.New("auth: malformed password hash")

// parsePHC decodes $argon2id$v=19$m=…,t=…,p=…$salt$hash. It accepts only
// the canonical form encodePHC writes, with parameters within the limits of
// Validate, so that a corrupted or forged hash cannot request gigabytes.
func parsePHC(s string) (phc, error) {
	var p phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, fmt.Errorf("%w: not an argon2id PHC string", errMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, fmt.Errorf("%w: unsupported version %q", errMalformedHash, parts[2])
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, fmt.Errorf("%w: expected m=,t=,p=", errMalformedHash)
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return p, fmt.Errorf("%w: expected %s= in position %d", errMalformedHash, name, i+1)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != v { // no leading zeros or signs
			return p, fmt.Errorf("%w: %s is not a number", errMalformedHash, name)
		}
		vals[i] = n
	}
	if vals[0] < minMemoryKiB || vals[0] > maxMemoryKiB || vals[1] < minTime || vals[1] > maxTime ||
		vals[2] < minThreads || vals[2] > maxThreads {
		return p, fmt.Errorf("%w: parameters out of range", errMalformedHash)
	}
	p.memory, p.time, p.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	var ok bool
	if p.salt, ok = decodeB64(parts[4]); !ok || len(p.salt) < minSaltLen || len(p.salt) > maxSaltLen {
		return phc{}, fmt.Errorf("%w: bad salt", errMalformedHash)
	}
	if p.key, ok = decodeB64(parts[5]); !ok || len(p.key) < minKeyLen || len(p.key) > maxKeyLen {
		return phc{}, fmt.Errorf("%w: bad hash", errMalformedHash)
	}
	return p, nil
}

// decodeB64 decodes unpadded standard base64 in its one canonical form
// (the decoder alone would skip line breaks).
func decodeB64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	return b, err == nil && b64.EncodeToString(b) == s
}
