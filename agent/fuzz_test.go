package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadFile: whatever a spool file holds (a crash, damage), reading it
// never fails or panics, keeps only complete lines that are results with a
// key, and ignores a last line without its newline.
func FuzzReadFile(f *testing.F) {
	f.Add([]byte("{\"key\":\"a/1\",\"check_id\":1,\"started_at\":\"2026-11-24T18:00:00Z\",\"duration_us\":5,\"ok\":true}\n"))
	f.Add([]byte("{\"key\":\"a/1\",\"check_id\":1,\"started_at\":\"2026-11-24T18:00:00Z\",\"duration_us\":5,\"ok\":true}\n{\"key\":\"a/2\",\"check_"))
	f.Add([]byte("not json\n\n{}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "00000000000000000001.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rs, bad, err := ReadFile(path)
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		lines := strings.Count(string(data), "\n")
		if len(rs)+bad != lines {
			t.Errorf("%d results + %d bad for %d complete lines", len(rs), bad, lines)
		}
		for _, r := range rs {
			if r.Key == "" {
				t.Error("a result without a key was kept")
			}
		}
	})
}
