// Package audit keeps the record of admin actions: one JSON line per action
// in <XDG state dir>/audit.log, appended and never rewritten, so that after
// an offboarding run anyone can tell what was done to whom, when, by which
// profile, and what the IdP answered.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/idpctl/idpctl/internal/atomicfile"
	"github.com/idpctl/idpctl/internal/redact"
	"github.com/idpctl/idpctl/internal/xdg"
)

// Actions recorded.
const (
	ActionRevokeUser = "revoke_user"
	ActionSetExpiry  = "set_expiry"
	ActionRotateKey  = "rotate_key"
)

// Actions lists them for flag validation and completion.
var Actions = []string{ActionRevokeUser, ActionSetExpiry, ActionRotateKey}

// FileName is the log's name inside the state directory.
const FileName = "audit.log"

// Entry is one admin action.
type Entry struct {
	// Time is when the action finished, written in RFC 3339 UTC.
	Time time.Time `json:"time"`
	// Profile is the operator's profile; Operator the local account.
	Profile   string `json:"profile"`
	Operator  string `json:"operator,omitempty"`
	Provider  string `json:"provider"`
	Action    string `json:"action"`
	User      string `json:"user,omitempty"`
	Client    string `json:"client,omitempty"`
	App       string `json:"app,omitempty"`
	Result    string `json:"result"`
	RequestID string `json:"request_id,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// Log appends entries to one file. A Log is safe for concurrent use by
// goroutines; separate processes serialise on an advisory lock beside the
// file, so lines never interleave.
type Log struct {
	Path string
	// Operator is stamped on entries that carry none.
	Operator string
	Now      func() time.Time

	mu sync.Mutex
}

// Open returns the log under the state directory.
func Open() (*Log, error) {
	dir, err := xdg.StateDir()
	if err != nil {
		return nil, err
	}
	return &Log{Path: filepath.Join(dir, FileName), Now: time.Now, Operator: operator()}, nil
}

// lockRetry is how often a waiting writer tries the lock again; a line is
// written in microseconds, so waits are short.
const lockRetry = 5 * time.Millisecond

// Check makes sure the log can be written, before any action is taken: an
// admin action that could not be recorded should not be started.
func (l *Log) Check() error {
	f, err := l.open()
	if err != nil {
		return err
	}
	return f.Close()
}

func (l *Log) open() (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the audit log directory: %w", err)
	}
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|atomicfile.NoFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the audit log: %w", err)
	}
	return f, nil
}

// Append writes one entry as one line. Free text is redacted: vendor
// messages can quote tokens, and the log outlives the run.
func (l *Log) Append(e Entry) error {
	if e.Time.IsZero() {
		now := time.Now
		if l.Now != nil {
			now = l.Now
		}
		e.Time = now()
	}
	e.Time = e.Time.UTC().Truncate(time.Second)
	if e.Operator == "" {
		e.Operator = l.Operator
	}
	for _, s := range []*string{&e.Profile, &e.Operator, &e.Provider, &e.User, &e.Client, &e.App, &e.Result, &e.RequestID, &e.Detail} {
		*s = redact.Text(*s)
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding the audit entry: %w", err)
	}
	line = append(line, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.open()
	if err != nil {
		return err
	}
	defer f.Close()
	// O_APPEND makes each write land at the end; the lock keeps another
	// process's line from landing inside ours on file systems (NFS,
	// Windows) where appends are not atomic.
	lk := flock.New(l.Path+".lock", flock.SetPermissions(0o600), flock.SetFlag(os.O_CREATE|os.O_RDWR|atomicfile.NoFollow))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := lk.TryLockContext(ctx, lockRetry)
	if err != nil {
		return fmt.Errorf("locking the audit log: %w", err)
	}
	if !ok {
		return errors.New("locking the audit log: another process holds it")
	}
	defer lk.Unlock()
	// A line torn by a crash or a full disk has no newline; ours must not
	// be glued to it, or the reader loses both.
	if torn, err := endsTorn(l.Path); err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	} else if torn {
		line = append([]byte{'\n'}, line...)
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	return nil
}

// endsTorn reports whether the file is non-empty and its last byte is not
// a newline. The caller holds the lock.
func endsTorn(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false, err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], st.Size()-1); err != nil {
		return false, err
	}
	return b[0] != '\n', nil
}

// Filter selects entries; zero fields select all.
type Filter struct {
	Since  time.Time
	Action string
	// User and Result match exactly.
	User   string
	Result string
}

// maxLine bounds one entry: entries are a few hundred bytes, and a longer
// line is damage (or a file that is not the log), skipped like any other
// unreadable line rather than ending the read.
const maxLine = 256 << 10

// Read returns the entries matching the filter, oldest first. A line that
// is not JSON (a torn last line after a crash, a hand edit) is skipped and
// counted in bad rather than hiding every other entry.
func Read(path string, f Filter) (entries []Entry, bad int, err error) {
	file, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("opening the audit log: %w", err)
	}
	defer file.Close()
	return read(file, f)
}

func read(r io.Reader, f Filter) ([]Entry, int, error) {
	var entries []Entry
	bad := 0
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		raw, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return entries, bad, fmt.Errorf("reading the audit log: %w", err)
		}
		line := bytes.TrimSpace(raw)
		switch {
		case tooLong:
			bad++
		case len(line) == 0:
		default:
			var e Entry
			if jerr := json.Unmarshal(line, &e); jerr != nil || e.Action == "" {
				bad++
			} else if f.match(e) {
				entries = append(entries, e)
			}
		}
		if errors.Is(err, io.EOF) {
			return entries, bad, nil
		}
	}
}

func (f Filter) match(e Entry) bool {
	return (f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.User == "" || e.User == f.User) &&
		(f.Result == "" || e.Result == f.Result)
}

// readLine reads one line without its newline. A line over maxLine is
// consumed to its end and reported as tooLong, without being kept.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > maxLine {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, tooLong, err
	}
}
