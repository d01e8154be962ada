package credstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestFileLockerSerialisesHoldersOfTheSameProfileOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := FileLocker{Dir: dir}
	unlock, err := l.Lock(context.Background(), "work")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "locks", "work.lock")); err != nil {
		t.Fatalf("the lock file is not in <dir>/locks: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "work"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second Lock of the held profile = %v, want it to wait until the deadline", err)
	}
	other, err := l.Lock(context.Background(), "home")
	if err != nil {
		t.Fatalf("Lock of another profile: %v", err)
	}
	other()

	unlock()
	unlock() // releasing twice is harmless
	again, err := l.Lock(context.Background(), "work")
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	again()
}

func TestFileLockerHandsTheLockToAWaiterWhenReleased(t *testing.T) {
	t.Parallel()
	l := FileLocker{Dir: t.TempDir()}
	unlock, err := l.Lock(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		u, err := l.Lock(ctx, "work")
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the waiter did not get the lock: %v", err)
	}
}

func TestFileLockerWithoutADirectoryIsAStoreError(t *testing.T) {
	_, err := FileLocker{}.Lock(context.Background(), "work")
	if !errs.Is(err, errs.KindStore) {
		t.Fatalf("Lock = %v, want a store error", err)
	}
}

func TestTheLockOfAKilledProcessIsFreeForTheNextOne(t *testing.T) {
	dir := t.TempDir()
	child := childCommand(t, "hold-lock", "IDPCTL_TEST_DIR="+dir)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatalf("starting the child: %v", err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })

	lines := bufio.NewScanner(out)
	held := false
	for lines.Scan() {
		if lines.Text() == "locked" {
			held = true
			break
		}
	}
	if !held {
		t.Fatal("the child never reported holding the lock")
	}

	l := FileLocker{Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "work"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while the child holds it = %v, want it to wait", err)
	}

	if err := child.Process.Kill(); err != nil { // SIGKILL: no chance to unlock
		t.Fatalf("killing the child: %v", err)
	}
	_ = child.Wait()

	start := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	unlock, err := l.Lock(ctx, "work")
	if err != nil {
		t.Fatalf("Lock after the holder was killed = %v, want the lock within a second", err)
	}
	unlock()
	t.Logf("took the lock %v after the holder died", time.Since(start))
}

// childHoldLock takes the lock, says so, and waits to be killed.
func childHoldLock(t *testing.T) {
	_, err := FileLocker{Dir: os.Getenv("IDPCTL_TEST_DIR")}.Lock(context.Background(), "work")
	if err != nil {
		t.Fatalf("child Lock: %v", err)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	t.Fatal("the child was not killed")
}

func TestLockFileNamesAreSafeAndDistinct(t *testing.T) {
	cases := []struct {
		profile string
		want    string // exact name, or a prefix when it ends in "-"
	}{
		{"work", "work.lock"},
		{"ci-prod_2", "ci-prod_2.lock"},
		{"Work", "_ork-"},
		{"a/b", "a_b-"},
		{"a_b", "a_b.lock"},
		{"..", "..-"},
		{"", "-"},
		{`C:\x`, "___x-"},
		{strings.Repeat("p", 100), strings.Repeat("p", 64) + "-"},
	}
	seen := map[string]string{}
	for _, c := range cases {
		name := lockFileName(c.profile)
		if strings.HasSuffix(c.want, "-") {
			if !strings.HasPrefix(name, c.want) || !strings.HasSuffix(name, ".lock") {
				t.Errorf("lockFileName(%q) = %q, want %q…", c.profile, name, c.want)
			}
		} else if name != c.want {
			t.Errorf("lockFileName(%q) = %q, want %q", c.profile, name, c.want)
		}
		if strings.ContainsAny(name, `/\:`) {
			t.Errorf("lockFileName(%q) = %q holds a path separator", c.profile, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("profiles %q and %q share the lock file %q", prev, c.profile, name)
		}
		seen[name] = c.profile
	}
}

// A wait for another process says so once it is long, and gives up after
// MaxWait with a sentence, not by hanging (a login can hold the lock for
// minutes while a person is in the browser).
func TestALongWaitForTheLockIsAnnouncedAndBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	holder := FileLocker{Dir: dir}
	unlock, err := holder.Lock(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var notice syncBuffer
	waiter := FileLocker{Dir: dir, Notify: &notice, NotifyAfter: 20 * time.Millisecond, MaxWait: 300 * time.Millisecond}
	start := time.Now()
	_, err = waiter.Lock(context.Background(), "work")
	if errs.KindOf(err) != errs.KindStore || !strings.Contains(err.Error(), "another idpctl has held the refresh lock") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("waited %s", took)
	}
	if !strings.Contains(notice.String(), `waiting for another idpctl using profile "work"`) {
		t.Fatalf("notice %q", notice.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the notice's timer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
