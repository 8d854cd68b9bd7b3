package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEExample parses the configuration the README shows, so that a
// key renamed or a value made invalid there fails here.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Configuration")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README's Configuration section has no yaml block")
	}
	c := Default()
	if err := Parse(&c, []byte(block)); err != nil {
		t.Fatalf("README's configuration: %v", err)
	}
	// The secrets the README leaves to the environment.
	c.Intake.IMAP.Password, c.Matrix.AccessToken = "from TOCSIN_INTAKE_IMAP_PASSWORD", "from-TOCSIN_MATRIX_ACCESS_TOKEN"
	if err := c.Validate(); err != nil {
		t.Fatalf("README's configuration: %v", err)
	}
	if !strings.Contains(block, "evidence:") || c.Evidence.MaxBytes != 25<<20 || c.Comms.Cadence == 0 {
		t.Errorf("README's configuration read as %+v", c)
	}
}
