package httpserver

import (
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// A post-mortem's timeline is typed in the console as one entry per line:
// a date and time in the host's zone, then the text, as in
// "2026-11-20 14:05 Alert on disk space". Seconds are optional.

var timelineLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"}

// parseTimeline reads the timeline field; blank lines are skipped. A line
// that does not start with a date and time is EINVALID, naming the line.
func parseTimeline(text string, loc *time.Location) ([]tocsin.TimelineEntry, error) {
	var out []tocsin.TimelineEntry
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		e, ok := parseTimelineLine(line, loc)
		if !ok {
			return nil, tocsin.Errorf(tocsin.EINVALID, "timeline line %d does not start with a date and time such as 2026-11-20 14:05", i+1).
				WithKey("postmortems.timeline_line_invalid", i+1)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseTimelineLine(line string, loc *time.Location) (tocsin.TimelineEntry, bool) {
	for _, layout := range timelineLayouts {
		if len(line) < len(layout) {
			continue
		}
		head, rest := line[:len(layout)], line[len(layout):]
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
			continue // "14:05:07" read as "14:05" followed by ":07"
		}
		at, err := time.ParseInLocation(layout, head, loc)
		if err != nil {
			continue
		}
		return tocsin.TimelineEntry{At: at, Text: strings.TrimSpace(rest)}, true
	}
	return tocsin.TimelineEntry{}, false
}

// formatTimeline writes entries as parseTimeline reads them, with seconds
// only where an entry has some, so that saving the form unchanged changes
// nothing.
func formatTimeline(entries []tocsin.TimelineEntry, loc *time.Location) string {
	var b strings.Builder
	for _, e := range entries {
		at := e.At.In(loc)
		layout := "2006-01-02 15:04"
		if at.Second() != 0 {
			layout = "2006-01-02 15:04:05"
		}
		b.WriteString(at.Format(layout))
		b.WriteByte(' ')
		b.WriteString(strings.Join(strings.Fields(e.Text), " "))
		b.WriteByte('\n')
	}
	return b.String()
}
