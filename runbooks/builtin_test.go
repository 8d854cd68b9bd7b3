package runbooks

import (
	"slices"
	"testing"
)

// TestBuiltin: every shipped runbook parses, exists in both languages with
// the same number of items, and names an owner and a due time for each.
func TestBuiltin(t *testing.T) {
	all, err := Builtin("")
	if err != nil {
		t.Fatal(err)
	}
	bySlug := map[string]map[string]int{}
	for _, rb := range all {
		if bySlug[rb.Slug] == nil {
			bySlug[rb.Slug] = map[string]int{}
		}
		bySlug[rb.Slug][rb.Lang] = len(rb.Items)
		for _, it := range rb.Items {
			if it.Owner == "" || it.Due == 0 {
				t.Errorf("%s/%s line %d: no owner or due time", rb.Lang, rb.Slug, it.Line)
			}
		}
	}
	want := []string{"leaked-config-master-key", "leaked-database-password", "leaked-dkim-key", "leaked-tls-key",
		"public-object-storage", "server-compromise", "stolen-credentials", "vulnerable-tls-library"}
	var got []string
	for slug, langs := range bySlug {
		got = append(got, slug)
		if len(langs) != 2 || langs["en"] != langs["fr"] {
			t.Errorf("%s: items by language %v", slug, langs)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("slugs %q, want %q", got, want)
	}
	if fr, err := Builtin("fr"); err != nil || len(fr) != len(want) || fr[0].Lang != "fr" {
		t.Errorf("Builtin(fr) = %d, %v", len(fr), err)
	}
	if _, err := Builtin("de"); err == nil {
		t.Error("Builtin(de) succeeded")
	}
}
