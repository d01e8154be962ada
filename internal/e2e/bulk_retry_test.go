package e2e

// A bulk revocation against a Hydra whose database answers overlapping
// deletes with a serialization failure, as CockroachDB-backed Hydras do
// under parallel load: every user must still end revoked.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/hydra/hydrafake"
)

// hydraConflicts stands in front of a Hydra fake and answers the first
// deletes of chosen subjects' consent sessions with HTTP 400 and the
// herodot error Hydra sends for its database's serialization failure
// (ory/x sqlcon.ErrConcurrentUpdate: "Unable to serialize access due to a
// concurrent update in another session"); the fake never sees those.
type hydraConflicts struct {
	URL   string
	times func(subject string) int

	mu     sync.Mutex
	seen   map[string]int
	served int
}

func newHydraConflicts(t *testing.T, target string, times func(subject string) int) *hydraConflicts {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &hydraConflicts{times: times, seen: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && r.URL.Path == "/admin/oauth2/auth/sessions/consent" {
			sub := r.URL.Query().Get("subject")
			c.mu.Lock()
			c.seen[sub]++
			conflict := c.seen[sub] <= c.times(sub)
			if conflict {
				c.served++
			}
			c.mu.Unlock()
			if conflict {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":{"code":400,"status":"Bad Request","message":"Unable to serialize access due to a concurrent update in another session"}}`)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func TestBulkRevocationRepeatsHydraSerializationConflictsAndFinishes(t *testing.T) {
	t.Parallel()
	const users = 400
	f := hydrafake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "hydra", f.Errors)
	f.AddClient("wiki", nil)
	var list strings.Builder
	sub := func(i int) string { return fmt.Sprintf("user%04d", i) }
	for i := 0; i < users; i++ {
		f.AddConsent(sub(i), "wiki")
		fmt.Fprintln(&list, sub(i))
	}
	// Every 10th subject meets the conflict once, every 33rd three times.
	c := newHydraConflicts(t, f.URL, func(s string) int {
		var i int
		fmt.Sscanf(s, "user%d", &i)
		switch {
		case i%33 == 0:
			return 3
		case i%10 == 0:
			return 1
		}
		return 0
	})
	e := adminEnv(t, "hydra", c.URL, "", viaFile, "url="+c.URL)
	file := e.WriteFile(t, "leavers.txt", list.String(), false)
	r := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "--parallel", "16", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("want exit 0: a transient conflict must not fail a user\n%s", r)
	}
	lines := jsonLines(t, r.Stdout)
	if len(lines) != users {
		t.Fatalf("%d results, want %d", len(lines), users)
	}
	for _, l := range lines {
		if field(l, "result") != "revoked" {
			t.Errorf("%s: %v", field(l, "user"), l)
		}
	}
	for i := 0; i < users; i++ {
		if n := len(f.Consents(sub(i))); n != 0 {
			t.Errorf("%s keeps %d consents", sub(i), n)
		}
	}
	c.mu.Lock()
	served := c.served
	c.mu.Unlock()
	if served < users/10 {
		t.Fatalf("only %d conflicts were served: the run never met what it is meant to prove", served)
	}
	t.Logf("%d conflicts served, every user revoked", served)
}

func TestBulkRevocationAgainstADeadAdminAPIBacksOffAndStopsInsteadOfFailingEveryone(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused from here on
	e := adminEnv(t, "hydra", deadURL, "", viaFile, "url="+deadURL)
	var list strings.Builder
	for i := 0; i < 37; i++ {
		fmt.Fprintf(&list, "user%02d\n", i)
	}
	file := e.WriteFile(t, "leavers.txt", list.String(), false)
	r, took := timed(t, e, "token", "revoke", "--users-file", file, "--yes", "--parallel", "4", "-o", "json")
	if r.Code != 5 || !strings.Contains(r.Stderr, "could not be reached") || !strings.Contains(r.Stderr, "--resume") {
		t.Fatalf("want exit 5 saying the admin API is unreachable and how to resume\n%s", r)
	}
	failed := jsonLines(t, r.Stdout)
	if len(failed) > 4 {
		t.Fatalf("%d users marked failed; want at most the 4 in flight, the rest left for --resume", len(failed))
	}
	// The policy waits 1s, 2s, 4s and 8s before giving a user up.
	if took.Seconds() < 15 {
		t.Fatalf("gave up after %s, before the back-off policy's 15s", took)
	}
	t.Logf("stopped after %s with %d users failed", took, len(failed))
}
