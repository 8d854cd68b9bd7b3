package i18n

import (
	"regexp"
	"slices"
	"testing"
)

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

func TestCataloguesHaveTheSameKeysAndPlaceholders(t *testing.T) {
	en, fr := catalogs["en"], catalogs["fr"]
	for k, v := range en {
		f, ok := fr[k]
		if !ok {
			t.Errorf("fr is missing %q", k)
			continue
		}
		if !slices.Equal(verb.FindAllString(v, -1), verb.FindAllString(f, -1)) {
			t.Errorf("%q: placeholders differ: en %q, fr %q", k, v, f)
		}
		if f == "" || v == "" {
			t.Errorf("%q is empty in one language", k)
		}
	}
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("en is missing %q", k)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct{ header, want string }{
		{"fr-FR,fr;q=0.9,en;q=0.8", "fr"},
		{"en-GB", "en"},
		{"de, en;q=0.5, fr;q=0.7", "fr"},
		{"de", ""},
		{"", ""},
		{"fr;q=abc, en;q=0.1", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := Negotiate(tt.header); got != tt.want {
				t.Errorf("Negotiate(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestTFallsBackAndShowsMissingKeys(t *testing.T) {
	if got := T("fr", "app.name"); got != "tocsin" {
		t.Errorf("T(fr, app.name) = %q", got)
	}
	if got := T("xx", "app.name"); got != "tocsin" {
		t.Errorf("unknown language should fall back to English, got %q", got)
	}
	if got := T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key should show itself, got %q", got)
	}
}
