package ui

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlainOutputHasNoEscapeCodesAndAlignsColumns(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, false)
	p.Table([]string{"PROFILE", "EXPIRES"}, [][]string{{"a", "in 5m"}, {"longer-name", "expired"}})
	out := b.String()
	if strings.Contains(out, "\x1b[") {
		t.Fatalf("escape codes in plain output: %q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || strings.Index(lines[0], "EXPIRES") != strings.Index(lines[2], "expired") {
		t.Fatalf("columns not aligned:\n%s", out)
	}
	if p.Success("ok") != "ok" {
		t.Fatal("plain styles must not decorate")
	}
}

func TestColourOutputStylesAndStillAligns(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, true)
	if !strings.Contains(p.Failure("bad"), "\x1b[") {
		t.Fatal("colour styles should emit escape codes")
	}
	p.Table([]string{"A", "B"}, [][]string{{"x", "y"}, {"xxxx", "z"}})
	if !strings.Contains(b.String(), "xxxx  z") {
		t.Fatalf("table:\n%q", b.String())
	}
}
