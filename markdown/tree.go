package markdown

import (
	"net/url"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkRel is set on every link. noopener is implied by noreferrer in current
// browsers and matters only with target=_blank, which we never set; it is
// there for older browsers and for readers of the HTML.
const linkRel = "nofollow noopener noreferrer"

// safeTree rewrites the parsed document before rendering: links with an
// unsafe or unparseable destination lose their link and keep their text,
// images become links, headings are demoted by two levels, every link gets
// linkRel, and the bytes links carry are charged to the budget.
type safeTree struct{}

func (safeTree) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	source := reader.Source()
	// Collect first: the tree must not change under ast.Walk.
	var nodes []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindHeading, ast.KindLink, ast.KindImage, ast.KindAutoLink:
			nodes = append(nodes, n)
		}
		return ast.WalkContinue, nil
	})
	// Charge first: checking thousands of copies of a 30 KB URL would itself
	// be the cost the budget is there to avoid.
	for _, n := range nodes {
		switch n := n.(type) {
		case *ast.Link:
			chargeLink(pc, len(n.Destination)+len(n.Title))
		case *ast.Image:
			chargeLink(pc, 2*len(n.Destination)+len(n.Title)) // the address may become the text
		case *ast.AutoLink:
			chargeLink(pc, len(n.URL(source))+len(n.Label(source))+len("mailto:"))
		}
	}
	if overBudget(pc) {
		return
	}
	for _, n := range nodes {
		switch n := n.(type) {
		case *ast.Heading:
			n.Level = min(n.Level+2, 6)
		case *ast.Link:
			if !safeURL(n.Destination) {
				unwrap(n)
				continue
			}
			n.SetAttributeString("rel", []byte(linkRel))
		case *ast.Image:
			if !safeURL(n.Destination) || insideLink(n) {
				unwrap(n)
				continue
			}
			link := ast.NewLink()
			link.Destination, link.Title = n.Destination, n.Title
			for c := n.FirstChild(); c != nil; {
				next := c.NextSibling()
				link.AppendChild(link, c)
				c = next
			}
			if !link.HasChildren() {
				// No alt text: the address itself is the link's text.
				s := ast.NewString(n.Destination)
				s.SetCode(true) // written escaped, without resolving entities
				link.AppendChild(link, s)
			}
			link.SetAttributeString("rel", []byte(linkRel))
			n.Parent().ReplaceChild(n.Parent(), n, link)
		case *ast.AutoLink:
			u := n.URL(source)
			if n.AutoLinkType == ast.AutoLinkEmail {
				u = append([]byte("mailto:"), u...)
			}
			if !safeURL(u) {
				s := ast.NewString(n.Label(source))
				s.SetCode(true)
				n.Parent().ReplaceChild(n.Parent(), n, s)
				continue
			}
			n.SetAttributeString("rel", []byte(linkRel))
		}
	}
}

// safeURL reports whether a link may point at dest: an absolute http, https
// or mailto URL, or a relative reference (path, query or fragment). It judges
// the URL the renderer will write, after goldmark resolves entities and
// backslash escapes ("&#106;avascript:" is "javascript:") and percent-encodes
// the rest. Anything net/url cannot parse is refused.
func safeURL(dest []byte) bool {
	p, err := url.Parse(strings.TrimSpace(string(util.URLEscape(dest, true))))
	if err != nil {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "", "http", "https", "mailto":
		return p.Opaque == "" || strings.EqualFold(p.Scheme, "mailto")
	}
	return false
}

// unwrap replaces n by its children.
func unwrap(n ast.Node) {
	parent := n.Parent()
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}

func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if p.Kind() == ast.KindLink {
			return true
		}
	}
	return false
}
