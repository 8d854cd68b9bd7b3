package public

import (
	"encoding/binary"
	"hash/maphash"
	"html/template"
	"sync"
	"time"
)

// Builder builds sites and keeps, between builds, what is costly to render
// and rarely changes: incident pages, Markdown bodies, uptime bars, badges
// and assets, each with its Resource (so its ETag and compressed variants
// are made once). A rebuild after a change then re-renders what the change
// touched. Entries are checked against a fingerprint of everything that
// goes into them, so a stale entry is never served; entries a build did not
// use are dropped at its end, which bounds the memory to one site's worth.
type Builder struct {
	mu  sync.Mutex
	gen uint64 // build counter, to sweep entries a build did not use

	markdown  memo[string, template.HTML]
	incidents memo[int64, []*Resource]              // an incident's page per language of i18n.Langs
	months    memo[monthKey, *Resource]             // a history month's page per language
	rows      memo[int64, map[string]template.HTML] // an incident's entry in the history
	bars      memo[int64, bars]
	days      memo[int64, []Day] // a service's complete days
	items     memo[int64, map[string]template.HTML]
	badges    memo[badgeKey, *Resource]
	assets    map[string]*Resource
	indexSize int // of the last status page rendered
}

// NewBuilder returns a Builder with empty caches.
func NewBuilder() *Builder {
	return &Builder{
		markdown: newMemo[string, template.HTML](), incidents: newMemo[int64, []*Resource](),
		months: newMemo[monthKey, *Resource](),
		rows:   newMemo[int64, map[string]template.HTML](),
		bars:   newMemo[int64, bars](), badges: newMemo[badgeKey, *Resource](),
		days: newMemo[int64, []Day](), items: newMemo[int64, map[string]template.HTML](),
	}
}

// defaultBuilder serves Build, for callers that build one site at a time.
var defaultBuilder = NewBuilder()

type badgeKey struct {
	name, lang string
	status     string
}

// memo is a cache whose entries carry the fingerprint of their inputs and
// the last build that used them.
type memo[K comparable, V any] struct {
	m map[K]*memoEntry[V]
}

type memoEntry[V any] struct {
	v   V
	fp  uint64
	gen uint64
}

func newMemo[K comparable, V any]() memo[K, V] { return memo[K, V]{m: map[K]*memoEntry[V]{}} }

// get returns the value for k if its inputs still have fingerprint fp.
func (c memo[K, V]) get(k K, fp, gen uint64) (V, bool) {
	if e, ok := c.m[k]; ok && e.fp == fp {
		e.gen = gen
		return e.v, true
	}
	var zero V
	return zero, false
}

func (c memo[K, V]) put(k K, fp, gen uint64, v V) {
	c.m[k] = &memoEntry[V]{v: v, fp: fp, gen: gen}
}

// sweep drops the entries build gen did not use.
func (c memo[K, V]) sweep(gen uint64) {
	for k, e := range c.m {
		if e.gen != gen {
			delete(c.m, k)
		}
	}
}

// seed keys the fingerprints; they never leave the process.
var seed = maphash.MakeSeed()

// fingerprint hashes the inputs of a cached rendering. Strings are
// length-prefixed so that no two different lists of inputs hash alike by
// construction; 64 bits make an accidental collision between two versions
// of one page negligible.
type fingerprint struct {
	h   maphash.Hash
	buf [8]byte
}

func newFingerprint() *fingerprint {
	f := &fingerprint{}
	f.h.SetSeed(seed)
	return f
}

func (f *fingerprint) int(v int64) *fingerprint {
	binary.LittleEndian.PutUint64(f.buf[:], uint64(v))
	f.h.Write(f.buf[:])
	return f
}

func (f *fingerprint) str(s string) *fingerprint {
	f.int(int64(len(s)))
	f.h.WriteString(s)
	return f
}

func (f *fingerprint) time(t time.Time) *fingerprint { return f.int(t.UnixNano()) }

func (f *fingerprint) timePtr(t *time.Time) *fingerprint {
	if t == nil {
		return f.int(-1)
	}
	return f.int(1).time(*t)
}

func (f *fingerprint) sum() uint64 { return f.h.Sum64() }
