package credstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/idpctl/idpctl/internal/atomicfile"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gofrs/flock"

	"github.com/idpctl/idpctl/internal/errs"
)

// FileStoreName is the name of the file store's file in its directory.
const FileStoreName = "credentials.json"

const fileFormatVersion = 1

// fileDoc is the file store's stored format. Values are []byte, which
// encoding/json writes as base64, so any value survives the round trip.
type fileDoc struct {
	Version int               `json:"version"`
	Items   map[string][]byte `json:"items"`
}

// File is a Store in one JSON file, mode 0600, for machines without a usable
// keychain. It keeps secrets in plaintext, so it is only ever chosen
// explicitly, and it says so when it creates its file (and doctor says so
// every time). It does not say so on every call: twenty parallel CI jobs or
// a kubectl exec plugin would repeat the line until nobody reads it.
//
// Every change rewrites the whole file atomically (a temporary file in the
// same directory, fsync, rename), so a reader sees the old or the new file
// and never a partial one, and needs no lock. Writers, in this process and
// in others, serialise on an advisory lock of a sibling file, so each
// read-modify-write sees the previous one and no update is lost.
type File struct {
	dir   string
	path  string
	locks FileLocker
	// sem serialises this process's writers before they queue on the file
	// lock, so they wait on a channel (honouring ctx) rather than poll.
	sem chan struct{}
	// warn receives the plaintext warning when this store creates its
	// file; nil writes none.
	warn io.Writer
}

// NewFile opens the file store in dir, creating dir (0700) if needed. The
// store writes a one-line plaintext warning to warn (nil writes none) when
// it creates the credential file, and only then.
func NewFile(dir string, warn io.Writer) (*File, error) {
	if dir == "" {
		return nil, errs.New(errs.KindStore, "no directory for the file credential store: set XDG_STATE_HOME or HOME")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, dirError("creating the credential store directory", dir, err)
	}
	f := &File{
		dir:   dir,
		path:  filepath.Join(dir, FileStoreName),
		locks: FileLocker{Dir: dir},
		sem:   make(chan struct{}, 1),
		warn:  warn,
	}
	return f, nil
}

// PlaintextWarning is the sentence the file store says once, when it
// creates its file, and doctor says every time.
func (f *File) PlaintextWarning() string {
	return fmt.Sprintf("credentials are stored unencrypted in %s (file store, readable by your user); prefer the OS keychain where one is available", f.path)
}

func (f *File) Backend() string { return BackendFile }

// Path is the file holding the credentials.
func (f *File) Path() string { return f.path }

// Lock takes the cross-process refresh lock of the profile (see FileLocker).
func (f *File) Lock(ctx context.Context, profile string) (func(), error) {
	return f.locks.Lock(ctx, profile)
}

func (f *File) Get(ctx context.Context, profile string, kind Kind) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc, err := f.read()
	if err != nil {
		return nil, err
	}
	account := Account(profile, kind)
	v, ok := doc.Items[account]
	if !ok {
		return nil, fmt.Errorf("%s: %w", account, ErrNotFound)
	}
	return v, nil
}

func (f *File) Set(ctx context.Context, profile string, kind Kind, value []byte) error {
	return f.update(ctx, func(items map[string][]byte) bool {
		items[Account(profile, kind)] = append([]byte{}, value...)
		return true
	})
}

func (f *File) Delete(ctx context.Context, profile string, kind Kind) error {
	return f.update(ctx, func(items map[string][]byte) bool {
		account := Account(profile, kind)
		if _, ok := items[account]; !ok {
			return false
		}
		delete(items, account)
		return true
	})
}

// update runs one read-modify-write under the writers' lock. change reports
// whether it changed anything; if not, nothing is written.
func (f *File) update(ctx context.Context, change func(map[string][]byte) bool) error {
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return fmt.Errorf("waiting to write %s: %w", f.path, ctx.Err())
	}
	fl := flock.New(f.path+".lock", flock.SetPermissions(0o600), flock.SetFlag(lockFlags))
	ok, err := fl.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting to write %s: %w", f.path, err)
		}
		return dirError("locking the credential file", f.dir, err)
	}
	if !ok {
		return errs.New(errs.KindStore, "could not lock the credential file %s", f.path)
	}
	defer func() { _ = fl.Unlock() }()

	// Under the writers' lock, exactly one writer sees the file missing,
	// so parallel processes print the warning once between them.
	_, statErr := os.Lstat(f.path)
	creating := errors.Is(statErr, fs.ErrNotExist)
	doc, err := f.read()
	if err != nil {
		return err
	}
	if !change(doc.Items) {
		return nil
	}
	if err := f.write(doc); err != nil {
		return err
	}
	if creating && f.warn != nil {
		fmt.Fprintf(f.warn, "warning: %s\n", f.PlaintextWarning())
	}
	return nil
}

func (f *File) read() (fileDoc, error) {
	doc := fileDoc{Version: fileFormatVersion, Items: map[string][]byte{}}
	raw, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return doc, errs.New(errs.KindStore, "reading the credential file: %w", err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		// jsonErrorSummary: the file holds secrets, so the error must not
		// quote it.
		return doc, errs.New(errs.KindStore, "the credential file %s is unreadable (%s); move it aside and log in again", f.path, jsonErrorSummary(err))
	}
	if doc.Version != fileFormatVersion {
		return doc, errs.New(errs.KindStore, "the credential file %s has format version %d, which this version of idpctl does not know", f.path, doc.Version)
	}
	if doc.Items == nil {
		doc.Items = map[string][]byte{}
	}
	return doc, nil
}

// write replaces the file atomically: a reader, or a crash, sees the old
// file or the new one, and the secrets are never readable by others, not
// even briefly.
func (f *File) write(doc fileDoc) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.path, data, 0o600); err != nil {
		return dirError("writing the credential file", f.dir, err)
	}
	return nil
}

// dirError classifies a failure to write in a store's directory. A
// read-only directory is the common case (a read-only home in a container,
// a misconfigured XDG_STATE_HOME) and gets a sentence of its own.
func dirError(doing, dir string, err error) error {
	switch {
	case errors.Is(err, syscall.EROFS):
		return errs.New(errs.KindStore, "%s: %s is on a read-only file system; point XDG_STATE_HOME at a writable directory, or use --store keychain|memory: %w", doing, dir, err)
	case errors.Is(err, fs.ErrPermission):
		return errs.New(errs.KindStore, "%s: %s is read-only for this user; point XDG_STATE_HOME at a writable directory, or use --store keychain|memory: %w", doing, dir, err)
	default:
		return errs.New(errs.KindStore, "%s in %s: %w", doing, dir, err)
	}
}
