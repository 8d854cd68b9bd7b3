package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func results(prefix string, n int) []tocsin.AgentResult {
	out := make([]tocsin.AgentResult, n)
	at := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = tocsin.AgentResult{Key: fmt.Sprintf("%s/%d", prefix, i), CheckID: 7, StartedAt: at.Add(time.Duration(i) * time.Second), DurationUS: 1500, OK: i%2 == 0}
	}
	return out
}

func keys(rs []tocsin.AgentResult) string {
	var k []string
	for _, r := range rs {
		k = append(k, r.Key)
	}
	return strings.Join(k, ",")
}

// readAll reads every sealed file, oldest first.
func readAll(t *testing.T, s *Spool) ([]tocsin.AgentResult, []string) {
	t.Helper()
	files, err := s.Seal()
	if err != nil {
		t.Fatal(err)
	}
	var all []tocsin.AgentResult
	for _, f := range files {
		rs, bad, err := ReadFile(f)
		if err != nil || bad != 0 {
			t.Fatalf("ReadFile %s: %d bad, %v", f, bad, err)
		}
		all = append(all, rs...)
	}
	return all, files
}

func TestSpoolAppendReadBack(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := results("a", 5)
	if err := s.Append(want[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(want[2:]); err != nil {
		t.Fatal(err)
	}
	got, files := readAll(t, s)
	if keys(got) != keys(want) || len(files) != 1 {
		t.Fatalf("read back %q from %d files, want %q from 1", keys(got), len(files), keys(want))
	}
	if got[1].OK || got[1].DurationUS != 1500 || !got[1].StartedAt.Equal(want[1].StartedAt) {
		t.Errorf("result changed on its way through the spool: %+v", got[1])
	}
	// After a seal, appends go to a new file; the sealed one stays as it was.
	if err := s.Append(results("b", 1)); err != nil {
		t.Fatal(err)
	}
	got, files = readAll(t, s)
	if len(files) != 2 || len(got) != 6 || got[5].Key != "b/0" {
		t.Fatalf("after a seal: %d files, %q", len(files), keys(got))
	}
}

func TestSpoolRotatesBySize(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), 300)
	if err != nil {
		t.Fatal(err)
	}
	want := results("r", 12)
	for i := range want {
		if err := s.Append(want[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	got, files := readAll(t, s)
	if len(files) < 3 {
		t.Errorf("%d files for 12 results of ~150 bytes at 300 bytes a file, want several", len(files))
	}
	if keys(got) != keys(want) {
		t.Errorf("order across files: %q, want %q", keys(got), keys(want))
	}
}

// TestSpoolCrashSafety plays a crash in the middle of an append: the
// partial last line is ignored, the next run never appends after it, and
// its complete lines are all read.
func TestSpoolCrashSafety(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(results("c", 3)); err != nil {
		t.Fatal(err)
	}
	path := s.path
	// The crash: half a line written, the process gone (no Close).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"key":"c/3","check_id":7,"started_at":"2026-11-`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	again, err := OpenSpool(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Append(results("d", 2)); err != nil {
		t.Fatal(err)
	}
	if again.path == path {
		t.Fatal("the new run appended to the file the crash left")
	}
	got, files := readAll(t, again)
	if keys(got) != "c/0,c/1,c/2,d/0,d/1" || len(files) != 2 {
		t.Errorf("after the crash: %q in %d files, want the 3 complete lines then the new run's 2", keys(got), len(files))
	}

	// A complete line that is not a result (damage) is counted, not fatal.
	damaged := filepath.Join(dir, "00000000000000000099.jsonl")
	if err := os.WriteFile(damaged, []byte("{\"key\":\"e/0\",\"check_id\":7,\"started_at\":\"2026-11-24T18:00:00Z\",\"duration_us\":1,\"ok\":true}\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, bad, err := ReadFile(damaged)
	if err != nil || bad != 1 || keys(rs) != "e/0" {
		t.Errorf("damaged file: %q, %d bad, %v; want e/0 and 1 bad", keys(rs), bad, err)
	}
}

func TestSpoolRemoveOnlySealed(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(results("f", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(s.path); err == nil {
		t.Error("removing the file being written should be refused")
	}
	_, files := readAll(t, s)
	if err := s.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Pending(); n != 0 {
		t.Errorf("%d files pending after removal", n)
	}
}

func TestOpenSpoolRefusesUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSpool(filepath.Join(file, "spool"), 0); err == nil || !strings.Contains(err.Error(), "cannot create") {
		t.Errorf("spool under a file: %v", err)
	}
}
