package markdown

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// policy admits exactly what the goldmark configuration in markdown.go
// produces, and nothing else: it is the second layer, not the first, so it
// has no reason to be generous.
var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"p", "br", "hr",
		"h3", "h4", "h5", "h6", // headings are demoted by two levels
		"ul", "li", "blockquote", "pre",
		"em", "strong", "del",
		"table", "thead", "tbody", "tr",
	)
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowElements("ol")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)).OnElements("code")
	p.AllowElements("code")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	p.AllowElements("th", "td")

	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	// Backstops: a link that reaches this layer without linkRel still gets
	// nofollow and noreferrer (which implies noopener).
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
}
