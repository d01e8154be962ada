package ui

import (
	"fmt"
	"strings"
)

// Revocation is the outcome of revoking one token at the IdP.
type Revocation struct {
	Kind   string // access_token, refresh_token, token
	Result string // "revoked", or what happened instead
	Note   string
}

// Revocations prints one line per revoked token, then what an RFC 7009
// answer does and does not prove, since a 200 is easy to over-read.
func (p *Printer) Revocations(rs []Revocation) {
	for _, r := range rs {
		word := p.Success(r.Result)
		if r.Result != "revoked" {
			word = p.Warning(r.Result)
		}
		line := fmt.Sprintf("%s: %s", strings.ReplaceAll(r.Kind, "_", " "), word)
		if r.Note != "" {
			line += " (" + r.Note + ")"
		}
		p.Println(line)
	}
	p.Println(p.Dim("The IdP answers 200 for unknown or already invalid tokens too (RFC 7009 §2.2)."))
}
