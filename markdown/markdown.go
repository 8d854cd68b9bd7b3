// Package markdown turns the Markdown that staff type into incident updates
// into HTML that the public page can embed, and into plain text for e-mails
// and feed summaries.
//
// The HTML goes through two independent layers on purpose:
//
//  1. goldmark (CommonMark plus GFM tables, strikethrough and bare-URL
//     autolinks) with raw HTML off and an AST pass of our own that drops
//     links whose scheme is not http, https or mailto, turns images into
//     links, demotes headings and marks every link rel="nofollow noopener
//     noreferrer";
//  2. a bluemonday allow-list that admits only the elements and attributes
//     that layer 1 produces, so that a future goldmark option or bug cannot
//     slip markup through.
//
// Decisions a reader of the page will notice:
//
//   - Raw HTML is shown as typed, escaped: "I typed <b>" reads exactly so,
//     and <script> is visible text, never an element. Nothing is silently
//     dropped, so the author sees at once that HTML is not interpreted.
//   - Images become links to the image (the alt text, or the address when
//     there is none): loading third-party images would leak every reader's
//     address to that party and let an update carry a tracking pixel.
//   - Headings are demoted by two levels (# is <h3>, ###### stays <h6>), so
//     that an update never outranks the page's own <h1> and <h2>.
//   - A line break in the source is a line break on the page (as in GitHub
//     comments): updates are typed in a text area, not wrapped prose.
//   - Task-list checkboxes are not rendered: "- [ ] x" stays readable text
//     rather than a form control.
//   - Links get no target attribute; they open where the reader chooses.
//
// Both functions are deterministic and safe for concurrent use.
package markdown

import (
	"bytes"
	"html/template"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxBytes is the largest Markdown source Render and Text accept.
const MaxBytes = 64 << 10

// md is built once: goldmark's parser and renderer are safe for concurrent
// use, and everything per-document lives in the parser.Context.
var md = goldmark.New(
	goldmark.WithExtensions(
		extension.Strikethrough,
		extension.NewLinkify(extension.WithLinkifyAllowedProtocols([]string{"http:", "https:", "mailto:"})),
	),
	goldmark.WithParserOptions(
		// Tables are registered by hand rather than with extension.Table, so
		// that their paragraph transformer runs behind boundedTables (limits.go).
		parser.WithParagraphTransformers(
			util.Prioritized(boundedTables{extension.NewTableParagraphTransformer()}, 200),
		),
		parser.WithASTTransformers(
			util.Prioritized(extension.NewTableASTTransformer(), 0),
			util.Prioritized(safeTree{}, 1000),
		),
	),
	goldmark.WithRendererOptions(
		html.WithHardWraps(),
		renderer.WithNodeRenderers(
			util.Prioritized(extension.NewTableHTMLRenderer(
				extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)), 500),
			util.Prioritized(visibleHTML{}, 100),
		),
	),
)

// Render returns src as sanitized HTML. It fails with EINVALID for input
// longer than MaxBytes, not valid UTF-8, or that would cost far more than its
// size to format (see limits.go).
func Render(src string) (template.HTML, error) {
	out, err := renderUnsanitized(src)
	if err != nil {
		return "", err
	}
	return template.HTML(policy.SanitizeBytes(out)), nil
}

// renderUnsanitized is the first layer alone: goldmark with our tree pass.
func renderUnsanitized(src string) ([]byte, error) {
	source, doc, err := parse(src)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(source) * 2)
	if err := md.Renderer().Render(&buf, source, doc); err != nil {
		// Writing to a bytes.Buffer cannot fail; a renderer error is a bug.
		return nil, tocsin.Errorf(tocsin.EINTERNAL, "markdown: render: %v", err)
	}
	return buf.Bytes(), nil
}

// parse checks src against the limits and returns the transformed tree.
func parse(src string) ([]byte, ast.Node, error) {
	if len(src) > MaxBytes {
		return nil, nil, tocsin.Errorf(tocsin.EINVALID,
			"The text is too long: at most %d bytes are accepted.", MaxBytes).
			WithKey("markdown.too_long", MaxBytes)
	}
	if !utf8.ValidString(src) {
		return nil, nil, tocsin.Errorf(tocsin.EINVALID,
			"The text contains bytes that are not text (invalid UTF-8).").
			WithKey("markdown.not_utf8")
	}
	tooComplex := tocsin.Errorf(tocsin.EINVALID,
		"The text is too complex to format (a very wide table, a link repeated many times, or quotes and lists nested too deeply): simplify it.").
		WithKey("markdown.too_complex")
	if tooDeep(src) {
		return nil, nil, tooComplex
	}
	source := []byte(src)
	pc := parser.NewContext()
	doc := md.Parser().Parse(text.NewReader(source), parser.WithContext(pc))
	if overBudget(pc) {
		return nil, nil, tooComplex
	}
	return source, doc, nil
}
