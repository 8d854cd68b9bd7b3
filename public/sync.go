package public

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// manifestName lists, in an export directory, the files the last export
// wrote: the next one removes those the site no longer has, and never
// touches a file tocsin did not write.
const manifestName = ".tocsin-export"

// Exporter keeps a directory equal to the latest site it was given, for a
// static server or a second host. Each Export writes only the files whose
// resource changed since the previous one (cached pages keep their
// Resource from build to build), each atomically, and removes the files
// that are gone.
type Exporter struct {
	dir, lang string
	last      map[string]*Resource // relative path → what was written; nil before the first export
}

// NewExporter returns an Exporter into dir; lang is the language of the
// root index.html and of the other negotiated URLs, since a static server
// cannot negotiate.
func NewExporter(dir, lang string) *Exporter {
	return &Exporter{dir: filepath.Clean(dir), lang: lang}
}

// Export brings the directory up to date with site. It returns how many
// files it wrote and removed.
func (e *Exporter) Export(site *Site) (written, removed int, err error) {
	files, err := site.files(e.lang)
	if err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return 0, 0, err
	}
	if e.last == nil {
		// A new process rewrites everything, and removes what an earlier
		// one wrote that the site no longer has.
		e.last = map[string]*Resource{}
		for _, rel := range readManifest(filepath.Join(e.dir, manifestName)) {
			e.last[rel] = nil
		}
	}
	for rel, r := range files {
		if prev, ok := e.last[rel]; ok && prev == r {
			continue
		}
		if err := writeAtomic(filepath.Join(e.dir, filepath.FromSlash(rel)), r.Body); err != nil {
			return written, removed, err
		}
		written++
	}
	for rel := range e.last {
		if _, ok := files[rel]; ok {
			continue
		}
		path := filepath.Join(e.dir, filepath.FromSlash(rel))
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return written, removed, err
		}
		removed++
		// Directories left empty (an incident's) go too; Remove fails,
		// harmlessly, on one that still holds something.
		for d := filepath.Dir(path); d != e.dir && strings.HasPrefix(d, e.dir); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
	}
	names := make([]string, 0, len(files))
	for rel := range files {
		names = append(names, rel)
	}
	slices.Sort(names)
	if err := writeAtomic(filepath.Join(e.dir, manifestName), []byte(strings.Join(names, "\n")+"\n")); err != nil {
		return written, removed, err
	}
	e.last = files
	return written, removed, nil
}

// files maps each file of the static site (a path relative to the export
// directory, with slashes) to its resource: "/fr/" is fr/index.html, and
// the negotiated URLs are also written at the root in lang.
func (site *Site) files(lang string) (map[string]*Resource, error) {
	out := make(map[string]*Resource, len(site.Resources)*3/2)
	add := func(urlPath string, r *Resource) error {
		rel := strings.TrimPrefix(urlPath, "/")
		if rel == "" || strings.HasSuffix(rel, "/") {
			rel += "index.html"
		}
		if !safeRel(rel) || rel == manifestName {
			return fmt.Errorf("export: %q leaves the output directory", urlPath)
		}
		out[rel] = r
		return nil
	}
	prefix := "/" + lang + "/"
	for urlPath, r := range site.Resources {
		if err := add(urlPath, r); err != nil {
			return nil, err
		}
		if rest, ok := strings.CutPrefix(urlPath, prefix); ok {
			if err := add("/"+rest, r); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// writeAtomic replaces path with body through a temporary file in the same
// directory and a rename, so that a reader never sees half a file.
func writeAtomic(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// readManifest returns the files an earlier export wrote, none if it left
// no manifest.
func readManifest(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rel := sc.Text()
		// Only paths an export could have written: never outside the
		// directory, whatever the file says.
		if safeRel(rel) {
			out = append(out, rel)
		}
	}
	return out
}

// safeRel reports whether rel is a clean relative path inside a directory.
func safeRel(rel string) bool {
	return rel != "" && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel) &&
		filepath.ToSlash(filepath.Clean(rel)) == rel
}
