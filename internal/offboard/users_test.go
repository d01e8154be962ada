package offboard

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestParseUsers(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		column   string
		users    []string
		dups     int
		problems []int // line numbers
		col      string
	}{
		{
			name:  "a plain list ignores blank and comment lines",
			in:    "# leavers March\nalice\n\n  bob  \r\n#carol\ndave\n",
			users: []string{"alice", "bob", "dave"},
		},
		{
			name:  "duplicates are run once, in first-seen order",
			in:    "bob\nalice\nbob\nalice\ncarol\n",
			users: []string{"bob", "alice", "carol"}, dups: 2,
		},
		{
			name:     "a line with two words is reported, not guessed",
			in:       "alice\nbob smith\ncarol\n",
			users:    []string{"alice", "carol"},
			problems: []int{2},
		},
		{
			name:  "a byte order mark is ignored",
			in:    "\ufeffalice\nbob\n",
			users: []string{"alice", "bob"},
		},
		{
			name:  "a CSV picks the first known column by default",
			in:    "name,email,department\nAlice A,alice@example.com,eng\nBob B,bob@example.com,ops\n",
			users: []string{"alice@example.com", "bob@example.com"}, col: "email",
		},
		{
			name:   "--column picks another column, case-insensitively",
			in:     "Email,Login\nalice@example.com,alice\nbob@example.com,bob\n",
			column: "login",
			users:  []string{"alice", "bob"}, col: "Login",
		},
		{
			name:  "a CSV from a spreadsheet with a BOM, CRLF, quotes and comments",
			in:    "\ufeffuser_id,note\r\n\"00u1\",\"left, 2026\"\r\n# reviewed\r\n00u2,x\r\n\r\n00u1,again\r\n",
			users: []string{"00u1", "00u2"}, dups: 1, col: "user_id",
		},
		{
			name:     "a CSV row without the column is reported with its line",
			in:       "email,name\nalice@example.com,A\n,B\nbob@example.com\ncarol x@example.com,C\n",
			users:    []string{"alice@example.com", "bob@example.com"},
			problems: []int{3, 5}, col: "email",
		},
		{
			name:  "a one-column export with a header is CSV",
			in:    "username\nalice\nbob\n",
			users: []string{"alice", "bob"}, col: "username",
		},
		{
			name:     "invisible formatting characters are reported",
			in:       "alice\nbob\u200b\n\u202ecarol\ndave\u00ad\nerin\n",
			users:    []string{"alice", "erin"},
			problems: []int{2, 3, 4},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseUsers([]byte(tc.in), tc.column)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Users, tc.users) {
				t.Errorf("users = %q, want %q", l.Users, tc.users)
			}
			if l.Duplicates != tc.dups {
				t.Errorf("duplicates = %d, want %d", l.Duplicates, tc.dups)
			}
			var lines []int
			for _, p := range l.Problems {
				lines = append(lines, p.Line)
			}
			if !reflect.DeepEqual(lines, tc.problems) {
				t.Errorf("problem lines = %v, want %v (%v)", lines, tc.problems, l.Problems)
			}
			if l.Column != tc.col {
				t.Errorf("column = %q, want %q", l.Column, tc.col)
			}
		})
	}
}

func TestParseUsersRefusesACSVWithoutAUsableColumn(t *testing.T) {
	_, err := ParseUsers([]byte("name,department\nAlice,eng\n"), "")
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "--column") || !strings.Contains(err.Error(), `"department"`) {
		t.Fatalf("err = %v", err)
	}
	_, err = ParseUsers([]byte("email,name\na@b,A\n"), "login")
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), `no column "login"`) {
		t.Fatalf("err = %v", err)
	}
	_, err = ParseUsers([]byte("\xff\xfea\x00l\x00"), "")
	if errs.KindOf(err) != errs.KindUsage {
		t.Fatalf("UTF-16 input: %v", err)
	}
}

func TestACSVQuoteThatNeverClosesRefusesTheWholeFile(t *testing.T) {
	// 52 users; the quote opened at line 3 swallows the 51 after it.
	var b strings.Builder
	b.WriteString("email,name\nalice@example.com,A\n\"bob@example.com,B\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "user%02d@example.com,U\n", i)
	}
	l, err := ParseUsers([]byte(b.String()), "")
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "line 3 never closes") || l != nil {
		t.Fatalf("list %+v, err %v; want the file refused naming line 3", l, err)
	}
	_, err = ParseUsers([]byte("email\nalice@example.com\nbo\"b@example.com\ncarol@example.com\n"), "")
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "record at line 3") {
		t.Fatalf("a bare quote: %v", err)
	}
}

func FuzzParseUsers(f *testing.F) {
	f.Add([]byte("alice\nbob\n"), "")
	f.Add([]byte("email,name\na@b,A\n"), "")
	f.Add([]byte("\ufeffuser_id\r\n\"x\"\r\n"), "user_id")
	f.Fuzz(func(t *testing.T, data []byte, column string) {
		l, err := ParseUsers(data, column)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, u := range l.Users {
			if u == "" || seen[u] || badUser(u) != "" {
				t.Fatalf("bad user %q in %q", u, l.Users)
			}
			seen[u] = true
		}
	})
}
