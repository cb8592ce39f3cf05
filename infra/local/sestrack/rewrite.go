package sestrack

import (
	"html"
	"net/url"
	"sort"
	"strings"
)

// trackedLink is one rewritten link: where it really goes and its ses:tags.
type trackedLink struct {
	url  string
	tags map[string][]string
}

// rewrite does to an HTML body what SES's click tracking does: every <a>
// with an http(s) href and without ses:no-track is tracked, its href
// replaced by click(i) for its index i (in document order, from 0), and the
// ses:tags attribute is removed from every anchor. It returns the new HTML
// and the tracked links by index. Everything else is copied byte for byte.
//
// It is a small scanner, not a full HTML parser: it knows tags, quoted and
// unquoted attributes, comments and the raw-text elements (script, style,
// title, textarea) whose content is not markup, which is all mail HTML has.
func rewrite(src string, click func(i int) string) (string, []trackedLink) {
	var (
		out    strings.Builder
		links  []trackedLink
		copied int // src[:copied] is written to out
		pos    int
	)
	for pos < len(src) {
		lt := strings.IndexByte(src[pos:], '<')
		if lt < 0 {
			break
		}
		lt += pos
		rest := src[lt:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				pos = len(src)
				continue
			}
			pos = lt + 4 + end + 3
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?") || strings.HasPrefix(rest, "</"):
			// Doctype, processing instruction or end tag.
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				pos = len(src)
				continue
			}
			pos = lt + end + 1
		case len(rest) > 1 && isLetter(rest[1]):
			name, attrs, end, ok := parseTag(rest)
			if !ok {
				// An unterminated tag: nothing after it is markup.
				pos = len(src)
				continue
			}
			pos = lt + end
			switch name {
			case "a":
				tag, link, tracked := rewriteAnchor(rest[:end], attrs, func() string { return click(len(links)) })
				if tag != rest[:end] {
					out.WriteString(src[copied:lt])
					out.WriteString(tag)
					copied = pos
				}
				if tracked {
					links = append(links, link)
				}
			case "script", "style", "title", "textarea":
				// Their content is text: skip to the end tag.
				if e := indexFold(src[pos:], "</"+name); e < 0 {
					pos = len(src)
				} else {
					pos += e
				}
			}
		default:
			pos = lt + 1 // a literal '<'
		}
	}
	if copied == 0 {
		return src, links
	}
	out.WriteString(src[copied:])
	return out.String(), links
}

// attr is one attribute of a start tag, by offsets into the tag.
type attr struct {
	name       string // lower case
	start, end int    // the whole attribute, from its name to the end of its value
	// valStart and valEnd span the value as written, quotes included; both
	// are -1 for an attribute without a value.
	valStart, valEnd int
	value            string // the value without quotes, still HTML-escaped
}

// parseTag reads the start tag at the beginning of s ("<name ...>") and
// returns its lower-case name, its attributes and the offset just after its
// '>'; ok is false if the tag never ends.
func parseTag(s string) (name string, attrs []attr, end int, ok bool) {
	i := 1
	for i < len(s) && !isSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	name = strings.ToLower(s[1:i])
	for {
		for i < len(s) && (isSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			return "", nil, 0, false
		}
		if s[i] == '>' {
			return name, attrs, i + 1, true
		}
		a := attr{start: i, valStart: -1, valEnd: -1}
		j := i + 1 // the first character may be anything, even '='
		for j < len(s) && !isSpace(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=' {
			j++
		}
		a.name = strings.ToLower(s[i:j])
		a.end = j
		k := j
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		if k < len(s) && s[k] == '=' {
			k++
			for k < len(s) && isSpace(s[k]) {
				k++
			}
			if k >= len(s) {
				return "", nil, 0, false
			}
			a.valStart = k
			if q := s[k]; q == '"' || q == '\'' {
				e := strings.IndexByte(s[k+1:], q)
				if e < 0 {
					return "", nil, 0, false
				}
				a.value = s[k+1 : k+1+e]
				k += e + 2
			} else {
				e := k
				for e < len(s) && !isSpace(s[e]) && s[e] != '>' {
					e++
				}
				a.value = s[k:e]
				k = e
			}
			a.valEnd, a.end = k, k
		}
		attrs = append(attrs, a)
		i = a.end
	}
}

// rewriteAnchor returns the anchor tag as SES sends it, and the tracked
// link if the anchor is tracked.
func rewriteAnchor(tag string, attrs []attr, click func() string) (string, trackedLink, bool) {
	var href, tags *attr
	noTrack := false
	for i := range attrs {
		switch attrs[i].name {
		case "href":
			if href == nil {
				href = &attrs[i]
			}
		case "ses:tags":
			if tags == nil {
				tags = &attrs[i]
			}
		case "ses:no-track":
			noTrack = true
		}
	}
	type edit struct {
		from, to int
		text     string
	}
	var edits []edit
	var link trackedLink
	tracked := false
	if href != nil && href.valStart >= 0 && !noTrack {
		if target := strings.TrimSpace(html.UnescapeString(href.value)); webURL(target) {
			tracked = true
			link.url = target
			edits = append(edits, edit{href.valStart, href.valEnd, `"` + html.EscapeString(click()) + `"`})
		}
	}
	if tags != nil {
		if tracked {
			link.tags = parseLinkTags(html.UnescapeString(tags.value))
		}
		from := tags.start
		for from > 0 && isSpace(tag[from-1]) {
			from--
		}
		edits = append(edits, edit{from, tags.end, ""})
	}
	if len(edits) == 0 {
		return tag, link, tracked
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].from < edits[j].from })
	var b strings.Builder
	at := 0
	for _, e := range edits {
		b.WriteString(tag[at:e.from])
		b.WriteString(e.text)
		at = e.to
	}
	b.WriteString(tag[at:])
	return b.String(), link, tracked
}

// webURL tells the links SES tracks: absolute http and https URLs.
func webURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return (scheme == "http" || scheme == "https") && u.Host != ""
}

// parseLinkTags reads ses:tags ("name1:value1;name2:value2;") into the
// shape of a Click event's linkTags: every value a one-element list.
func parseLinkTags(s string) map[string][]string {
	var tags map[string][]string
	for _, pair := range strings.Split(s, ";") {
		name, value, ok := strings.Cut(pair, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			continue
		}
		if tags == nil {
			tags = map[string][]string{}
		}
		tags[name] = []string{value}
	}
	return tags
}

// addPixel puts the open-tracking image at the end of the body, as SES does.
func addPixel(src, pixelURL string) string {
	img := `<img src="` + html.EscapeString(pixelURL) + `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`
	if i := lastIndexFold(src, "</body"); i >= 0 {
		return src[:i] + img + src[i:]
	}
	return src + img
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// indexFold and lastIndexFold find an ASCII needle regardless of case,
// with offsets into s (strings.ToLower could change the length of s).
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

func lastIndexFold(s, needle string) int {
	for i := len(s) - len(needle); i >= 0; i-- {
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}
