package offboard

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/idpctl/idpctl/internal/errs"
)

// DefaultColumns are the CSV header names tried, left to right in the
// file, when no --column is given: what HR exports and IdP user exports
// usually call the identifier.
var DefaultColumns = []string{"user", "user_id", "username", "email", "id"}

// maxUserLen bounds one identifier; longer is a wrong column or a binary file.
const maxUserLen = 512

// UserList is the users read from an input file.
type UserList struct {
	// Users are the identifiers, deduplicated, in file order.
	Users []string
	// Duplicates counts lines dropped because the user came earlier.
	Duplicates int
	// Problems are lines that could not be read; their users are not run.
	Problems []Problem
	// Column is the CSV column used, or "" for a plain list.
	Column string
}

// Problem is one unreadable line.
type Problem struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// ParseUsers reads a users file: one identifier per line, with blank lines
// and lines starting with # ignored; or a CSV file with a header row, from
// which column (case-insensitive) is read, by default the first column
// named one of DefaultColumns. A file is taken as CSV when column is set,
// when its first line holds a comma, or when its first line is exactly one
// of the default column names (a one-column export). A UTF-8 byte order
// mark, as spreadsheet programs write, is ignored. Matching of duplicates
// is exact: identifiers are case-sensitive at some IdPs.
func ParseUsers(data []byte, column string) (*UserList, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, errs.New(errs.KindUsage, "the users file is not UTF-8 text; export it as UTF-8 (CSV UTF-8 in spreadsheet programs)")
	}
	first := firstLine(data)
	isCSV := column != "" || strings.Contains(first, ",") || isDefaultColumn(first)
	l := &UserList{}
	var err error
	if isCSV {
		err = l.readCSV(data, column)
	} else {
		l.readLines(data)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func firstLine(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return ""
}

func isDefaultColumn(s string) bool {
	s = strings.ToLower(strings.Trim(strings.TrimSpace(s), `"`))
	for _, c := range DefaultColumns {
		if s == c {
			return true
		}
	}
	return false
}

func (l *UserList) readLines(data []byte) {
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if reason := badUser(line); reason != "" {
			l.Problems = append(l.Problems, Problem{Line: i + 1, Reason: reason + "; put one user per line"})
			continue
		}
		l.add(line, seen)
	}
}

func (l *UserList) add(u string, seen map[string]bool) {
	if seen[u] {
		l.Duplicates++
		return
	}
	seen[u] = true
	l.Users = append(l.Users, u)
}

func (l *UserList) readCSV(data []byte, column string) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return csvError(pe)
	}
	if err != nil {
		return errs.New(errs.KindUsage, "reading the header of the users file: %w", err)
	}
	idx := -1
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if column != "" {
			if h == strings.ToLower(strings.TrimSpace(column)) {
				idx = i
				break
			}
		} else if isDefaultColumn(h) {
			idx = i
			break
		}
	}
	if idx < 0 {
		names := make([]string, len(header))
		for i, h := range header {
			names[i] = fmt.Sprintf("%q", strings.TrimSpace(h))
		}
		if column != "" {
			return errs.New(errs.KindUsage, "the users file has no column %q; its header has %s", column, strings.Join(names, ", "))
		}
		return errs.New(errs.KindUsage, "the users file has no column named %s; its header has %s: pick one with --column", strings.Join(DefaultColumns, ", "), strings.Join(names, ", "))
	}
	l.Column = strings.TrimSpace(header[idx])
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// Refuse the whole file: after a broken quote the reader cannot
			// tell where records end (a quote that never closes swallows
			// every later line into one field), so going on would run an
			// unknown number of users fewer than the file names.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return csvError(pe)
			}
			return errs.New(errs.KindUsage, "reading the users file: %w", err)
		}
		line, _ := r.FieldPos(0)
		if idx >= len(rec) || strings.TrimSpace(rec[idx]) == "" {
			l.Problems = append(l.Problems, Problem{Line: line, Reason: fmt.Sprintf("no value in column %q", l.Column)})
			continue
		}
		u := strings.TrimSpace(rec[idx])
		if reason := badUser(u); reason != "" {
			l.Problems = append(l.Problems, Problem{Line: line, Reason: fmt.Sprintf("column %q %s", l.Column, reason)})
			continue
		}
		l.add(u, seen)
	}
}

// csvError refuses a users file that is not valid CSV, naming the record
// where reading failed.
func csvError(pe *csv.ParseError) error {
	if errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line {
		return errs.New(errs.KindUsage, "the users file is not valid CSV: the quote opened in the record at line %d never closes (reading reached line %d); nothing was run: fix the quoting and run again", pe.StartLine, pe.Line)
	}
	return errs.New(errs.KindUsage, "the users file is not valid CSV: record at line %d: %v; nothing was run: fix the line and run again", pe.StartLine, pe.Err)
}

// CheckUser says why s cannot be a user identifier, or "". White space
// inside is refused: no IdP's ids, logins or emails hold any, and a line
// "alice bob" is two users pasted on one line or a display-name column.
// So are control and invisible formatting characters (Unicode Cf: zero-
// width spaces and joiners, bidi overrides and isolates, soft hyphens):
// pasted from a chat or a spreadsheet they make an identifier that looks
// right, matches nobody, and prints as something else.
func CheckUser(s string) string {
	if len(s) > maxUserLen {
		return fmt.Sprintf("is longer than %d characters", maxUserLen)
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return "contains white space"
		case unicode.IsControl(r):
			return "contains control characters"
		case unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("contains the invisible formatting character U+%04X", r)
		}
	}
	return ""
}

func badUser(s string) string { return CheckUser(s) }
