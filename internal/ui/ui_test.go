package ui

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
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

// hostile is text an IdP or a token could carry: a window title (OSC 0), a
// clipboard write (OSC 52), a cursor move and line erase, a C1 CSI, a bidi
// override, a bare carriage return and an invalid byte.
const hostile = "alice\x1b]0;pwned\x07\x1b]52;c;Y3VybCBldmlsfHNo\x07\x1b[2A\x1b[2K\u009b31m\u202eevil\rX\xff"

func TestHostileTextIsShownEscapedByEveryRenderFunction(t *testing.T) {
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		p := New(&b, color)
		p.Printf("user %s\n", hostile)
		p.Println("user", hostile)
		p.Println(p.Success(hostile))
		p.KeyValues([]Pair{{Key: "sub", Value: hostile}, {Key: hostile, Value: "v"}})
		p.Table([]string{"USER", "STATE"}, [][]string{{hostile, p.Warning("ok")}})
		out := b.String()
		for _, bad := range []string{"\x1b]", "\x07", "\x1b[2A", "\x1b[2K", "\u009b", "\u202e", "\r", "\xff"} {
			if strings.Contains(out, bad) {
				t.Errorf("colour %v: %q reached the terminal:\n%q", color, bad, out)
			}
		}
		if !strings.Contains(out, `alice\x1b]0;pwned\x07`) || !strings.Contains(out, `\u202eevil\x0dX\xff`) {
			t.Errorf("colour %v: the escaped text should stay readable:\n%q", color, out)
		}
		if color && !strings.Contains(out, p.Success("")[:4]) {
			t.Errorf("the Printer's own colours should survive:\n%q", out)
		}
	}
}

func TestAValueCannotForgeALineOfItsOwn(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, false)
	p.KeyValues([]Pair{{Key: "sub", Value: "alice\n  verified  yes"}})
	p.Table([]string{"A"}, [][]string{{"x\ny"}})
	if n := strings.Count(b.String(), "\n"); n != 3 {
		t.Fatalf("want 3 lines, got %d:\n%s", n, b.String())
	}
}

func FuzzSanitizeLeavesNoControlCharacter(f *testing.F) {
	f.Add(hostile)
	f.Add("plain text\twith a tab")
	f.Add("\xe2\x80")
	f.Fuzz(func(t *testing.T, s string) {
		out := SanitizeLine(s)
		for _, r := range out {
			if (r < 0x20 && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("%q kept %U", out, r)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("%q is not valid UTF-8", out)
		}
		if isClean(s, false) && out != s {
			t.Fatalf("clean text changed: %q -> %q", s, out)
		}
	})
}
