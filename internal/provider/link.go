package provider

import (
	"net/http"
	"slices"
	"strings"
)

// Link is one link-value of an HTTP Link header (RFC 8288 §3).
type Link struct {
	// Target is the URI-Reference between < and >, unresolved.
	Target string
	// Rel holds the relation types, lower-cased (§3.3: they compare
	// case-insensitively; a rel value may list several, space-separated).
	Rel []string
	// Params are the other target attributes, names lower-cased, values
	// unquoted; the first occurrence of a name wins.
	Params map[string]string
}

// HasRel reports whether the link has the relation type rel.
func (l Link) HasRel(rel string) bool { return slices.Contains(l.Rel, strings.ToLower(rel)) }

// String formats the link as a link-value that ParseLinks reads back.
func (l Link) String() string {
	var b strings.Builder
	quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace
	b.WriteString("<" + l.Target + ">")
	if len(l.Rel) > 0 {
		b.WriteString(`; rel="` + quote(strings.Join(l.Rel, " ")) + `"`)
	}
	keys := make([]string, 0, len(l.Params))
	for k := range l.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("; " + k + `="` + quote(l.Params[k]) + `"`)
	}
	return b.String()
}

// NextLink is the target of the first rel="next" link in h's Link headers.
func NextLink(h http.Header) (string, bool) {
	for _, l := range ParseLinks(h.Values("Link")...) {
		if l.HasRel("next") {
			return l.Target, true
		}
	}
	return "", false
}

// ParseLinks reads Link header field values (RFC 8288 §3):
//
//	Link       = #link-value
//	link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//	link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//
// Commas inside <...> and quoted strings belong to them. A malformed
// link-value is skipped up to the next comma, so one bad link does not hide
// the others; a target with spaces, < or > is malformed.
func ParseLinks(values ...string) []Link {
	var out []Link
	for _, v := range values {
		p := linkParser{s: v}
		for {
			p.skip(" \t,")
			if p.done() {
				break
			}
			if l, ok := p.linkValue(); ok {
				out = append(out, l)
			} else {
				p.skipToComma()
			}
		}
	}
	return out
}

type linkParser struct {
	s string
	i int
}

func (p *linkParser) done() bool { return p.i >= len(p.s) }

func (p *linkParser) skip(set string) {
	for !p.done() && strings.IndexByte(set, p.s[p.i]) >= 0 {
		p.i++
	}
}

// skipToComma moves past the next comma outside a quoted string.
func (p *linkParser) skipToComma() {
	for !p.done() {
		switch p.s[p.i] {
		case '"':
			p.i++
			p.quoted()
			continue
		case ',':
			p.i++
			return
		}
		p.i++
	}
}

func (p *linkParser) linkValue() (Link, bool) {
	if p.s[p.i] != '<' {
		return Link{}, false
	}
	end := strings.IndexByte(p.s[p.i+1:], '>')
	if end < 0 {
		p.i = len(p.s)
		return Link{}, false
	}
	target := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	if strings.ContainsAny(target, "< \t\r\n") {
		return Link{}, false
	}
	l := Link{Target: target, Params: map[string]string{}}
	relSeen := false
	for {
		p.skip(" \t")
		if p.done() || p.s[p.i] == ',' {
			return l, true
		}
		if p.s[p.i] != ';' {
			return Link{}, false
		}
		p.i++
		p.skip(" \t")
		name := strings.ToLower(p.token())
		if name == "" {
			return Link{}, false
		}
		p.skip(" \t")
		value := ""
		if !p.done() && p.s[p.i] == '=' {
			p.i++
			p.skip(" \t")
			if !p.done() && p.s[p.i] == '"' {
				p.i++
				var ok bool
				if value, ok = p.quoted(); !ok {
					return Link{}, false
				}
			} else {
				value = p.token()
			}
		}
		// §3.3: occurrences of rel after the first are ignored; the same
		// rule is kept for the other parameters.
		if name == "rel" {
			if !relSeen {
				relSeen = true
				l.Rel = strings.Fields(strings.ToLower(value))
			}
		} else if _, dup := l.Params[name]; !dup {
			l.Params[name] = value
		}
	}
}

// token reads RFC 9110 §5.6.2 tchars.
func (p *linkParser) token() string {
	start := p.i
	for !p.done() && isTChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func isTChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// quoted reads the rest of a quoted-string whose opening quote is consumed
// (RFC 9110 §5.6.4), undoing backslash escapes.
func (p *linkParser) quoted() (string, bool) {
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			if p.done() {
				return "", false
			}
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}
