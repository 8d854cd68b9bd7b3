package config

// Breach says which notification clocks a personal data breach starts
// besides GDPR art. 33's 72 hours, which always runs.
type Breach struct {
	// NIS2 adds the clocks of NIS2 art. 23 for a host subject to it (an
	// essential or important entity): a 24-hour early warning, a 72-hour
	// notification and a final report within a month.
	NIS2 bool `yaml:"nis2"`
}

// Clocks names the extra clocks, as tocsin.ClockKind values (config does
// not import the domain package).
func (b Breach) Clocks() []string {
	if !b.NIS2 {
		return nil
	}
	return []string{"nis2_early_warning", "nis2_notification", "nis2_final_report"}
}
