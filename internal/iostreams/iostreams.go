// Package iostreams carries stdin, stdout and stderr with what is known
// about them: whether each is a terminal, whether colour is wanted, whether
// the user may be prompted. Commands read these facts instead of probing.
package iostreams

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// IOStreams is the command's view of its terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	noColor               bool
	// NeverPrompt is set in tests and by --yes style flags to forbid prompts.
	NeverPrompt bool

	inFd  int
	outFd int
	// columns is $COLUMNS when it is a positive number; 0 otherwise.
	columns int
}

// System wraps the process's streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, inFd: int(os.Stdin.Fd()), outFd: int(os.Stdout.Fd())}
	s.columns = parseColumns(os.Getenv("COLUMNS"))
	s.inTTY = term.IsTerminal(int(os.Stdin.Fd()))
	s.outTTY = term.IsTerminal(int(os.Stdout.Fd()))
	s.errTTY = term.IsTerminal(int(os.Stderr.Fd()))
	// https://no-color.org: any non-empty value disables colour.
	s.noColor = os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb"
	return s
}

// Test returns streams over buffers, none of them a terminal.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, noColor: true, inFd: -1, outFd: -1}, in, out, errOut
}

// SetColumns sets the terminal width, as COLUMNS does, for tests of
// rendering at a given width; 0 means unknown.
func (s *IOStreams) SetColumns(n int) { s.columns = max(n, 0) }

// TerminalWidth is the width, in cells, that tables on stdout should fit:
// $COLUMNS when it is a positive number (so a script, a pager or a test
// can ask for a width), else the width of stdout when it is a terminal,
// else 0, meaning no limit: piped output is left as it is, whole lines
// for grep and awk.
func (s *IOStreams) TerminalWidth() int {
	if s.columns > 0 {
		return s.columns
	}
	if !s.outTTY || s.outFd < 0 {
		return 0
	}
	w, _, err := term.GetSize(s.outFd)
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

func parseColumns(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// SetTTY marks the streams as terminals, for tests of interactive paths.
func (s *IOStreams) SetTTY(in, out, errOut bool) { s.inTTY, s.outTTY, s.errTTY = in, out, errOut }

func (s *IOStreams) IsStdinTTY() bool  { return s.inTTY }
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// ColorEnabled is true when stdout is a terminal and NO_COLOR is unset.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && !s.noColor }

// ColorEnabledStderr is the same for stderr, where progress and notes go.
func (s *IOStreams) ColorEnabledStderr() bool { return s.errTTY && !s.noColor }

// CanPrompt is true when a person can answer: stdin and stderr are
// terminals and prompting was not forbidden.
func (s *IOStreams) CanPrompt() bool { return !s.NeverPrompt && s.inTTY && s.errTTY }

// ErrNoTTY is returned by prompts when nobody can answer.
var ErrNoTTY = errors.New("no terminal to ask on")

// Confirm asks a yes/no question on stderr; the default is no.
func (s *IOStreams) Confirm(question string) (bool, error) {
	if !s.CanPrompt() {
		return false, ErrNoTTY
	}
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && line == "" {
		return false, err
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}

// ReadSecret asks for a secret without echoing it.
func (s *IOStreams) ReadSecret(prompt string) (string, error) {
	if !s.CanPrompt() || s.inFd < 0 {
		return "", ErrNoTTY
	}
	fmt.Fprint(s.ErrOut, prompt)
	b, err := term.ReadPassword(s.inFd)
	fmt.Fprintln(s.ErrOut)
	if err != nil {
		return "", fmt.Errorf("reading the secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadAllIn reads stdin whole, for `-` arguments, up to limit bytes.
func (s *IOStreams) ReadAllIn(limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(s.In, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("standard input is larger than %d bytes", limit)
	}
	return b, nil
}
