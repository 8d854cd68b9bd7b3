package public

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
)

// minCompress is the size under which compressing does not pay.
const minCompress = 512

// brotliLevel trades a little size for speed: the status page changes with
// every rebuild, and its first reader after one waits for the compression.
// Level 6 takes about as long as gzip's best and is still smaller.
const brotliLevel = 6

// Gzip returns the gzip-compressed body, or nil when compression does not pay.
func (r *Resource) Gzip() []byte {
	r.gzipOnce.Do(func() {
		if len(r.Body) < minCompress {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(r.Body)
		zw.Close()
		if buf.Len() < len(r.Body) {
			r.gzip = buf.Bytes()
		}
	})
	return r.gzip
}

// Brotli returns the brotli-compressed body, or nil when compression does
// not pay.
func (r *Resource) Brotli() []byte {
	r.brOnce.Do(func() {
		if len(r.Body) < minCompress {
			return
		}
		var buf bytes.Buffer
		bw := brotli.NewWriterLevel(&buf, brotliLevel)
		bw.Write(r.Body)
		bw.Close()
		if buf.Len() < len(r.Body) {
			r.br = buf.Bytes()
		}
	})
	return r.br
}

// variant returns the content coding to send for an Accept-Encoding header
// and the body in it: brotli when the client takes it at least as willingly
// as gzip (it is smaller), else gzip, else the plain body.
func (r *Resource) variant(acceptEncoding string) (string, []byte) {
	if acceptEncoding == "" {
		return "", r.Body
	}
	br, gz := codingQuality(acceptEncoding, "br"), codingQuality(acceptEncoding, "gzip")
	if br > 0 && br >= gz {
		if b := r.Brotli(); b != nil {
			return "br", b
		}
	}
	if gz > 0 {
		if b := r.Gzip(); b != nil {
			return "gzip", b
		}
	}
	return "", r.Body
}

// codingQuality is the q value Accept-Encoding gives a coding: its own,
// else that of "*", else 0.
func codingQuality(header, coding string) float64 {
	star := 0.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				f = 0
			}
			q = f
		}
		switch {
		case strings.EqualFold(name, coding):
			return q
		case name == "*":
			star = q
		}
	}
	return star
}

// variantTag is the ETag of a compressed variant: a strong validator names
// one sequence of bytes, so each coding has its own.
func variantTag(etag, coding string) string {
	if coding == "" {
		return etag
	}
	return strings.TrimSuffix(etag, `"`) + "-" + coding + `"`
}

// Serve writes r, answering conditional requests and compressing for
// clients that accept brotli or gzip. It never touches anything but memory.
func (r *Resource) Serve(w http.ResponseWriter, req *http.Request, varyLanguage bool) {
	coding, body := r.variant(req.Header.Get("Accept-Encoding"))
	h := w.Header()
	h["Content-Type"] = []string{r.ContentType}
	h["Cache-Control"] = []string{r.CacheControl}
	h["Etag"] = []string{variantTag(r.ETag, coding)}
	h["Last-Modified"] = []string{r.ModTime.Format(http.TimeFormat)}
	if varyLanguage {
		h["Vary"] = varyBoth
	} else {
		h["Vary"] = varyEncoding
	}
	if r.CORS {
		h["Access-Control-Allow-Origin"] = star
	}
	if r.Frameable {
		h.Set("Content-Security-Policy", frameableCSP)
		h.Del("X-Frame-Options")
	}
	if match := req.Header.Get("If-None-Match"); match != "" {
		if etagMatches(match, r.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if since, err := http.ParseTime(req.Header.Get("If-Modified-Since")); err == nil && !r.ModTime.After(since) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if coding != "" {
		h["Content-Encoding"] = []string{coding}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if req.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

var (
	varyBoth     = []string{"Accept-Encoding, Accept-Language"}
	varyEncoding = []string{"Accept-Encoding"}
	star         = []string{"*"}
)

// etagMatches reports whether If-None-Match names etag or one of its
// compressed variants (weak comparison, as RFC 9110 asks for GET).
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || part == etag || part == variantTag(etag, "br") || part == variantTag(etag, "gzip") {
			return true
		}
	}
	return false
}
