package e2e

// A bulk revocation killed outright (SIGKILL: no handler runs, nothing is
// flushed or recorded on the way out) and resumed from its journal.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
)

func TestBulkRevocationKilledHalfwayResumesWithoutGaps(t *testing.T) {
	t.Parallel()
	const (
		users    = 200
		parallel = 4
		// About two calls a user (look-up, then DELETE .../sessions): the
		// first run lasts a few seconds, long enough to kill it halfway.
		limit = 100
	)
	f := oktafake.New(t, oktafake.Options{})
	t.Cleanup(f.Close)
	noViolations(t, "okta", f.Violations)
	f.AddAuthorizationServer("default")
	lim := newOktaLimiter(t, f.URL, limit)

	login := func(i int) string { return fmt.Sprintf("user%03d@example.com", i) }
	id := func(i int) string { return fmt.Sprintf("00u%04d", i) }
	idOf := map[string]string{}
	var list strings.Builder
	for i := 0; i < users; i++ {
		f.AddUser(oktafake.User{ID: id(i), Login: login(i), Email: login(i)})
		f.AddSessions(id(i), 1)
		f.AddRefreshTokens(id(i), "0oa1payroll", 1)
		idOf[login(i)] = id(i)
		fmt.Fprintln(&list, login(i))
	}

	e := adminEnv(t, "okta", lim.URL+"/oauth2/default", f.Token(), viaFile, "url="+lim.URL)
	file := e.WriteFile(t, "leavers.txt", list.String(), false)
	args := []string{"token", "revoke", "--users-file", file, "--yes", "--parallel", fmt.Sprint(parallel), "-o", "json"}
	journals := filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "journals")

	began := time.Now()
	p := start(t, e, "", args...)
	halfway := time.After(runTimeout)
	for p.lineCount() < users/2 {
		select {
		case <-p.Done():
			t.Fatalf("the run ended before half the users were done\n%s", p.result())
		case <-halfway:
			t.Fatalf("half the users were not done within %s\n%s", runTimeout, p.result())
		case <-time.After(2 * time.Millisecond):
		}
	}
	p.Signal(syscall.SIGKILL)
	first := p.waitResult(runTimeout)
	firstTook := time.Since(began)
	sentBeforeKill := map[string]bool{}
	for _, r := range f.Requests() {
		if r.Method == http.MethodDelete {
			sentBeforeKill[r.Path] = true
		}
	}
	if first.Code != -1 {
		t.Fatalf("the run was not ended by SIGKILL\n%s", first)
	}
	// Every line the process wrote before it died is in the pipe; a line
	// is written by one write(2), so none is torn.
	printed := map[string]bool{}
	for _, l := range jsonLines(t, first.Stdout) {
		printed[field(l, "user")] = true
	}
	if len(printed) >= users {
		t.Fatalf("SIGKILL came after the run had finished: %d results", len(printed))
	}
	if ms, _ := filepath.Glob(filepath.Join(journals, "*.jsonl")); len(ms) != 1 {
		t.Fatalf("want the killed run's journal in %s, found %v", journals, ms)
	}
	unprinted := 0
	for u, id := range idOf {
		if !printed[u] && sentBeforeKill["/api/v1/users/"+id+"/sessions"] {
			unprinted++
		}
	}
	t.Logf("killed after %d of %d users had printed their result, in %s; %d more had reached the IdP without printing", len(printed), users, firstTook.Round(time.Millisecond), unprinted)

	// The journal's lock is an flock(2), which the kernel drops with the
	// dead process, so --resume alone must do: no --restart, no clean-up.
	resumedAt := time.Now()
	second := run(t, e, "", append(args, "--resume")...)
	secondTook := time.Since(resumedAt)
	if second.Code != 0 {
		t.Fatalf("the resumed run did not finish cleanly\n%s", second)
	}
	t.Logf("resumed run took %s", secondTook.Round(time.Millisecond))

	deletes := map[string]int{}
	for _, r := range f.Requests() {
		if r.Method == http.MethodDelete {
			deletes[r.Path]++
		}
	}
	revocations := func(login string) int { return deletes["/api/v1/users/"+idOf[login]+"/sessions"] }

	t.Run("every user was revoked at the IdP", func(t *testing.T) {
		for i := 0; i < users; i++ {
			if n := revocations(login(i)); n == 0 {
				t.Errorf("user %s was never revoked", login(i))
			}
			if f.Sessions(id(i)) != 0 || f.RefreshTokens(id(i), "") != 0 {
				t.Errorf("user %s keeps sessions or refresh tokens", login(i))
			}
		}
	})
	// SIGKILL lands between a call and its journal record for the users in
	// flight: the IdP may already have acted, but the record that says so
	// was never written, so the resumed run repeats them. That is safe
	// because revocation is idempotent (a second DELETE .../sessions of a
	// user without sessions is a 204 that changes nothing). Only those
	// users may repeat, so at most --parallel of them, and never one whose
	// result was printed: its record was synced to disk before the line.
	t.Run("only users in flight at the kill were revoked twice", func(t *testing.T) {
		var twice []string
		for i := 0; i < users; i++ {
			n := revocations(login(i))
			if n > 2 {
				t.Errorf("user %s was revoked %d times", login(i), n)
			}
			if n < 2 {
				continue
			}
			twice = append(twice, login(i))
			if printed[login(i)] {
				t.Errorf("user %s printed a result before the kill and was revoked again on resume", login(i))
			}
		}
		if len(twice) > parallel {
			t.Errorf("%d users were revoked twice, more than the %d that can be in flight: %v", len(twice), parallel, twice)
		}
		t.Logf("%d users were in flight and repeated: %v", len(twice), twice)
	})
	t.Run("the resumed run reports every user once and carries over every printed one", func(t *testing.T) {
		seen := map[string]bool{}
		for _, l := range jsonLines(t, second.Stdout) {
			u := field(l, "user")
			if seen[u] {
				t.Errorf("user %s reported twice", u)
			}
			seen[u] = true
			if field(l, "result") != "revoked" {
				t.Errorf("user %s: %v, want revoked", u, l)
			}
			if printed[u] && field(l, "resumed") != "true" {
				t.Errorf("user %s finished before the kill but was not carried over: %v", u, l)
			}
		}
		if len(seen) != users {
			t.Errorf("%d users reported, want %d", len(seen), users)
		}
	})
	t.Run("no journal is left behind", func(t *testing.T) {
		entries, _ := os.ReadDir(journals)
		for _, en := range entries {
			if strings.HasSuffix(en.Name(), ".jsonl") {
				t.Errorf("journal %s remains after the list finished", en.Name())
			}
		}
	})
}
