package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestBreachClocks(t *testing.T) {
	dir := t.TempDir()
	nis2 := filepath.Join(dir, "nis2.yaml")
	if err := os.WriteFile(nis2, []byte("breach: {nis2: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{"default: GDPR only", "", nil, nil},
		{"file", nis2, nil, []string{"nis2_early_warning", "nis2_notification", "nis2_final_report"}},
		{"environment", "", map[string]string{"TOCSIN_BREACH_NIS2": "true"}, []string{"nis2_early_warning", "nis2_notification", "nis2_final_report"}},
		{"environment turns it off", nis2, map[string]string{"TOCSIN_BREACH_NIS2": "false"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.file, envFrom(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Breach.Clocks(); !slices.Equal(got, tt.want) {
				t.Errorf("Clocks() = %q, want %q", got, tt.want)
			}
		})
	}
}
