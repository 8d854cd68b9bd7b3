package httpserver

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds the parsed templates, one set per page, and the static assets
// under content-hashed names so that browsers may cache them forever.
type pages struct {
	byName map[string]*template.Template
	assets map[string]asset // hashed name → asset
	hashed map[string]string
}

type asset struct {
	body        []byte
	contentType string
}

func loadPages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}, assets: map[string]asset{}, hashed: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		base := path.Base(name)
		ext := path.Ext(base)
		hashedName := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
		p.assets[hashedName] = asset{body: body, contentType: types[ext]}
		p.hashed[base] = hashedName
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"t": i18n.T,
		"asset": func(name string) string {
			return "/static/" + p.hashed[name]
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" || strings.HasPrefix(base, "security_room_") {
			continue
		}
		files := []string{"templates/layout.html", name}
		if base == "security_incident" {
			// The room's sections, each a {{define}} of its own file.
			files = append(files, "templates/security_room_*.html")
		}
		t, err := template.New(base).Funcs(funcs).Funcs(viewFuncs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		p.byName[base] = t
	}
	return p, nil
}

// viewFuncs are the template helpers that need no request.
var viewFuncs = template.FuncMap{
	"roles": func(rs tocsin.Roles) string { return rs.String() },
	"hasRole": func(rs tocsin.Roles, r string) bool {
		for _, x := range rs {
			if string(x) == r {
				return true
			}
		}
		return false
	},
	"allRoles": func() []tocsin.Role { return tocsin.AllRoles },
}

// view is what every template receives: the page's data plus what the
// layout needs.
type view struct {
	Lang     string
	Title    string
	User     *tocsin.User
	CSRF     string
	Path     string
	Version  string
	TimeZone string
	Flash    string
	Data     map[string]any
}

// render writes the named page with status. Rendering goes to a buffer first
// so that a template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	st := state(r)
	t, ok := s.pages.byName[name]
	if !ok {
		s.log.Error("no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	v := view{
		Lang: st.lang, User: st.user, CSRF: s.csrfToken(r), Path: r.URL.Path,
		Version: s.version, TimeZone: s.loc.String(), Data: data,
	}
	if st.session != nil && (!s.fullySignedIn(st) || st.user.MustChangePassword) {
		v.User = nil // the menu stays hidden until the second factor and own password
	}
	if f, ok := data["Flash"].(string); ok {
		v.Flash = f
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("render failed", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fmtTime shows a time in the host's zone, naming the zone.
func (s *Server) fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.loc).Format("2006-01-02 15:04 MST")
}

// static serves embedded assets by their content-hashed names.
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	a, ok := s.pages.assets[r.PathValue("file")]
	if !ok {
		return tocsin.Errorf(tocsin.ENOTFOUND, "No such file.")
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err := w.Write(a.body)
	return err
}
