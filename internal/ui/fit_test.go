package ui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/idpctl/idpctl/internal/iostreams"
)

// auditLike is an `idpctl audit` table as a real log fills it: a long
// target, a request ID and a sentence of detail.
func auditLike() ([]string, [][]string) {
	headers := []string{"TIME", "PROFILE", "PROVIDER", "ACTION", "TARGET", "RESULT", "REQUEST ID", "DETAIL"}
	rows := [][]string{
		{"2026-12-03 08:00:25", "okta-prod", "okta", "token.revoke", "user alice@example.com, client 0oa1b2c3d4e5f6g7h8i9", "ok", "XkZ2mA9q7Yb3cD4eF5gH6iJ7", "revoked 3 grants and 2 refresh tokens; sessions kept"},
		{"2026-12-03 08:01:02", "kc", "keycloak", "key.regen", "realm corp", "failed", "-", "the server answered 409 Conflict: another rotation is running"},
	}
	return headers, rows
}

func render(t *testing.T, width int, color bool, headers []string, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	New(&b, color).WithWidth(width).Table(headers, rows)
	return b.String()
}

func TestTablesFitTheTerminalWidthAndKeepEveryWord(t *testing.T) {
	headers, rows := auditLike()
	for _, width := range []int{80, 120} {
		for _, color := range []bool{false, true} {
			out := render(t, width, color, headers, rows)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > width {
					t.Errorf("width %d colour %v: a line is %d cells wide:\n%s", width, color, w, out)
				}
				if strings.HasSuffix(l, " ") {
					t.Errorf("width %d: trailing blanks in %q", width, l)
				}
			}
			plain := ansi.Strip(out)
			// The header is one line, whole.
			for _, h := range headers {
				if !strings.Contains(strings.Split(plain, "\n")[0], h) {
					t.Errorf("width %d: header %q is not whole on the first line:\n%s", width, h, plain)
				}
			}
			// Each column starts where its header does, on every line, and
			// wrapping loses nothing: read down a column, its fragments
			// spell its cells in order.
			starts := columnStarts(strings.Split(plain, "\n")[0], headers)
			for i, h := range headers {
				var got, want strings.Builder
				want.WriteString(h)
				for _, r := range rows {
					want.WriteString(r[i])
				}
				for _, l := range strings.Split(strings.TrimSuffix(plain, "\n"), "\n") {
					from, to := starts[i], len(l)
					if i+1 < len(starts) {
						to = min(to, starts[i+1])
					}
					if from >= len(l) {
						continue
					}
					if from > 0 && l[from-1] != ' ' {
						t.Errorf("width %d: column %s is not aligned in %q", width, h, l)
					}
					got.WriteString(l[from:to])
				}
				squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
				if squeeze(got.String()) != squeeze(want.String()) {
					t.Errorf("width %d colour %v: column %s reads %q, want %q:\n%s", width, color, h, squeeze(got.String()), squeeze(want.String()), plain)
				}
			}
		}
	}
}

func columnStarts(header string, headers []string) []int {
	var starts []int
	from := 0
	for _, h := range headers {
		i := strings.Index(header[from:], h) + from
		starts = append(starts, i)
		from = i + len(h)
	}
	return starts
}

func TestTablesWithoutAWidthOrThatFitAreUnchanged(t *testing.T) {
	headers, rows := auditLike()
	var want bytes.Buffer
	New(&want, false).Table(headers, rows)
	if got := render(t, 0, false, headers, rows); got != want.String() {
		t.Errorf("no width (piped output) changed the table:\n%s\nwant\n%s", got, want.String())
	}
	if got := render(t, 400, false, headers, rows); got != want.String() {
		t.Errorf("a table that fits was changed:\n%s\nwant\n%s", got, want.String())
	}
	for _, l := range strings.Split(want.String(), "\n") {
		if len(l) > 120 {
			return // the fixture really is too wide for 120 columns
		}
	}
	t.Fatal("the fixture fits in 120 columns; it tests nothing")
}

func TestForStdoutTakesTheWidthFromColumns(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetColumns(80)
	headers, rows := auditLike()
	ForStdout(ios).Table(headers, rows)
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if len(l) > 80 {
			t.Fatalf("ForStdout ignored the width: %d cells in %q", len(l), l)
		}
	}
}
