package httpserver

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// FuzzRegisterCSV writes any text as a register cell and reads the file
// back: the CSV stays well-formed, one row, the text comes back whole
// (behind the quote when it had to be defused), and no cell starts with a
// character a spreadsheet would act on.
func FuzzRegisterCSV(f *testing.F) {
	for _, s := range []string{"", "customers", "=1+2", "+33", "-1", "@SUM(A1)", "\t=x", "\r=x", "a\"b,c\nd", "=HYPERLINK(\"http://x\")", "\xff"} {
		f.Add(s)
	}
	s := &Server{}
	f.Fuzz(func(t *testing.T, text string) {
		b := &tocsin.Breach{IncidentID: 1, Title: text, Answer: tocsin.BreachYes, Status: tocsin.BreachDiscovered, Type: text,
			Categories: text, Consequences: text, Remedial: text, AuthorityRef: text, SubjectsHow: text}
		body, err := s.writeRegisterCSV([]*tocsin.Breach{b})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil || len(rows) != 2 || len(rows[1]) != len(registerColumns) {
			t.Fatalf("rows %q, %v", rows, err)
		}
		for j, c := range rows[1] {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("column %s starts with %q", registerColumns[j], c[0])
			}
		}
		// The reader turns \r\n into \n inside quoted fields.
		want := strings.ReplaceAll(csvSafe(text), "\r\n", "\n")
		if got := rows[1][1]; got != want && !strings.Contains(text, "\r") {
			t.Errorf("title cell %q, want %q", got, want)
		}
	})
}

// FuzzBreachForm reads any register form: it never panics and refuses
// with EINVALID only, and a number it accepts is a whole number.
func FuzzBreachForm(f *testing.F) {
	for _, s := range []string{"people=1200&records=5+000&risk=high&status=closed", "people=-1", "people=99999999999999999999",
		"risk=severe", "status=gone", "answer=maybe", "notify=yes", "notify=peut-%C3%AAtre", "clock=nis2_final_report", "%zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		for _, name := range []string{"people", "records", "subjects_count"} {
			n, err := formNumber(form, name, name)
			if err != nil && tocsin.ErrorCode(err) != tocsin.EINVALID {
				t.Fatalf("%s: %v", name, err)
			}
			if err == nil && n != nil && strings.TrimSpace(form.Get(name)) == "" {
				t.Fatalf("%s: a number from nothing", name)
			}
		}
		checks := []error{}
		_, err = parseNotify(form.Get("notify"))
		checks = append(checks, err)
		_, err = tocsin.ParseBreachAnswer(form.Get("answer"))
		checks = append(checks, err)
		_, err = tocsin.ParseBreachRisk(form.Get("risk"))
		checks = append(checks, err)
		_, err = tocsin.ParseBreachStatus(form.Get("status"))
		checks = append(checks, err)
		_, err = tocsin.ParseClockKind(form.Get("clock"))
		checks = append(checks, err)
		for _, err := range checks {
			if err != nil && tocsin.ErrorCode(err) != tocsin.EINVALID {
				t.Fatalf("not EINVALID: %v", err)
			}
		}
	})
}
