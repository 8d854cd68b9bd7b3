// Package runbooks holds the runbooks tocsin ships, in English and French,
// and loads them into a store without overwriting one edited there.
package runbooks

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/tocsin-org/tocsin"
)

//go:embed en/*.md fr/*.md
var files embed.FS

// Langs are the languages the runbooks are shipped in.
var Langs = []string{"en", "fr"}

// Builtin returns the shipped runbooks in lang, by slug; all languages when
// lang is "".
func Builtin(lang string) ([]*tocsin.Runbook, error) {
	langs := Langs
	if lang != "" {
		if !slices.Contains(Langs, lang) {
			return nil, tocsin.Errorf(tocsin.EINVALID, "runbooks are shipped in en and fr, not %q", lang).WithKey("runbook.lang", lang)
		}
		langs = []string{lang}
	}
	var out []*tocsin.Runbook
	for _, l := range langs {
		names, err := fs.Glob(files, l+"/*.md")
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			b, err := files.ReadFile(name)
			if err != nil {
				return nil, err
			}
			rb, err := tocsin.ParseRunbook(string(b))
			if err != nil {
				return nil, fmt.Errorf("runbooks: %s: %w", name, err)
			}
			rb.Slug, rb.Lang = strings.TrimSuffix(path.Base(name), ".md"), l
			out = append(out, rb)
		}
	}
	return out, nil
}

// Load imports the shipped runbooks in lang ("" for all) as builtins:
// new ones are created, untouched ones updated, edited ones kept. It
// returns what happened to each, by "lang/slug".
func Load(ctx context.Context, s tocsin.RunbookService, a tocsin.Actor, lang string) (map[string]tocsin.RunbookImport, error) {
	rbs, err := Builtin(lang)
	if err != nil {
		return nil, err
	}
	out := make(map[string]tocsin.RunbookImport, len(rbs))
	for _, rb := range rbs {
		res, err := s.ImportRunbook(ctx, a, rb, true)
		if err != nil {
			return out, fmt.Errorf("runbooks: %s/%s: %w", rb.Lang, rb.Slug, err)
		}
		out[rb.Lang+"/"+rb.Slug] = res
	}
	return out, nil
}
