// Package i18n holds tocsin's French and English strings. Every string a
// person reads goes through T, and a test checks that both catalogues have
// the same keys and the same placeholders.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed *.json
var files embed.FS

// Langs lists the supported languages; the first is the fallback.
var Langs = []string{"en", "fr"}

var catalogs = load()

func load() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range Langs {
		data, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic(err) // embedded at build time: cannot happen in a built binary
		}
		m := map[string]string{}
		if err := json.Unmarshal(data, &m); err != nil {
			panic(fmt.Sprintf("i18n: %s.json: %v", lang, err))
		}
		out[lang] = m
	}
	return out
}

// Supported reports whether lang has a catalogue.
func Supported(lang string) bool {
	_, ok := catalogs[lang]
	return ok
}

// T returns the string for key in lang, formatted with args (fmt verbs).
// A missing key shows itself, so that it is seen and fixed rather than hidden.
func T(lang, key string, args ...any) string {
	m, ok := catalogs[lang]
	if !ok {
		m = catalogs[Langs[0]]
	}
	s, ok := m[key]
	if !ok {
		s, ok = catalogs[Langs[0]][key]
		if !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Keys returns the keys of lang's catalogue.
func Keys(lang string) []string {
	var keys []string
	for k := range catalogs[lang] {
		keys = append(keys, k)
	}
	return keys
}

// Negotiate picks a supported language from an Accept-Language header,
// honouring quality values; "" when none matches.
func Negotiate(header string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				continue
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if Supported(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}
