package ui

import (
	"bytes"
	"strings"
	"testing"
)

func TestRevocationLinesNameEachTokenAndWhatA200Means(t *testing.T) {
	var b bytes.Buffer
	New(&b, false).Revocations([]Revocation{
		{Kind: "refresh_token", Result: "revoked"},
		{Kind: "access_token", Result: "not revocable", Note: "it stays valid until it expires"},
	})
	want := "refresh token: revoked\n" +
		"access token: not revocable (it stays valid until it expires)\n" +
		"The IdP answers 200 for unknown or already invalid tokens too (RFC 7009 §2.2).\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestOnlyARevokedTokenIsShownAsASuccess(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, true)
	p.Revocations([]Revocation{{Kind: "access_token", Result: "not revocable"}, {Kind: "refresh_token", Result: "revoked"}})
	if !strings.Contains(b.String(), p.Warning("not revocable")) || !strings.Contains(b.String(), p.Success("revoked")) {
		t.Fatalf("status words not styled as warning and success:\n%q", b.String())
	}
}
