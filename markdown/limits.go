package markdown

import (
	"bytes"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// A 64 KiB source can still expand enormously, because two Markdown features
// copy bytes that appear once in the source:
//
//   - GFM pads every table row to the header's width, at parse time: a
//     10,000-column header followed by 12,000 one-character lines allocates
//     120 million cells (measured with goldmark 1.8.7: 21 GB allocated and
//     575 MB of HTML from 64 KiB);
//   - a reference definition's URL is copied into every use: "[a][r]"
//     repeated 5,000 times with a 30 KB URL gives 150 MB of HTML.
//
// Both are bounded here, well above what real text needs: a table whose
// cells all hold text cannot exceed maxTableCells, and a document whose links
// are all written out cannot exceed maxLinkBytes.
//
// goldmark's parser also takes time quadratic in the number of block quotes
// and list items one line opens (a line of 65,000 ">" took 2 s), so a line
// may open at most maxNesting of them.
const (
	maxTableCells = MaxBytes / 2
	maxLinkBytes  = 4 * MaxBytes
	maxNesting    = 100
)

var budgetKey = parser.NewContextKey()

type budget struct {
	cells     int
	linkBytes int
	over      bool
}

func budgetOf(pc parser.Context) *budget {
	return pc.ComputeIfAbsent(budgetKey, func() any { return &budget{} }).(*budget)
}

// overBudget reports whether the document parsed with pc exceeded a limit.
func overBudget(pc parser.Context) bool { return budgetOf(pc).over }

// boundedTables wraps goldmark's table paragraph transformer and counts, before
// it runs, how many cells the table would have: the delimiter row's columns
// times the rows (the header and those below the delimiter), which is what goldmark allocates
// once it pads short rows. Over the budget, the paragraph stays a paragraph
// and the whole document is refused.
type boundedTables struct{ inner parser.ParagraphTransformer }

func (b boundedTables) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	bud := budgetOf(pc)
	if bud.over {
		return
	}
	lines := node.Lines()
	source := reader.Source()
	worst := 0
	for i := 1; i < lines.Len(); i++ {
		seg := lines.At(i)
		if cols := delimiterColumns(seg.Value(source)); cols > 0 {
			worst = max(worst, cols*(lines.Len()-i)) // the header and the rows after i
		}
	}
	if bud.cells+worst > maxTableCells {
		bud.over = true
		return
	}
	bud.cells += worst
	b.inner.Transform(node, reader, pc)
}

// delimiterColumns returns the number of columns of a GFM delimiter row
// ("| --- | :-: |"), 0 when line is not one. It is at least as permissive as
// goldmark's own test, so that the count is an upper bound.
func delimiterColumns(line []byte) int {
	dash := false
	for _, c := range line {
		switch c {
		case '-':
			dash = true
		case '|', ':', ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			return 0
		}
	}
	if !dash {
		return 0
	}
	cols := bytes.Split(line, []byte{'|'})
	if len(cols) > 0 && len(bytes.TrimSpace(cols[0])) == 0 {
		cols = cols[1:]
	}
	if len(cols) > 0 && len(bytes.TrimSpace(cols[len(cols)-1])) == 0 {
		cols = cols[:len(cols)-1]
	}
	return max(len(cols), 1)
}

// chargeLink counts n bytes of link destinations, titles and labels that the
// HTML will carry.
func chargeLink(pc parser.Context, n int) {
	bud := budgetOf(pc)
	bud.linkBytes += n
	if bud.linkBytes > maxLinkBytes {
		bud.over = true
	}
}

// tooDeep reports whether a line of src opens more than maxNesting block
// quotes and list items. It counts the markers at the start of each line
// (">", "-", "*", "+", "1." or "1)" followed by a space), which is an upper
// bound on what the line opens.
func tooDeep(src string) bool {
	for line := range strings.Lines(src) {
		if lineNesting(line) > maxNesting {
			return true
		}
	}
	return false
}

func lineNesting(line string) int {
	depth := 0
	for i := 0; i < len(line) && depth <= maxNesting; {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '>':
			depth++
			i++
		case c == '-' || c == '*' || c == '+':
			if !spaceAt(line, i+1) {
				return depth
			}
			depth++
			i += 2
		case c >= '0' && c <= '9':
			j := i
			for j < len(line) && j-i < 9 && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j >= len(line) || line[j] != '.' && line[j] != ')' || !spaceAt(line, j+1) {
				return depth
			}
			depth++
			i = j + 2
		default:
			return depth
		}
	}
	return depth
}

// spaceAt reports whether line has white space or its end at i.
func spaceAt(line string, i int) bool {
	return i >= len(line) || strings.IndexByte(" \t\r\n", line[i]) >= 0
}
