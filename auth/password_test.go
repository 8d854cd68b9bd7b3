package auth

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// fastParams are the cheapest parameters Validate accepts, so that tests
// run quickly; the benchmarks use DefaultPasswordParams.
var fastParams = PasswordParams{MemoryKiB: minMemoryKiB, Time: 1, Threads: 1, MaxConcurrent: 2}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fastParams)
	const pw = "correct horse battery staple"
	enc, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=7168,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(enc) {
		t.Fatalf("Hash = %q, not the expected PHC form", enc)
	}
	enc2, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if enc == enc2 {
		t.Error("two hashes of the same password are equal: the salt is not random")
	}

	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right", pw, true},
		{"wrong", "correct horse battery stapler", false},
		{"case", "Correct horse battery staple", false},
		{"empty", "", false},
		{"prefix", pw[:10], false},
		{"too long", pw + strings.Repeat("x", MaxPasswordBytes), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.password, enc)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.want || rehash {
				t.Errorf("Verify = %v, %v; want %v, false", ok, rehash, tt.want)
			}
		})
	}
}

func TestHashTooLong(t *testing.T) {
	_, err := NewHasher(fastParams).Hash(context.Background(), strings.Repeat("a", MaxPasswordBytes+1))
	if tocsin.ErrorCode(err) != tocsin.EINVALID {
		t.Fatalf("Hash of a too long password: err = %v, want EINVALID", err)
	}
}

// TestVerifyTooLongNeverMatches checks that a password over the limit
// cannot match a hash of its first MaxPasswordBytes bytes.
func TestVerifyTooLongNeverMatches(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fastParams)
	pw := strings.Repeat("a", MaxPasswordBytes)
	enc, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := h.Verify(ctx, pw, enc); !ok {
		t.Fatal("a password of exactly MaxPasswordBytes does not verify")
	}
	if ok, _, _ := h.Verify(ctx, pw+"b", enc); ok {
		t.Fatal("a password over MaxPasswordBytes matched its truncation")
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(fastParams)
	const pw = "an old and trusted password"
	enc, err := old.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*PasswordParams)
		want   bool
	}{
		{"same", func(*PasswordParams) {}, false},
		{"same but concurrency", func(p *PasswordParams) { p.MaxConcurrent = 7 }, false},
		{"memory", func(p *PasswordParams) { p.MemoryKiB *= 2 }, true},
		{"time", func(p *PasswordParams) { p.Time++ }, true},
		{"threads", func(p *PasswordParams) { p.Threads++ }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fastParams
			tt.change(&p)
			ok, rehash, err := NewHasher(p).Verify(ctx, pw, enc)
			if err != nil || !ok || rehash != tt.want {
				t.Fatalf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
			// A wrong password never asks for a rehash.
			if ok, rehash, _ := NewHasher(p).Verify(ctx, "wrong", enc); ok || rehash {
				t.Fatalf("Verify(wrong) = %v, %v; want false, false", ok, rehash)
			}
		})
	}
	t.Run("short salt", func(t *testing.T) {
		// A hash written with an 8-byte salt by an older version.
		p := phc{memory: fastParams.MemoryKiB, time: 1, threads: 1, salt: []byte("12345678")}
		p.key = old.derive([]byte(pw), p.salt, p.time, p.memory, p.threads, keyLen)
		ok, rehash, err := old.Verify(ctx, pw, encodePHC(p))
		if err != nil || !ok || !rehash {
			t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
		}
	})
}

func TestVerifyMalformed(t *testing.T) {
	salt := "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	key := "SGFzaEhhc2hIYXNoSGFzaEhhc2hIYXNoSGFzaEhhc2g" // 32 bytes
	good := "$argon2id$v=19$m=7168,t=1,p=1$" + salt + "$" + key
	if _, err := parsePHC(good); err != nil {
		t.Fatalf("parsePHC(%q) = %v; the table below needs a valid base", good, err)
	}
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"dollar", "$"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"no leading dollar", good[1:]},
		{"extra field", good + "$x"},
		{"missing hash", "$argon2id$v=19$m=7168,t=1,p=1$" + salt},
		{"version 16", strings.Replace(good, "v=19", "v=16", 1)},
		{"no version", strings.Replace(good, "v=19$", "", 1)},
		{"params order", strings.Replace(good, "m=7168,t=1,p=1", "t=1,m=7168,p=1", 1)},
		{"params missing", strings.Replace(good, "m=7168,t=1,p=1", "m=7168,t=1", 1)},
		{"params extra", strings.Replace(good, "m=7168,t=1,p=1", "m=7168,t=1,p=1,k=2", 1)},
		{"negative", strings.Replace(good, "t=1", "t=-1", 1)},
		{"plus sign", strings.Replace(good, "t=1", "t=+1", 1)},
		{"leading zero", strings.Replace(good, "t=1", "t=01", 1)},
		{"not a number", strings.Replace(good, "t=1", "t=x", 1)},
		{"overflow", strings.Replace(good, "m=7168", "m=99999999999", 1)},
		{"huge memory", strings.Replace(good, "m=7168", "m=4194304", 1)},
		{"tiny memory", strings.Replace(good, "m=7168", "m=8", 1)},
		{"zero time", strings.Replace(good, "t=1", "t=0", 1)},
		{"huge time", strings.Replace(good, "t=1", "t=1000000", 1)},
		{"zero threads", strings.Replace(good, "p=1", "p=0", 1)},
		{"threads over uint8", strings.Replace(good, "p=1", "p=257", 1)},
		{"salt not base64", strings.Replace(good, salt, "!!!!", 1)},
		{"salt padded", strings.Replace(good, salt, salt+"==", 1)},
		{"salt too short", strings.Replace(good, salt, "c2FsdA", 1)},
		{"salt empty", strings.Replace(good, salt, "", 1)},
		{"hash too short", strings.Replace(good, key, "SGFzaA", 1)},
		{"hash too long", strings.Replace(good, key, strings.Repeat("A", 120), 1)},
		{"hash url alphabet", strings.Replace(good, key, strings.Repeat("_", 43), 1)},
		{"hash non-canonical bits", strings.Replace(good, key, key[:42]+"h", 1)},
		{"line break in hash", strings.Replace(good, key, key[:20]+"\r\n"+key[20:], 1)},
		{"line break in salt", strings.Replace(good, salt, salt[:8]+"\n"+salt[8:], 1)},
	}
	h := NewHasher(fastParams)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "password", tt.enc)
			if err == nil || ok || rehash {
				t.Fatalf("Verify(%q) = %v, %v, %v; want an error", tt.enc, ok, rehash, err)
			}
			if !errors.Is(err, errMalformedHash) {
				t.Errorf("err = %v, want errMalformedHash", err)
			}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name    string
		p       PasswordParams
		wantMsg string // "" for valid
	}{
		{"default", DefaultPasswordParams, ""},
		{"fast", fastParams, ""},
		{"owasp", PasswordParams{MemoryKiB: 46 * 1024, Time: 1, Threads: 1}, ""},
		{"zero", PasswordParams{}, "memory is 0 KiB: allowed is 7168 to 1048576 KiB"},
		{"memory low", PasswordParams{MemoryKiB: 1024, Time: 3, Threads: 1}, "memory is 1024 KiB"},
		{"memory high", PasswordParams{MemoryKiB: 4 << 20, Time: 3, Threads: 1}, "memory is 4194304 KiB"},
		{"time zero", PasswordParams{MemoryKiB: 65536, Time: 0, Threads: 1}, "time is 0: allowed is 1 to 16"},
		{"time high", PasswordParams{MemoryKiB: 65536, Time: 100, Threads: 1}, "time is 100"},
		{"threads zero", PasswordParams{MemoryKiB: 65536, Time: 3, Threads: 0}, "threads is 0: allowed is 1 to 16"},
		{"threads high", PasswordParams{MemoryKiB: 65536, Time: 3, Threads: 255}, "threads is 255"},
		{"concurrent negative", PasswordParams{MemoryKiB: 65536, Time: 3, Threads: 1, MaxConcurrent: -1}, "max concurrent is -1: allowed is 0"},
		{"concurrent high", PasswordParams{MemoryKiB: 65536, Time: 3, Threads: 1, MaxConcurrent: 10000}, "max concurrent is 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if tocsin.ErrorCode(err) != tocsin.EINVALID || !strings.Contains(tocsin.ErrorMessage(err), tt.wantMsg) {
				t.Fatalf("Validate = %v, want EINVALID containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestNewHasher(t *testing.T) {
	if got := NewHasher(PasswordParams{MemoryKiB: 65536, Time: 3, Threads: 4}).Params().MaxConcurrent; got != max(runtime.NumCPU(), 1) {
		t.Errorf("MaxConcurrent 0 resolved to %d, want NumCPU = %d", got, runtime.NumCPU())
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHasher with invalid params did not panic")
		}
	}()
	NewHasher(PasswordParams{})
}

func TestDummyVerify(t *testing.T) {
	h := NewHasher(fastParams)
	var calls atomic.Int32
	real := h.derive
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		calls.Add(1)
		if memory != fastParams.MemoryKiB || time != fastParams.Time || threads != fastParams.Threads || len(salt) != saltLen || keyLen != 32 {
			t.Errorf("DummyVerify derived with m=%d t=%d p=%d salt=%d key=%d, not the current parameters", memory, time, threads, len(salt), keyLen)
		}
		return real(password, salt, time, memory, threads, keyLen)
	}
	if err := h.DummyVerify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("DummyVerify derived %d keys, want 1", calls.Load())
	}
}

// TestVerifyConcurrencyBound runs 200 Verify calls at once and checks,
// with a counter inside the key derivation, that no more than
// MaxConcurrent ever run together, and that the bound is reached.
func TestVerifyConcurrencyBound(t *testing.T) {
	const limit, callers = 4, 200
	p := fastParams
	p.MaxConcurrent = limit
	h := NewHasher(p)
	const pw = "a password for the flood"
	enc, err := h.Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}

	var inFlight, peak, entered atomic.Int32
	var started sync.WaitGroup
	started.Add(callers)
	full := make(chan struct{})
	real := h.derive
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		// The first `limit` callers hold their slot until every caller has
		// started, so the others pile up on the semaphore (and would get in
		// here, over the limit, if it did not hold them).
		if entered.Add(1) == limit {
			go func() { started.Wait(); close(full) }()
		}
		<-full
		runtime.Gosched()
		return real(password, salt, time, memory, threads, keyLen)
	}

	var wg sync.WaitGroup
	var fails atomic.Int32
	for i := range callers {
		wg.Go(func() {
			started.Done()
			password := pw
			if i%2 == 1 {
				password = "wrong"
			}
			ok, _, err := h.Verify(context.Background(), password, enc)
			if err != nil || ok != (i%2 == 0) {
				fails.Add(1)
			}
		})
	}
	wg.Wait()
	if n := fails.Load(); n > 0 {
		t.Errorf("%d Verify calls gave a wrong answer or an error", n)
	}
	if got := peak.Load(); got != limit {
		t.Errorf("peak hashes in flight = %d, want exactly MaxConcurrent = %d", got, limit)
	}
	if got := entered.Load(); got != callers {
		t.Errorf("%d derivations, want %d", got, callers)
	}
}

// TestBusyCancelled fills the only hashing slot, then checks that Hash,
// Verify and DummyVerify with a context that has ended return ETOOMANY
// instead of waiting.
func TestBusyCancelled(t *testing.T) {
	p := fastParams
	p.MaxConcurrent = 1
	h := NewHasher(p)
	enc, err := h.Hash(context.Background(), "a password to check")
	if err != nil {
		t.Fatal(err)
	}
	in, hold := make(chan struct{}), make(chan struct{})
	real := h.derive
	var calls atomic.Int32
	h.derive = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		if calls.Add(1) == 1 {
			close(in)
			<-hold
		} else {
			t.Error("a second hash got a slot while the only one was taken")
		}
		return real(password, salt, time, memory, threads, keyLen)
	}
	done := make(chan error)
	go func() {
		_, _, err := h.Verify(context.Background(), "a password to check", enc)
		done <- err
	}()
	<-in // the slot is taken

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	checks := map[string]func() error{
		"Verify": func() error { _, _, err := h.Verify(ctx, "x", enc); return err },
		"Hash":   func() error { _, err := h.Hash(ctx, "x"); return err },
		"Dummy":  func() error { return h.DummyVerify(ctx) },
	}
	for name, call := range checks {
		t.Run(name, func(t *testing.T) {
			if err := call(); tocsin.ErrorCode(err) != tocsin.ETOOMANY {
				t.Fatalf("err = %v, want ETOOMANY", err)
			}
		})
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatalf("the Verify holding the slot failed: %v", err)
	}
	// The slot is free again: a live context gets through.
	h.derive = real
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("Hash after the slot was released: %v", err)
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$SGFzaEhhc2hIYXNoSGFzaEhhc2hIYXNoSGFzaEhhc2g")
	f.Add("$argon2id$v=19$m=7168,t=1,p=1$c2FsdHNhbHQ$SGFzaEhhc2hIYXNoSGFzaA")
	f.Add("$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
	f.Add("$argon2id$v=19$m=4294967296,t=3,p=4$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			return
		}
		// Only the canonical form is accepted: it encodes back to itself.
		if got := encodePHC(p); got != s {
			t.Fatalf("parsePHC accepted %q, which encodes back as %q", s, got)
		}
		if p.memory < minMemoryKiB || p.memory > maxMemoryKiB || p.time < minTime || p.time > maxTime ||
			p.threads < minThreads || p.threads > maxThreads {
			t.Fatalf("parsePHC accepted out-of-range parameters %+v", p)
		}
	})
}

// benchHasher returns a Hasher with the default parameters and a hash.
func benchHasher(b *testing.B) (*Hasher, string) {
	h := NewHasher(DefaultPasswordParams)
	enc, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	return h, enc
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultPasswordParams)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConcurrentSignIn200 runs 200 Verify calls at once per iteration
// with the default parameters and reports the peak heap in use, sampled
// every millisecond: it stays near 2 × MaxConcurrent × 64 MiB (live hashes
// plus garbage the GC has not collected yet) instead of 200 × 64 MiB.
func BenchmarkConcurrentSignIn200(b *testing.B) {
	const callers = 200
	h, enc := benchHasher(b)
	ctx := context.Background()
	runtime.GC()

	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	for b.Loop() {
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				pw := "correct horse battery staple"
				if i%2 == 1 {
					pw = "wrong"
				}
				if ok, _, err := h.Verify(ctx, pw, enc); err != nil || ok != (i%2 == 0) {
					b.Errorf("Verify = %v, %v", ok, err)
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	<-stopped
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*callers)/1e6, "ms/verify")
	b.ReportMetric(float64(h.Params().MaxConcurrent), "max-concurrent")
}
