package markdown

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// allowedAttrs is every element Render may produce, with the attributes each
// may carry. It is written independently of policy.go on purpose.
var allowedAttrs = map[string][]string{
	"p": nil, "br": nil, "hr": nil,
	"h3": nil, "h4": nil, "h5": nil, "h6": nil,
	"ul": nil, "ol": {"start"}, "li": nil, "blockquote": nil,
	"pre": nil, "code": {"class"},
	"em": nil, "strong": nil, "del": nil,
	"table": nil, "thead": nil, "tbody": nil, "tr": nil,
	"th": {"align"}, "td": {"align"},
	"a": {"href", "title", "rel"},
}

// checkDOM parses out as a browser would (an HTML fragment in <body>) and
// walks every node, returning what is wrong with it: an element or attribute
// outside the allowed set, an event handler, a style, a comment, a link
// without the rel we promise, or a URL whose scheme is not http, https or
// mailto.
func checkDOM(out string) error { return checkDOMRel(out, true) }

// checkDOMRel is checkDOM; with strictRel false it accepts any rel that has
// nofollow and noreferrer (what bluemonday adds on its own).
func checkDOMRel(out string, strictRel bool) error {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(out), body)
	if err != nil {
		return fmt.Errorf("parse: %v", err)
	}
	var problems []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.ElementNode:
			problems = append(problems, checkElement(n, strictRel)...)
		case html.TextNode:
		default:
			problems = append(problems, fmt.Sprintf("node of type %d (%q)", n.Type, n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func checkElement(n *html.Node, strictRel bool) []string {
	var problems []string
	allowed, ok := allowedAttrs[n.Data]
	if !ok || n.Namespace != "" {
		problems = append(problems, fmt.Sprintf("element <%s> (namespace %q)", n.Data, n.Namespace))
	}
	hasHref := false
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		switch {
		case strings.HasPrefix(key, "on"):
			problems = append(problems, fmt.Sprintf("event handler %s=%q on <%s>", a.Key, a.Val, n.Data))
		case key == "style":
			problems = append(problems, fmt.Sprintf("style=%q on <%s>", a.Val, n.Data))
		case a.Namespace != "":
			problems = append(problems, fmt.Sprintf("namespaced attribute %s:%s", a.Namespace, a.Key))
		default:
			found := false
			for _, k := range allowed {
				found = found || k == key
			}
			if !found {
				problems = append(problems, fmt.Sprintf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data))
			}
		}
		switch key {
		case "href", "src", "action", "formaction", "data", "background", "poster", "xlink:href":
			hasHref = hasHref || key == "href"
			if s := urlScheme(a.Val); s != "" && s != "http" && s != "https" && s != "mailto" {
				problems = append(problems, fmt.Sprintf("%s with scheme %q: %q", a.Key, s, a.Val))
			}
		case "rel":
			if !relOK(a.Val, strictRel) {
				problems = append(problems, fmt.Sprintf("rel=%q", a.Val))
			}
		}
	}
	if n.Data == "a" && hasHref {
		rel := ""
		for _, a := range n.Attr {
			if a.Key == "rel" {
				rel = a.Val
			}
		}
		if !relOK(rel, strictRel) {
			problems = append(problems, fmt.Sprintf("link without rel=%q", linkRel))
		}
	}
	return problems
}

// urlScheme returns the lower-cased scheme a browser would see in v (already
// entity-decoded by the parser): it strips leading and trailing C0 controls
// and spaces and removes tabs and newlines anywhere, as the URL standard
// does. "" means a relative reference.
func urlScheme(v string) string {
	v = strings.TrimFunc(v, func(r rune) bool { return r <= ' ' })
	v = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
	for i, r := range v {
		switch {
		case r == ':':
			if i == 0 {
				return ""
			}
			return strings.ToLower(v[:i])
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return ""
		}
	}
	return ""
}

// The checker must itself catch what it is meant to catch; otherwise every
// test built on it would pass vacuously.
func TestCheckDOMCatches(t *testing.T) {
	bad := []string{
		`<script>alert(1)</script>`,
		`<img src=x>`,
		`<p onclick="x">a</p>`,
		`<p style="color:red">a</p>`,
		`<a href="javascript:alert(1)" rel="nofollow noopener noreferrer">x</a>`,
		`<a href="  JaVa&#x09;Script:alert(1)" rel="nofollow noopener noreferrer">x</a>`,
		`<a href="&#106;avascript:alert(1)" rel="nofollow noopener noreferrer">x</a>`,
		`<a href="data:text/html,x" rel="nofollow noopener noreferrer">x</a>`,
		`<a href="http://example.org">no rel</a>`,
		`<p id="clobber">x</p>`,
		`<!-- raw HTML omitted -->`,
		`<svg><a href="http://x" rel="nofollow noopener noreferrer">x</a></svg>`,
		`<math><mi>x</mi></math>`,
		`<code class="x" onmouseover="y">c</code>`,
	}
	for _, h := range bad {
		t.Run(h, func(t *testing.T) {
			if checkDOM(h) == nil {
				t.Errorf("checkDOM accepted %q", h)
			}
		})
	}
	good := []string{
		`<p>x <a href="https://example.org/a?b#c" rel="nofollow noopener noreferrer">y</a></p>`,
		`<p><a href="/relative" rel="nofollow noopener noreferrer">y</a> <a href="#frag" rel="nofollow noopener noreferrer">z</a></p>`,
		`<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`,
		`<table><thead><tr><th align="left">a</th></tr></thead></table>`,
	}
	for _, h := range good {
		t.Run(h, func(t *testing.T) {
			if err := checkDOM(h); err != nil {
				t.Errorf("checkDOM refused %q: %v", h, err)
			}
		})
	}
}

func relOK(rel string, strict bool) bool {
	if strict {
		return rel == linkRel
	}
	f := strings.Fields(rel)
	return slices.Contains(f, "nofollow") && slices.Contains(f, "noreferrer")
}
