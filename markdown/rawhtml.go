package markdown

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// visibleHTML renders raw HTML as the text the author typed, escaped, in
// place of goldmark's "<!-- raw HTML omitted -->": inline HTML stays in its
// sentence, an HTML block becomes a paragraph of its lines.
type visibleHTML struct{}

func (visibleHTML) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	segs := node.(*ast.RawHTML).Segments
	for i := range segs.Len() {
		seg := segs.At(i)
		writeLines(w, seg.Value(source))
	}
	return ast.WalkSkipChildren, nil
}

func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	var all []byte
	for i := range n.Lines().Len() {
		line := n.Lines().At(i)
		all = append(all, line.Value(source)...)
	}
	if n.HasClosure() {
		all = append(all, n.ClosureLine.Value(source)...)
	}
	_, _ = w.WriteString("<p>")
	writeLines(w, bytes.TrimRight(all, " \t\r\n"))
	_, _ = w.WriteString("</p>\n")
	return ast.WalkContinue, nil
}

// writeLines writes b escaped, its line breaks as <br> (the renderer uses
// hard wraps everywhere else too).
func writeLines(w util.BufWriter, b []byte) {
	for i, line := range bytes.Split(b, []byte{'\n'}) {
		if i > 0 {
			_, _ = w.WriteString("<br>\n")
		}
		_, _ = w.Write(util.EscapeHTML(bytes.TrimRight(line, "\r")))
	}
}
