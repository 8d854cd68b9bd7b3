package public

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"html"
	"html/template"
	"strconv"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin/markdown"
)

// rendered keeps post-mortem pages and their Markdown between rebuilds,
// keyed by a digest of everything that goes into them (the Builder's
// fingerprints cover the rest of the site). A change then re-renders only what it
// touched. Equal inputs give equal bytes, so the cache can be shared by
// every Build in the process; it is emptied when it grows past its bound.
var rendered = struct {
	sync.Mutex
	m    map[string][]byte
	size int
}{m: map[string][]byte{}}

const renderedMax = 64 << 20

// cachedRender returns render's result for key, rendering it once.
func cachedRender(key string, render func() ([]byte, error)) ([]byte, error) {
	rendered.Lock()
	b, ok := rendered.m[key]
	rendered.Unlock()
	if ok {
		return b, nil
	}
	b, err := render()
	if err != nil {
		return nil, err
	}
	rendered.Lock()
	defer rendered.Unlock()
	if rendered.size+len(b) > renderedMax {
		rendered.m, rendered.size = map[string][]byte{}, 0
	}
	rendered.m[key] = b
	rendered.size += len(b) + len(key)
	return b, nil
}

// digest hashes the printed form of parts into a cache key.
func digest(kind string, parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		writePart(h, p)
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil))
}

// writePart writes p length-prefixed, so that no two different lists of
// parts hash alike; the common types skip fmt, which dominated rebuilds.
func writePart(h hash.Hash, p any) {
	var s string
	switch v := p.(type) {
	case string:
		s = v
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case *time.Time:
		if v != nil {
			s = strconv.FormatInt(v.UnixNano(), 10)
		}
	case fmt.Stringer:
		s = v.String()
	default:
		s = fmt.Sprint(v)
	}
	var n [20]byte
	h.Write(strconv.AppendInt(n[:0], int64(len(s)), 10))
	h.Write([]byte{':'})
	h.Write([]byte(s))
}

// renderBodyKey renders Markdown once per key.
func renderBodyKey(key, body string) template.HTML {
	b, _ := cachedRender(key, func() ([]byte, error) {
		h, err := markdown.Render(body)
		if err != nil {
			return []byte(`<p class="plain">` + html.EscapeString(body) + `</p>`), nil
		}
		return []byte(h), nil
	})
	return template.HTML(b)
}
