package httpserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Evidence of security incidents, shared by the console and the API: an
// uploaded file is hashed, sniffed, checked against the deny list and
// sealed with the server's key (auth.Box, bound to the incident and the
// hash) before the store sees it; its content is served only through
// authenticated routes that record the access in its custody log.

// evidenceMax is the largest file accepted (config evidence.max_bytes).
func (s *Server) evidenceMax() int64 {
	if n := s.cfg.Evidence.MaxBytes; n > 0 {
		return n
	}
	return tocsin.DefaultEvidenceMaxBytes
}

// evidenceFormBytes bounds an upload's whole body: the file and the form.
func (s *Server) evidenceFormBytes() int64 { return s.evidenceMax() + maxFormBytes }

// evidenceAAD binds sealed content to its incident and its hash, so that
// content moved to another item does not open.
func evidenceAAD(incidentID int64, sum string) []byte {
	return []byte("evidence:" + strconv.FormatInt(incidentID, 10) + ":" + sum)
}

// evidenceInput is a new item as a form or a JSON body gives it.
type evidenceInput struct {
	Description string
	SHA256      string // a reference's, or an upload's expected hash (checked)
	Size        string // a reference's, in bytes; optional
	Location    string
	Source      string
	CollectedBy string
	CollectedAt time.Time
	File        *upload // nil or without content: a reference
}

// addEvidence stores in as a file (when it carries one) or a reference.
// The collector defaults to whoever adds it.
func (s *Server) addEvidence(ctx context.Context, a tocsin.Actor, incidentID int64, in evidenceInput) (*tocsin.Evidence, error) {
	e := &tocsin.Evidence{Description: in.Description, Source: in.Source, CollectedBy: in.CollectedBy, CollectedAt: in.CollectedAt}
	if strings.TrimSpace(e.CollectedBy) == "" {
		e.CollectedBy = a.Label
	}
	var sealed []byte
	if in.File != nil && in.File.Content != nil {
		content := in.File.Content
		if why := tocsin.DeniedContent(content); why != "" {
			return nil, tocsin.Errorf(tocsin.EINVALID, "this file is a %s: upload it inside an archive, or record it as a reference", why).
				WithKey("evidence.denied_type", why)
		}
		sum := sha256.Sum256(content)
		e.Kind, e.SHA256, e.Size, e.Filename = tocsin.EvidenceFile, hex.EncodeToString(sum[:]), int64(len(content)), in.File.Filename
		e.MediaType = http.DetectContentType(content)
		if strings.TrimSpace(in.SHA256) != "" {
			want, err := tocsin.ParseSHA256(in.SHA256)
			if err != nil {
				return nil, err
			}
			if want != e.SHA256 {
				return nil, tocsin.Errorf(tocsin.EINVALID, "the file received has SHA-256 %s, not the %s given: it changed on the way", e.SHA256, want).
					WithKey("evidence.sha256_differs", e.SHA256, want)
			}
		}
		var err error
		if sealed, err = s.box.Seal(content, evidenceAAD(incidentID, e.SHA256)); err != nil {
			return nil, err
		}
	} else {
		e.Kind, e.SHA256, e.Location = tocsin.EvidenceReference, in.SHA256, in.Location
		if v := strings.TrimSpace(in.Size); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, tocsin.Errorf(tocsin.EINVALID, "a size is a number of bytes, 0 or more").WithKey("evidence.size_invalid")
			}
			e.Size = n
		}
	}
	return e, s.store.AddEvidence(ctx, a, incidentID, e, sealed)
}

// evidenceInputFromForm reads the room's evidence form: kind "file" needs
// a file chosen, "reference" a location.
func (s *Server) evidenceInputFromForm(r *http.Request) (evidenceInput, error) {
	f := r.PostForm
	at, err := s.formTime(f, "collected_at")
	if err != nil {
		return evidenceInput{}, err
	}
	in := evidenceInput{Description: f.Get("description"), SHA256: f.Get("sha256"), Size: f.Get("size"), Location: f.Get("location"),
		Source: f.Get("source"), CollectedBy: f.Get("collected_by"), CollectedAt: at}
	switch f.Get("kind") {
	case string(tocsin.EvidenceFile):
		up := state(r).upload
		if up == nil || up.Content == nil {
			return in, tocsin.Errorf(tocsin.EINVALID, "choose the file to upload").WithKey("evidence.no_file")
		}
		in.File = up
	case string(tocsin.EvidenceReference):
	default:
		return in, tocsin.Errorf(tocsin.EINVALID, "evidence is a file or a reference, not %q", f.Get("kind")).WithKey("evidence.kind_unknown", f.Get("kind"))
	}
	return in, nil
}

// evidencePath reads {id} and {eid}.
func evidencePath(r *http.Request) (incidentID, id int64, err error) {
	if incidentID, err = pathID(r, "id"); err != nil {
		return 0, 0, err
	}
	id, err = pathID(r, "eid")
	return incidentID, id, err
}

// verifyEvidence hashes a file's content again and records the result in
// its custody log: "match", or "mismatch" with what was found.
func (s *Server) verifyEvidence(ctx context.Context, a tocsin.Actor, incidentID, id int64) (string, error) {
	e, _, err := s.store.EvidenceItem(ctx, incidentID, id)
	if err != nil {
		return "", err
	}
	if e.Kind != tocsin.EvidenceFile {
		return "", tocsin.Errorf(tocsin.EINVALID, "tocsin holds no content for a reference: verify it where it is").WithKey("evidence.verify_reference")
	}
	sealed, err := s.store.EvidenceContent(ctx, incidentID, id)
	if err != nil {
		return "", err
	}
	result := tocsin.VerifyMatch
	if plain, err := s.box.Open(sealed, evidenceAAD(incidentID, e.SHA256)); err != nil {
		result = tocsin.VerifyMismatch + ": the stored content does not open with this server's key"
	} else if sum := sha256.Sum256(plain); hex.EncodeToString(sum[:]) != e.SHA256 {
		result = tocsin.VerifyMismatch + ": sha256 " + hex.EncodeToString(sum[:])
	}
	return result, s.store.RecordCustody(ctx, a, incidentID, id, tocsin.CustodyVerified, result)
}

// serveEvidence writes a file's content as a download, after recording
// the access: an attachment, never rendered, never cached, no CORS.
func (s *Server) serveEvidence(w http.ResponseWriter, r *http.Request) error {
	incidentID, id, err := evidencePath(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	e, _, err := s.store.EvidenceItem(ctx, incidentID, id)
	if err != nil {
		return err
	}
	if e.Kind != tocsin.EvidenceFile {
		return tocsin.Errorf(tocsin.ENOTFOUND, "evidence %d is a reference: it is at %s", id, e.Location).WithKey("evidence.no_content", e.Location)
	}
	sealed, err := s.store.EvidenceContent(ctx, incidentID, id)
	if err != nil {
		return err
	}
	plain, err := s.box.Open(sealed, evidenceAAD(incidentID, e.SHA256))
	if err != nil {
		return fmt.Errorf("evidence %d: open sealed content: %w", id, err)
	}
	if err := s.store.RecordCustody(ctx, state(r).actor(), incidentID, id, tocsin.CustodyDownloaded, ""); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(plain)))
	h.Set("X-Evidence-SHA256", e.SHA256)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(plain)
	}
	return nil
}
