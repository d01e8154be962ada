package oraclefake

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The subset of RFC 7644 §3.4.2.2 filters the fake understands: attrPath
// eq value, joined by "and" (binding tighter) and "or", with parentheses.
// Values are JSON strings, true, false or numbers.

type expr interface {
	eval(m map[string]any, attrs searchable) bool
	// attrs returns the first attribute that is not searchable, or "".
	attrs(allowed searchable) string
}

type cmp struct {
	path  string
	value any
}

type logic struct {
	and         bool
	left, right expr
}

func (c cmp) attrs(allowed searchable) string {
	if _, ok := allowed[c.path]; !ok {
		return c.path
	}
	return ""
}

func (c cmp) eval(m map[string]any, attrs searchable) bool {
	var cur any = m
	for _, part := range strings.Split(c.path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		cur = obj[part]
	}
	switch want := c.value.(type) {
	case string:
		got, ok := cur.(string)
		if !ok {
			return false
		}
		if attrs[c.path] {
			return got == want
		}
		return strings.EqualFold(got, want)
	default:
		return cur == want
	}
}

func (l logic) attrs(allowed searchable) string {
	if a := l.left.attrs(allowed); a != "" {
		return a
	}
	return l.right.attrs(allowed)
}

func (l logic) eval(m map[string]any, attrs searchable) bool {
	if l.and {
		return l.left.eval(m, attrs) && l.right.eval(m, attrs)
	}
	return l.left.eval(m, attrs) || l.right.eval(m, attrs)
}

type filterParser struct {
	toks []string
	pos  int
}

func parseFilter(s string) (expr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, nil
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *filterParser) or() (expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = logic{left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) and() (expr, error) {
	left, err := p.factor()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.next()
		right, err := p.factor()
		if err != nil {
			return nil, err
		}
		left = logic{and: true, left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) factor() (expr, error) {
	if p.peek() == "(" {
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return e, nil
	}
	path := p.next()
	if path == "" || path == ")" || strings.HasPrefix(path, `"`) {
		return nil, fmt.Errorf("expected an attribute, got %q", path)
	}
	if op := p.next(); !strings.EqualFold(op, "eq") {
		return nil, fmt.Errorf("operator %q is not supported by this fake", op)
	}
	raw := p.next()
	if raw == "" {
		return nil, errors.New("missing value")
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, fmt.Errorf("value %s is not a JSON string, boolean or number", raw)
	}
	return cmp{path: path, value: v}, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\\' {
					j++
					continue
				}
				if s[j] == '"' {
					break
				}
			}
			if j >= len(s) {
				return nil, errors.New("unterminated string")
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}
