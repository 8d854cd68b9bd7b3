package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `tocsin runbook import` reads files (name and language from the file
// name) and the shipped runbooks; a bad file stops the import with its
// line; `runbook list` shows the versions.
func TestRunbookCommands(t *testing.T) {
	in := newInstance(t, "sqlite")
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("backup-leak.fr.md", "# Fuite de sauvegarde\n- [ ] Changer la clé (owner: lead, due: 1h)\n")
	bad := write("broken.md", "# Broken\n\n- [ ] a (due: 3x)\n")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		msg    string
	}{
		{"nothing", []string{"runbook", "import"}, 1, nil, "either files or --builtin"},
		{"both", []string{"runbook", "import", "--builtin", good}, 1, nil, "either files or --builtin"},
		{"bad line", []string{"runbook", "import", good, bad}, 1, nil, `line 3: due "3x" is not a duration like 30m or 2h`},
		{"bad lang", []string{"runbook", "import", "--builtin", "--lang", "de"}, 1, nil, "en and fr"},
		{"file", []string{"runbook", "import", good}, 0, []string{"backup-leak.fr.md\tcreated"}, ""},
		{"same file", []string{"runbook", "import", good}, 0, []string{"backup-leak.fr.md\tunchanged"}, ""},
		{"builtin fr", []string{"runbook", "import", "--builtin", "--lang", "fr"}, 0, []string{"fr/server-compromise\tcreated", "fr/leaked-dkim-key\tcreated"}, ""},
		{"builtin", []string{"runbook", "import", "--builtin"}, 0, []string{"fr/server-compromise\tunchanged", "en/leaked-tls-key\tcreated"}, ""},
		{"list", []string{"runbook", "list"}, 0, []string{"backup-leak", "Fuite de sauvegarde", "Serveur compromis : confinement", "Leaked DKIM key"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := in.cli("", tc.args...)
			if r.code() != tc.code {
				t.Fatalf("status %d, want %d: %s", r.code(), tc.code, r.message())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if !strings.Contains(r.message(), tc.msg) {
				t.Errorf("message %q lacks %q", r.message(), tc.msg)
			}
		})
	}
	// Nothing of the bad import was written.
	if r := in.cli("", "runbook", "list"); strings.Contains(r.stdout, "Broken") {
		t.Errorf("the refused import wrote a runbook:\n%s", r.stdout)
	}
}
