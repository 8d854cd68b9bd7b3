// Package agent is `tocsin agent`: it runs the hub's checks from another
// place and sends the results to the hub. Results go first to an on-disk
// spool (spool.go), from which a sender posts them in batches and deletes
// a file only once the hub has answered 2xx; every result carries a
// unique key, so a batch sent again after a lost answer is stored once.
package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tocsin-org/tocsin"
)

// DefaultSpoolFileBytes is the size after which the spool starts a new
// file.
const DefaultSpoolFileBytes = 1 << 20

const spoolExt = ".jsonl"

// Spool is a directory of JSON-lines files of results waiting for the hub.
// One file is active (appended to); the others are sealed and only read
// and deleted. Each Append is written and fsynced before it returns, so a
// result whose RecordCheckResults returned survives a crash. A crash in
// the middle of an Append leaves at most a partial last line, which
// reading ignores; a new process never appends to a file it did not
// start, so such a line stays last.
type Spool struct {
	dir      string
	maxBytes int64

	mu     sync.Mutex
	active *os.File // nil until the first Append after a seal
	path   string
	size   int64
	seq    uint64 // the highest file number used
}

// OpenSpool opens (creating it) the spool directory dir. Files left by an
// earlier run are sealed: they are sent, never appended to.
func OpenSpool(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultSpoolFileBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: cannot create the directory %s: %w", dir, err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes}
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if n, ok := fileSeq(f); ok && n > s.seq {
			s.seq = n
		}
	}
	// A probe that the spool is writable, now rather than at the first result.
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("spool: cannot write in %s: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return s, nil
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

func fileSeq(path string) (uint64, bool) {
	base := strings.TrimSuffix(filepath.Base(path), spoolExt)
	n, err := strconv.ParseUint(base, 10, 64)
	return n, err == nil
}

// files lists the spool's files, oldest first.
func (s *Spool) files() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), spoolExt) {
			if _, ok := fileSeq(e.Name()); ok {
				out = append(out, filepath.Join(s.dir, e.Name()))
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		x, _ := fileSeq(a)
		y, _ := fileSeq(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out, nil
}

// Append writes results as one line each to the active file and syncs it.
func (s *Spool) Append(results []tocsin.AgentResult) error {
	if len(results) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, r := range results {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		if err := s.startFile(); err != nil {
			return err
		}
	}
	if _, err := s.active.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("spool: write %s: %w (is the disk full?)", s.path, err)
	}
	if err := s.active.Sync(); err != nil {
		return fmt.Errorf("spool: sync %s: %w", s.path, err)
	}
	s.size += int64(buf.Len())
	if s.size >= s.maxBytes {
		return s.sealLocked()
	}
	return nil
}

// startFile creates the next file and makes its name durable.
func (s *Spool) startFile() error {
	s.seq++
	path := filepath.Join(s.dir, fmt.Sprintf("%020d%s", s.seq, spoolExt))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.active, s.path, s.size = f, path, 0
	return nil
}

func (s *Spool) sealLocked() error {
	if s.active == nil {
		return nil
	}
	err := s.active.Close()
	s.active, s.path, s.size = nil, "", 0
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// Seal closes the active file, so that the next Append starts another,
// and returns every file waiting to be sent, oldest first.
func (s *Spool) Seal() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.sealLocked(); err != nil {
		return nil, err
	}
	return s.files()
}

// Pending counts the files waiting, the active one included.
func (s *Spool) Pending() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files, err := s.files()
	return len(files), err
}

// Remove deletes a sent file; call it only after the hub answered 2xx for
// every result in it.
func (s *Spool) Remove(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == s.path {
		return fmt.Errorf("spool: %s is still being written", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return syncDir(s.dir)
}

// Reject moves a file the hub refused as invalid into rejected/, where it
// is kept for a person to look at instead of blocking the files after it.
func (s *Spool) Reject(path string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.dir, "rejected")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	to := filepath.Join(dir, filepath.Base(path))
	if err := os.Rename(path, to); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	return to, syncDir(s.dir)
}

// Close syncs and closes the active file.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return nil
	}
	err := s.active.Sync()
	if cerr := s.sealLocked(); err == nil {
		err = cerr
	}
	return err
}

// ReadFile reads a spool file's results. A last line without its newline
// (a write cut by a crash) is ignored; a complete line that is not a
// result (the disk damaged it) is counted in bad and skipped.
func ReadFile(path string) (results []tocsin.AgentResult, bad int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// line holds the partial last line, if any: ignored.
			return results, bad, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("spool: read %s: %w", path, err)
		}
		var r tocsin.AgentResult
		if json.Unmarshal(line, &r) != nil || r.Key == "" {
			bad++
			continue
		}
		results = append(results, r)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: sync %s: %w", dir, err)
	}
	return nil
}
