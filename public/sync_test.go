package public

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The exporter writes what changed, removes what an earlier export (of this
// process or of an earlier one, by its manifest) wrote and the site no
// longer has, and never touches other files, whatever the manifest says.
func TestExporterFollowsTheSite(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-outside.txt")
	for path, body := range map[string]string{filepath.Join(dir, "robots.txt"): "keep", outside: "keep"} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Remove(outside) })
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		return err == nil
	}

	s := incidentSnapshot()
	site, err := NewBuilder().Build(s)
	if err != nil {
		t.Fatal(err)
	}
	x := NewExporter(dir, "fr")
	written, removed, err := x.Export(site)
	if err != nil || written == 0 || removed != 0 {
		t.Fatalf("first export: %d written, %d removed, %v", written, removed, err)
	}
	for _, rel := range []string{"index.html", "fr/index.html", "en/incidents/1/index.html", "incidents/1/index.html", "api/v2/summary.json", "badges/mail.svg"} {
		if !exists(rel) {
			t.Errorf("%s not exported", rel)
		}
	}
	// Nothing changed: nothing rewritten but what is dated by the build.
	if again, _, err := x.Export(site); err != nil || again != 0 {
		t.Errorf("same site again: %d written, %v", again, err)
	}

	// A new process, after incident 2 and service 3 are gone; the manifest
	// also names a file outside the directory, which must stay.
	manifest := filepath.Join(dir, manifestName)
	b, _ := os.ReadFile(manifest)
	os.WriteFile(manifest, append(b, []byte("../"+filepath.Base(outside)+"\n")...), 0o644)
	s.Incidents = s.Incidents[:2]
	s.Services = s.Services[:2]
	s.Now = s.Now.Add(time.Minute)
	site, err = NewBuilder().Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, removed, err := NewExporter(dir, "fr").Export(site); err != nil || removed == 0 {
		t.Fatalf("second export: %d removed, %v", removed, err)
	}
	for _, rel := range []string{"en/incidents/2/index.html", "incidents/2/index.html", "badges/mail.svg", "badges/3.svg"} {
		if exists(rel) {
			t.Errorf("%s still exported", rel)
		}
	}
	if exists("en/incidents/2") {
		t.Error("the removed incident's directory is left empty")
	}
	if !exists("robots.txt") || !exists("en/incidents/1/index.html") {
		t.Error("a file was removed that should not be")
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a file outside the directory was touched: %v", err)
	}
}
