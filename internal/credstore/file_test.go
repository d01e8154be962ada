package credstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestFileStoreRoundTripsItemsAndWarnsOnlyWhenItCreatesTheFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	var warn bytes.Buffer
	f, err := NewFile(dir, &warn)
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	if _, err := f.Get(ctx, "work", KindClientSecret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an empty store = %v, want ErrNotFound", err)
	}
	if warn.Len() != 0 {
		t.Fatalf("opening and reading warned before any file exists: %q", warn.String())
	}
	binary := []byte{0, 1, 2, 0xff, '\n', '"'}
	if err := f.Set(ctx, "work", KindClientSecret, binary); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := f.Set(ctx, "work", KindAccessToken, []byte(secretValue)); err != nil {
		t.Fatalf("Set: %v", err)
	}

	reopened, err := NewFile(dir, &warn)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reopened.Get(ctx, "work", KindClientSecret)
	if err != nil || !bytes.Equal(got, binary) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := reopened.Delete(ctx, "work", KindClientSecret); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := reopened.Get(ctx, "work", KindClientSecret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := reopened.Delete(ctx, "never", KindClientSecret); err != nil {
		t.Fatalf("Delete of an absent item = %v", err)
	}
	if got, _ := reopened.Get(ctx, "work", KindAccessToken); string(got) != secretValue {
		t.Fatalf("the other item was lost: %q", got)
	}

	// One line, from the Set that created the file: not one per open or
	// per write, which parallel jobs would repeat endlessly.
	lines := strings.Split(strings.TrimSuffix(warn.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one warning line, when the file was created, got %q", warn.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "unencrypted") || !strings.Contains(l, filepath.Join(dir, "credentials.json")) {
			t.Errorf("the warning does not say plaintext and where: %q", l)
		}
	}
	if !strings.Contains(f.PlaintextWarning(), filepath.Join(dir, "credentials.json")) {
		t.Errorf("PlaintextWarning does not say where: %q", f.PlaintextWarning())
	}
	if f.Backend() != "file" {
		t.Fatalf("Backend = %q", f.Backend())
	}
}

func TestFileStoreWarnsOnceWhenParallelWritersCreateTheFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	var mu sync.Mutex
	var warn bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return warn.Write(p)
	})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A store per writer, as separate processes would have.
			f, err := NewFile(dir, w)
			if err != nil {
				t.Error(err)
				return
			}
			if err := f.Set(ctx, "job"+strconv.Itoa(i), KindAccessToken, []byte("v")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(warn.String(), "\n"); n != 1 {
		t.Fatalf("20 writers printed %d warning lines, want 1: %q", n, warn.String())
	}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

func TestFileStoreKeepsItsFileAndDirectoryPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	f, err := NewFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A file left with loose permissions is tightened on the next write.
	if err := os.WriteFile(f.Path(), []byte(`{"version":1,"items":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(context.Background(), "work", KindAccessToken, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, f.Path(): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", path, got, want)
		}
	}
}

func TestFileStoreReplacesItsFileRatherThanRewritingIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	f, err := NewFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "work", KindAccessToken, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A reader that opened the file before a write keeps reading the whole
	// old file: the write went to a new file renamed over the old name.
	before, err := os.Open(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if err := f.Set(ctx, "work", KindAccessToken, []byte("new")); err != nil {
		t.Fatal(err)
	}
	var doc fileDoc
	raw, _ := io.ReadAll(before)
	if err := json.Unmarshal(raw, &doc); err != nil || string(doc.Items["work:access_token"]) != "old" {
		t.Fatalf("the old file was changed in place: %v, %q", err, doc.Items)
	}
	if got, _ := f.Get(ctx, "work", KindAccessToken); string(got) != "new" {
		t.Fatalf("Get = %q, want new", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}
}

func TestFileStoreLosesNoUpdateFromConcurrentGoroutinesAndProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const children, perChild, goroutines = 4, 15, 20

	var procs []*childProc
	for c := range children {
		procs = append(procs, startChild(t, "write-file",
			"IDPCTL_TEST_DIR="+dir, "IDPCTL_TEST_PREFIX=child"+strconv.Itoa(c), "IDPCTL_TEST_COUNT="+strconv.Itoa(perChild)))
	}
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			f, err := NewFile(dir, nil)
			if err == nil {
				err = f.Set(ctx, "goroutine"+strconv.Itoa(g), KindAccessToken, []byte(strconv.Itoa(g)))
			}
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("Set: %v", err)
		}
	}
	for _, p := range procs {
		p.wait(t)
	}

	f, err := NewFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for g := range goroutines {
		if v, err := f.Get(ctx, "goroutine"+strconv.Itoa(g), KindAccessToken); err != nil || string(v) != strconv.Itoa(g) {
			missing = append(missing, "goroutine"+strconv.Itoa(g))
		}
	}
	for c := range children {
		for i := range perChild {
			p := fmt.Sprintf("child%d-%d", c, i)
			if v, err := f.Get(ctx, p, KindAccessToken); err != nil || string(v) != p {
				missing = append(missing, p)
			}
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d updates were lost: %v", len(missing), missing)
	}
}

// childWriteFile writes IDPCTL_TEST_COUNT items, each in its own
// read-modify-write, into the file store in IDPCTL_TEST_DIR.
func childWriteFile(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("IDPCTL_TEST_COUNT"))
	f, err := NewFile(os.Getenv("IDPCTL_TEST_DIR"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p := fmt.Sprintf("%s-%d", os.Getenv("IDPCTL_TEST_PREFIX"), i)
		if err := f.Set(context.Background(), p, KindAccessToken, []byte(p)); err != nil {
			t.Fatalf("child Set: %v", err)
		}
	}
}

type childProc struct {
	name string
	out  bytes.Buffer
	done chan error
}

func startChild(t *testing.T, role string, env ...string) *childProc {
	t.Helper()
	cmd := childCommand(t, role, env...)
	p := &childProc{name: role, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a child: %v", err)
	}
	go func() { p.done <- cmd.Wait() }()
	return p
}

func (p *childProc) wait(t *testing.T) {
	t.Helper()
	if err := <-p.done; err != nil {
		t.Fatalf("child %s failed: %v\n%s", p.name, err, p.out.String())
	}
}

func TestFileStoreReportsAnUnreadableFileWithoutQuotingIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := NewFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path(), []byte(`{"version":1,"items":{"work:access_token":"`+secretValue), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = f.Get(context.Background(), "work", KindAccessToken)
	if !errs.Is(err, errs.KindStore) || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("Get = %v, want a store error saying unreadable", err)
	}
	if strings.Contains(err.Error(), secretValue) {
		t.Fatalf("the error quotes the file: %v", err)
	}
	if err := f.Set(context.Background(), "work", KindAccessToken, []byte("x")); !errs.Is(err, errs.KindStore) {
		t.Fatalf("Set over an unreadable file = %v, want a store error rather than losing its items", err)
	}
}

func TestFileStoreInAReadOnlyDirectoryFailsWithAStoreError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := NewFile(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "work", KindAccessToken, []byte("kept")); err != nil {
		t.Fatal(err)
	}

	kind, msg, got := readOnlyAttempt(t, dir)

	if kind != errs.KindStore {
		t.Fatalf("Set in a read-only directory gave kind %v, want store: %s", kind, msg)
	}
	if !strings.Contains(msg, "read-only") || !strings.Contains(msg, dir) {
		t.Fatalf("the error does not say the directory is read-only: %s", msg)
	}
	if got != "kept" {
		t.Fatalf("Get in a read-only directory = %q, want the stored value", got)
	}
}

// readOnlyResult runs Set and Get against the file store in dir, which the
// caller has made read-only, and reports the outcome in a form a child
// process can print.
func readOnlyResult(dir string) (kind errs.Kind, msg, got string) {
	ctx := context.Background()
	f, err := NewFile(dir, nil)
	if err == nil {
		err = f.Set(ctx, "work", KindAccessToken, []byte("new"))
	}
	if err == nil {
		return errs.KindUnknown, "Set succeeded", ""
	}
	v, getErr := f.Get(ctx, "work", KindAccessToken)
	if getErr != nil {
		v = []byte("Get failed: " + getErr.Error())
	}
	return errs.KindOf(err), err.Error(), string(v)
}

// readOnlyByPermissions makes dir read-only for this (non-root) user and
// runs the attempt in this process.
func readOnlyByPermissions(t *testing.T, dir string) (errs.Kind, string, string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows directories have no read-only permission bit")
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	return readOnlyResult(dir)
}

// readOnlyReport is how a child process reports readOnlyResult.
type readOnlyReport struct {
	Kind errs.Kind `json:"kind"`
	Msg  string    `json:"msg"`
	Got  string    `json:"got"`
}
