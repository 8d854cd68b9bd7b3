package markdown

import (
	"bufio"
	"bytes"
	stdhtml "html"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxTextBytes bounds what Text returns: longer output (deeply nested quotes
// repeat their "> " on every line) is cut at a character boundary and ends
// with "…".
const MaxTextBytes = 2 * MaxBytes

// Text returns src as plain text for e-mails and feed summaries: markup is
// removed, link addresses stay visible as "text (https://…)", images read as
// their alt text and address, quotes keep "> ", list items "- " or "1. ",
// code blocks are indented by four spaces, table cells are separated by
// " | ", struck-through text keeps its "~~" (its meaning is that it no longer
// holds), and raw HTML is kept as typed, as on the page. The result is text,
// not HTML: escape it for whatever format embeds it. Text fails for the same
// inputs as Render.
func Text(src string) (string, error) {
	source, doc, err := parse(src)
	if err != nil {
		return "", err
	}
	w := &textWriter{src: source, bol: true}
	w.tmpw = bufio.NewWriter(&w.tmp)
	w.blocks(doc, false)
	// Markers of empty list items and table rows ending in an empty cell
	// leave spaces at the ends of lines.
	var b strings.Builder
	b.Grow(w.out.Len())
	for line := range strings.Lines(strings.TrimRight(w.out.String(), " \n")) {
		b.WriteString(strings.TrimRight(line, " \n"))
		if strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

type linePrefix struct {
	first, rest string
	used        bool
}

// textWriter writes plain text line by line, starting each line with the
// prefixes of the blocks it is inside (quote markers, list indentation).
type textWriter struct {
	src      []byte
	out      strings.Builder
	prefixes []linePrefix
	bol      bool // at the beginning of a line
	full     bool // MaxTextBytes reached

	tmp  bytes.Buffer // for resolving entities and escapes with goldmark's writer
	tmpw *bufio.Writer
}

func (w *textWriter) push(first, rest string) {
	w.prefixes = append(w.prefixes, linePrefix{first: first, rest: rest})
}

func (w *textWriter) pop() { w.prefixes = w.prefixes[:len(w.prefixes)-1] }

// emit appends s to the output, within MaxTextBytes.
func (w *textWriter) emit(s string) {
	if w.full {
		return
	}
	const ellipsis = "…"
	if room := MaxTextBytes - len(ellipsis) - w.out.Len(); len(s) > room {
		for room > 0 && !utf8.RuneStart(s[room]) {
			room--
		}
		w.out.WriteString(s[:max(room, 0)])
		w.out.WriteString(ellipsis)
		w.full = true
		return
	}
	w.out.WriteString(s)
}

// startLine writes the prefixes if the line has not started yet.
func (w *textWriter) startLine() {
	if !w.bol {
		return
	}
	w.bol = false
	for i := range w.prefixes {
		p := &w.prefixes[i]
		if p.used {
			w.emit(p.rest)
		} else {
			w.emit(p.first)
			p.used = true
		}
	}
}

// newline ends the current line; on an empty line it writes the prefixes
// without their trailing spaces (">" for a blank line in a quote).
func (w *textWriter) newline() {
	if w.bol {
		var b strings.Builder
		for _, p := range w.prefixes {
			if p.used {
				b.WriteString(p.rest)
			} else {
				b.WriteString(p.first)
			}
		}
		w.emit(strings.TrimRight(b.String(), " "))
	}
	w.emit("\n")
	w.bol = true
}

func (w *textWriter) endLine() {
	if !w.bol {
		w.newline()
	}
}

// str writes s, which may span lines.
func (w *textWriter) str(s string) {
	for {
		line, rest, more := strings.Cut(s, "\n")
		if line != "" {
			w.startLine()
			w.emit(line)
		}
		if !more || w.full {
			return
		}
		w.newline()
		s = rest
	}
}

// blocks writes the block children of parent, a blank line between them
// unless tight.
func (w *textWriter) blocks(parent ast.Node, tight bool) {
	first := true
	for c := parent.FirstChild(); c != nil && !w.full; c = c.NextSibling() {
		if c.Kind() == ast.KindLinkReferenceDefinition {
			continue
		}
		if !first && !tight {
			w.newline()
		}
		first = false
		w.block(c)
	}
}

func (w *textWriter) block(n ast.Node) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock, *ast.Heading:
		w.inlines(n)
		w.endLine()
	case *ast.ThematicBreak:
		w.str("---")
		w.endLine()
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		w.push("    ", "    ")
		w.lines(n.Lines())
		w.pop()
	case *ast.HTMLBlock:
		w.lines(n.Lines())
		if n.HasClosure() {
			closure := text.NewSegments()
			closure.Append(n.ClosureLine)
			w.lines(closure)
		}
	case *ast.Blockquote:
		w.push("> ", "> ")
		w.blocks(n, false)
		w.endLine()
		w.pop()
	case *ast.List:
		num := n.Start
		for item := n.FirstChild(); item != nil && !w.full; item = item.NextSibling() {
			if item != n.FirstChild() && !n.IsTight {
				w.newline()
			}
			marker := "- "
			if n.IsOrdered() {
				marker = strconv.Itoa(num) + ". "
				num++
			}
			w.push(marker, strings.Repeat(" ", len(marker)))
			w.blocks(item, n.IsTight)
			if !w.prefixes[len(w.prefixes)-1].used {
				w.startLine() // an empty item still shows its marker
			}
			w.endLine()
			w.pop()
		}
	case *east.Table:
		for row := n.FirstChild(); row != nil && !w.full; row = row.NextSibling() {
			for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
				if cell != row.FirstChild() {
					w.str(" | ")
				}
				w.inlines(cell)
			}
			w.endLine()
		}
	default:
		w.blocks(n, false)
	}
}

// lines writes a block's source lines as they are.
func (w *textWriter) lines(segs *text.Segments) {
	for i := range segs.Len() {
		seg := segs.At(i)
		w.str(strings.TrimRight(string(seg.Value(w.src)), "\r\n"))
		w.newline()
	}
}

func (w *textWriter) inlines(n ast.Node) {
	for c := n.FirstChild(); c != nil && !w.full; c = c.NextSibling() {
		w.inline(c)
	}
}

func (w *textWriter) inline(n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		w.str(w.resolve(n.Segment.Value(w.src)))
		if n.SoftLineBreak() || n.HardLineBreak() {
			w.newline()
		}
	case *ast.String:
		if n.IsCode() || n.IsRaw() {
			w.str(string(n.Value))
		} else {
			w.str(w.resolve(n.Value))
		}
	case *ast.CodeSpan:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			var v []byte
			switch c := c.(type) {
			case *ast.Text:
				v = c.Segment.Value(w.src)
			case *ast.String:
				v = c.Value
			}
			w.str(strings.ReplaceAll(string(v), "\n", " "))
		}
	case *east.Strikethrough:
		w.str("~~")
		w.inlines(n)
		w.str("~~")
	case *ast.Link:
		start := w.out.Len()
		w.inlines(n)
		label := w.out.String()[start:]
		dest := string(util.URLEscape(n.Destination, true))
		if label != dest && "mailto:"+label != dest {
			w.str(" (" + dest + ")")
		}
	case *ast.AutoLink:
		w.str(string(n.Label(w.src)))
	case *ast.RawHTML:
		for i := range n.Segments.Len() {
			seg := n.Segments.At(i)
			w.str(string(seg.Value(w.src)))
		}
	default:
		w.inlines(n)
	}
}

// resolve returns the text a Text node stands for: backslash escapes and
// entity references resolved exactly as the HTML renderer does.
func (w *textWriter) resolve(v []byte) string {
	w.tmp.Reset()
	html.DefaultWriter.Write(w.tmpw, v)
	_ = w.tmpw.Flush()
	return stdhtml.UnescapeString(w.tmp.String())
}
