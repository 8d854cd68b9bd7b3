package markdown

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tocsin-org/tocsin"
)

const rel = ` rel="nofollow noopener noreferrer"`

func TestRender(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", ""},
		{"paragraph", "All good.", "<p>All good.</p>\n"},
		{"hard wraps", "line one\nline two", "<p>line one<br>\nline two</p>\n"},
		{"heading 1 demoted", "# Outage", "<h3>Outage</h3>\n"},
		{"heading 2 demoted", "## Cause", "<h4>Cause</h4>\n"},
		{"heading 3 demoted", "### Detail", "<h5>Detail</h5>\n"},
		{"heading 4 and deeper stay h6", "#### a\n\n###### b", "<h6>a</h6>\n<h6>b</h6>\n"},
		{"setext heading demoted", "Title\n=====", "<h3>Title</h3>\n"},
		{"no heading ids", "# Same", "<h3>Same</h3>\n"},
		{"emphasis", "*em* **strong** ~~gone~~", "<p><em>em</em> <strong>strong</strong> <del>gone</del></p>\n"},
		{"code span", "run `systemctl restart x`", "<p>run <code>systemctl restart x</code></p>\n"},
		{"fenced code with language", "```sh\necho <hi> & bye\n```", "<pre><code class=\"language-sh\">echo &lt;hi&gt; &amp; bye\n</code></pre>\n"},
		{"indented code", "    a < b", "<pre><code>a &lt; b\n</code></pre>\n"},
		{"unordered list", "- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"},
		{"ordered list start", "3. c\n4. d", "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>\n"},
		{"task list stays text", "- [ ] todo\n- [x] done", "<ul>\n<li>[ ] todo</li>\n<li>[x] done</li>\n</ul>\n"},
		{"blockquote", "> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>\n"},
		{"thematic break", "a\n\n---\n\nb", "<p>a</p>\n<hr>\n<p>b</p>\n"},
		{"table with alignment", "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |",
			"<table>\n<thead>\n<tr>\n<th align=\"left\">a</th>\n<th align=\"center\">b</th>\n<th align=\"right\">c</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td align=\"left\">1</td>\n<td align=\"center\">2</td>\n<td align=\"right\">3</td>\n</tr>\n</tbody>\n</table>\n"},
		{"link", "[status](https://example.org/s?a=1&b=2)", "<p><a href=\"https://example.org/s?a=1&amp;b=2\"" + rel + ">status</a></p>\n"},
		{"link with title", `[s](https://example.org "The title")`, "<p><a href=\"https://example.org\" title=\"The title\"" + rel + ">s</a></p>\n"},
		{"relative link", "[history](/history)", "<p><a href=\"/history\"" + rel + ">history</a></p>\n"},
		{"fragment link", "[up](#top)", "<p><a href=\"#top\"" + rel + ">up</a></p>\n"},
		{"mailto link", "[mail us](mailto:ops@example.org)", "<p><a href=\"mailto:ops@example.org\"" + rel + ">mail us</a></p>\n"},
		{"angle autolink", "<https://example.org/x>", "<p><a href=\"https://example.org/x\"" + rel + ">https://example.org/x</a></p>\n"},
		{"email autolink", "<ops@example.org>", "<p><a href=\"mailto:ops@example.org\"" + rel + ">ops@example.org</a></p>\n"},
		{"bare url", "see https://example.org/x.", "<p>see <a href=\"https://example.org/x\"" + rel + ">https://example.org/x</a>.</p>\n"},
		{"bare www", "see www.example.org", "<p>see <a href=\"http://www.example.org\"" + rel + ">www.example.org</a></p>\n"},
		{"bare email", "write to ops@example.org", "<p>write to <a href=\"mailto:ops@example.org\"" + rel + ">ops@example.org</a></p>\n"},
		{"bare ftp is not linked", "ftp://example.org/f", "<p>ftp://example.org/f</p>\n"},
		{"reference link", "[s][r]\n\n[r]: https://example.org", "<p><a href=\"https://example.org\"" + rel + ">s</a></p>\n"},
		{"image becomes link", "![graph of errors](https://example.org/g.png)", "<p><a href=\"https://example.org/g.png\"" + rel + ">graph of errors</a></p>\n"},
		{"image without alt shows address", "![](https://example.org/g.png)", "<p><a href=\"https://example.org/g.png\"" + rel + ">https://example.org/g.png</a></p>\n"},
		{"image inside link keeps only alt", "[![logo](https://example.org/l.png)](https://example.org)", "<p><a href=\"https://example.org\"" + rel + ">logo</a></p>\n"},
		{"javascript link loses its link", "[click](javascript:alert(1))", "<p>click</p>\n"},
		{"inline html shown as typed", "I typed <b>bold</b>", "<p>I typed &lt;b&gt;bold&lt;/b&gt;</p>\n"},
		{"script shown as typed", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		{"html block shown as typed", "<div>\nhi\n</div>", "<p>&lt;div&gt;<br>\nhi<br>\n&lt;/div&gt;</p>\n"},
		{"entities", "AT&amp;T &copy; 5 &lt; 6", "<p>AT&amp;T © 5 &lt; 6</p>\n"},
		{"backslash escape", `\*not em\*`, "<p>*not em*</p>\n"},
		{"unicode", "Panne à Zürich — 東京", "<p>Panne à Zürich — 東京</p>\n"},
		{"nul replaced", "a\x00b", "<p>a\ufffdb</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.src)
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.src, err)
			}
			if string(got) != tt.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
			if err := checkDOM(string(got)); err != nil {
				t.Errorf("Render(%q) = %s: %v", tt.src, got, err)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", ""},
		{"paragraphs", "one\n\ntwo", "one\n\ntwo"},
		{"hard wraps", "one\ntwo", "one\ntwo"},
		{"heading", "# Outage\n\nbody", "Outage\n\nbody"},
		{"emphasis stripped", "*em* **strong** `code`", "em strong code"},
		{"strikethrough kept", "~~fixed~~ still broken", "~~fixed~~ still broken"},
		{"entities and escapes", `AT&amp;T \*x\* &lt;b&gt;`, "AT&T *x* <b>"},
		{"link shows address", "[status](https://example.org/s?a=1&b=2)", "status (https://example.org/s?a=1&b=2)"},
		{"link text equal to address", "[https://example.org](https://example.org)", "https://example.org"},
		{"mailto link", "[ops@example.org](mailto:ops@example.org)", "ops@example.org"},
		{"autolink", "<https://example.org>", "https://example.org"},
		{"bare url", "see https://example.org", "see https://example.org"},
		{"image", "![graph](https://example.org/g.png)", "graph (https://example.org/g.png)"},
		{"unsafe link keeps text only", "[click](javascript:alert(1))", "click"},
		{"raw html as typed", "I typed <b>bold</b>", "I typed <b>bold</b>"},
		{"html block as typed", "<div>\nhi\n</div>", "<div>\nhi\n</div>"},
		{"tight list", "- a\n- b", "- a\n- b"},
		{"ordered list", "3. a\n4. b", "3. a\n4. b"},
		{"loose list", "- a\n\n- b", "- a\n\n- b"},
		{"nested list", "- a\n  - b\n- c", "- a\n  - b\n- c"},
		{"list item continuation", "1. first\n   more", "1. first\n   more"},
		{"empty item", "-\n- b", "-\n- b"},
		{"blockquote", "> a\n>\n> b", "> a\n>\n> b"},
		{"nested quote and list", "> - a\n> - b", "> - a\n> - b"},
		{"code block", "```\nx := 1\n\ny\n```", "    x := 1\n\n    y"},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", "a | b\n1 | 2"},
		{"thematic break", "a\n\n***\n\nb", "a\n\n---\n\nb"},
		{"reference definition hidden", "[s][r]\n\n[r]: https://example.org", "s (https://example.org)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Text(tt.src)
			if err != nil {
				t.Fatalf("Text(%q): %v", tt.src, err)
			}
			if got != tt.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

// Lazy continuation lines belong to the innermost quote and get all its
// "> " markers back in plain text: 90 quotes and 30,000 short lines would be
// 5 MB of text without the bound.
func TestTextBounded(t *testing.T) {
	src := strings.Repeat("> ", 90) + " a\n" + strings.Repeat("b\n", 30000)
	got, err := Text(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > MaxTextBytes || !strings.HasSuffix(got, "…") {
		t.Errorf("len(Text) = %d, suffix %q; want at most %d, ending with …", len(got), got[max(0, len(got)-10):], MaxTextBytes)
	}
	// Cut between runes, never inside one.
	got, err = Text(strings.Repeat("> ", 30) + " é\n" + strings.Repeat("é\n", 20000))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\ufffd') {
		t.Errorf("Text cut badly: ends %q", got[max(0, len(got)-10):])
	}
}

func TestLimits(t *testing.T) {
	wideTable := strings.Repeat("|a", 2000) + "\n" + strings.Repeat("|-", 2000) + "\n" + strings.Repeat("x\n", 10000)
	refs := "[r]: https://example.org/" + strings.Repeat("a", 30000) + "\n\n" + strings.Repeat("[a][r] ", 4000)
	tests := []struct {
		name, src, key string
	}{
		{"at the limit", strings.Repeat("a", MaxBytes), ""},
		{"over the limit", strings.Repeat("a", MaxBytes+1), "markdown.too_long"},
		{"invalid utf-8", "ok \xff\xfe not", "markdown.not_utf8"},
		{"truncated rune", "caf\xc3", "markdown.not_utf8"},
		{"table padded to millions of cells", wideTable, "markdown.too_complex"},
		{"reference copied thousands of times", refs, "markdown.too_complex"},
		{"table at the cell budget", "|a|b|\n|-|-|\n" + strings.Repeat("1\n", maxTableCells/2-1), ""},
		{"one row over the budget", "|a|b|\n|-|-|\n" + strings.Repeat("1\n", maxTableCells/2), "markdown.too_complex"},
		{"quotes at the nesting limit", strings.Repeat(">", maxNesting) + " a", ""},
		{"quotes over the nesting limit", strings.Repeat(">", maxNesting+1) + " a", "markdown.too_complex"},
		{"65,000 nested quotes", strings.Repeat(">", MaxBytes-2) + " a", "markdown.too_complex"},
		{"lists and quotes over the nesting limit", strings.Repeat("> - 1. ", maxNesting/3+1) + "a", "markdown.too_complex"},
		{"deep quotes on many lines", strings.Repeat(strings.Repeat(">", maxNesting)+" a\n", MaxBytes/(maxNesting+3)), ""},
		{"long thematic break is fine", strings.Repeat("-", 500), ""},
		{"many tables within budget", strings.Repeat("|a|b|\n|-|-|\n|1|2|\n\n", 1000), ""},
		{"a reference used a few times", "[r]: https://example.org/" + strings.Repeat("a", 1000) + "\n\n" + strings.Repeat("[a][r] ", 100), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.src) > MaxBytes && tt.key != "markdown.too_long" {
				t.Fatalf("test input is %d bytes, over MaxBytes", len(tt.src))
			}
			for fn, f := range map[string]func(string) (any, error){
				"Render": func(s string) (any, error) { return Render(s) },
				"Text":   func(s string) (any, error) { return Text(s) },
			} {
				_, err := f(tt.src)
				if tt.key == "" {
					if err != nil {
						t.Errorf("%s: %v", fn, err)
					}
					continue
				}
				var e *tocsin.Error
				if !errors.As(err, &e) || e.Code != tocsin.EINVALID || e.Key != tt.key {
					t.Errorf("%s: error %v, want EINVALID with key %s", fn, err, tt.key)
				}
				if tt.key == "markdown.too_long" && (len(e.Args) != 1 || e.Args[0] != MaxBytes) {
					t.Errorf("%s: args %v, want [%d]", fn, e.Args, MaxBytes)
				}
			}
		})
	}
}

// Inputs that are hard for Markdown parsers (after cmark's pathological
// tests) must stay fast and small at the size limit.
// pathologicalAlloc bounds what rendering one hostile body may allocate:
// before the limits, a 64 KiB table made goldmark allocate 21 GB.
const pathologicalAlloc = 256 << 20

func TestPathological(t *testing.T) {
	n := MaxBytes / 8
	tests := []struct{ name, src string }{
		{"nested brackets", strings.Repeat("[", n) + "a" + strings.Repeat("]", n)},
		{"nested block quotes", strings.Repeat(strings.Repeat(">", maxNesting)+" a\n", MaxBytes/(maxNesting+3))},
		{"nested lists", func() string {
			var b strings.Builder
			for i := 0; b.Len() < MaxBytes-400; i++ {
				b.WriteString(strings.Repeat("  ", i%100) + "- a\n")
			}
			return b.String()
		}()},
		{"unclosed emphasis", strings.Repeat("*a ", MaxBytes/3)},
		{"alternating emphasis", strings.Repeat("*a **a ", MaxBytes/8)},
		{"many underscores", strings.Repeat("a_", MaxBytes/2)},
		{"unclosed links", strings.Repeat("[a](b ", MaxBytes/6)},
		{"unclosed html", strings.Repeat("<a ", MaxBytes/3)},
		{"backticks", strings.Repeat("`", n) + "a" + strings.Repeat("``", n/4)},
		{"many definitions", strings.Repeat("[a]: b\n", MaxBytes/8)},
		{"empty cells", "|a|\n|-|\n" + strings.Repeat("||||||||\n", (MaxBytes-20)/10)},
		{"entities", strings.Repeat("&amp;", MaxBytes/5)},
		{"empty list items", strings.Repeat("-\n", MaxBytes/2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Work is bounded by what is allocated, which does not depend on
			// the machine's load as a duration would.
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err := Render(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Text(tt.src); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > pathologicalAlloc {
				t.Errorf("allocated %d MiB for %d bytes in", alloc>>20, len(tt.src))
			} else {
				t.Logf("allocated %d KiB", alloc>>10)
			}
			if len(out) > 32*len(tt.src) {
				t.Errorf("%d bytes in, %d out", len(tt.src), len(out))
			}
		})
	}
}

func TestRenderDeterministicAndConcurrent(t *testing.T) {
	srcs := []string{typicalUpdate, "| a | b |\n|-|-|\n| 1 |", "[x](javascript:alert(1)) <b>", "> - a\n> - b"}
	want := make([]string, len(srcs))
	for i, s := range srcs {
		out, err := Render(s)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = string(out)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(srcs)
				out, err := Render(srcs[k])
				if err != nil || string(out) != want[k] {
					t.Errorf("Render(%q) changed: %q, %v", srcs[k], out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// typicalUpdate is a 2 KB incident update of the kind a host writes.
var typicalUpdate = `## Mail delivery delayed

We are seeing **delays of up to 40 minutes** for outgoing mail from
` + "`smtp2.example.net`" + `. Incoming mail is not affected. Messages are queued, not lost.

### What we know

- The queue on smtp2 grew from 200 to *31,000* messages after 09:12 UTC.
- A large customer's newsletter triggered rate limits at two big providers.
- smtp1 and smtp3 are healthy and take the load we can move.

### What we are doing

1. We have paused the newsletter and contacted the customer.
2. We are draining the queue at the rate the providers accept.
3. We will move part of the queue to smtp3 if the rate does not improve by 10:30.

| Server | Queue | Status |
|:-------|------:|:------:|
| smtp1  |   120 | OK |
| smtp2  | 31,000 | ~~OK~~ delayed |
| smtp3  |   340 | OK |

> If a message is urgent, resend it through the web mail at
> https://webmail.example.net, which uses smtp1.

The providers' own notes are at [their postmaster page](https://postmaster.example.com/limits)
and our runbook is [here](/docs/runbooks/mail-queue). Questions: <support@example.net>.

![queue size graph](https://status.example.net/graphs/smtp2-queue.png)

Timeline so far: at 09:12 UTC the queue started to grow; at 09:25 UTC our
monitoring alerted the on-call engineer; at 09:40 UTC we identified the
newsletter as the cause and paused it; since 09:55 UTC the queue has been
shrinking by about 2,000 messages every ten minutes.

Customers on the *Business* plan can ask us to route their domains through
smtp1 for the rest of the day: reply to your ticket or write to us and we will
do it within fifteen minutes. Nothing needs to change on your side.

Next update by 10:45 UTC, or sooner if anything changes. We are sorry for the
delay; we know mail that arrives late is sometimes as bad as mail that does
not arrive at all. Thank you for your patience while we work through this.
` + "```" + `
postqueue -p | tail -1
-- 31012 Kbytes in 31004 Requests.
` + "```" + `
`

func BenchmarkRender(b *testing.B) {
	b.SetBytes(int64(len(typicalUpdate)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(typicalUpdate); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkText(b *testing.B) {
	b.SetBytes(int64(len(typicalUpdate)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Text(typicalUpdate); err != nil {
			b.Fatal(err)
		}
	}
}
