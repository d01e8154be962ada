package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sanitize makes text from outside (an IdP's answer, a token's unverified
// claims, a user list) safe to print on a terminal: control characters,
// escape sequences, bidirectional overrides and invalid UTF-8 are shown as
// visible \xNN or \uNNNN escapes instead of being interpreted. A hostile
// value could otherwise retitle the window, write the clipboard (OSC 52),
// move the cursor to overwrite earlier lines, or hide text. Newlines and
// tabs are kept.
func Sanitize(s string) string { return sanitize(s, nil, true) }

// SanitizeLine is Sanitize for text that must stay on one line, such as a
// table cell or a value: newlines are escaped too, so that a value cannot
// forge lines of its own.
func SanitizeLine(s string) string { return sanitize(s, nil, false) }

func sanitize(s string, allowed []string, keepNewline bool) string {
	if isClean(s, keepNewline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			if seq := allowedAt(s[i:], allowed); seq != "" {
				b.WriteString(seq)
				i += len(seq)
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' || (r == '\n' && keepNewline):
			b.WriteRune(r)
		case unsafeRune(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean is the fast path: most text has nothing to escape.
func isClean(s string, keepNewline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return false
		}
		if c < 0x20 || c == 0x7f {
			if c == '\t' || (c == '\n' && keepNewline) {
				continue
			}
			return false
		}
	}
	return true
}

func allowedAt(s string, allowed []string) string {
	for _, seq := range allowed {
		if strings.HasPrefix(s, seq) {
			return seq
		}
	}
	return ""
}

// unsafeRune is a C0 or C1 control, DEL, or a bidirectional formatting
// character (Unicode TR9: embeddings, overrides, isolates, marks), which
// can make a terminal show text in another order than it was written.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}
