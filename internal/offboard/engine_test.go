package offboard

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// waitForSecondStart starts a timed run just after a wall-clock second
// begins, where the fake's windows begin, so the theoretical minimum is
// well defined.
func waitForSecondStart() time.Time {
	now := time.Now()
	next := now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond)
	time.Sleep(next.Sub(now))
	return time.Now()
}

func TestAThousandUsersUnderARateLimitAreEachRevokedOnceInAboutTheMinimumTime(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds of wall-clock rate-limit windows")
	}
	const n, limit = 1000, 400
	api := newFakeAPI(t, limit)
	api.fail = func(u string) bool { return strings.HasSuffix(u, "13") } // u0013, u0113, ...
	rev := newTestRevoker(t, api.srv.URL)
	users := userIDs(n)

	start := waitForSecondStart()
	var mu sync.Mutex
	results := map[string]Result{}
	eng := &Engine{Revoker: rev, Limiter: rev.observedBy(NewLimiter(nil, nil)), Parallel: 8, OnResult: func(r Result) {
		mu.Lock()
		results[r.User] = r
		mu.Unlock()
	}}
	sum, err := eng.Run(context.Background(), users)
	elapsed := time.Since(start)

	// Windows begin at whole seconds; the last of ceil(n/limit) windows
	// cannot begin before this.
	windows := (n + limit - 1) / limit
	minimum := start.Truncate(time.Second).Add(time.Duration(windows-1) * time.Second).Sub(start)
	ratio := float64(elapsed) / float64(minimum)
	t.Logf("%d users, %d per second: %s elapsed, theoretical minimum %s, ratio %.2f, %d pauses", n, limit, elapsed.Round(time.Millisecond), minimum.Round(time.Millisecond), ratio, sum.Pauses)
	if bound := minimum*3/2 + 500*time.Millisecond; elapsed > bound {
		t.Errorf("took %s, more than 1.5 × the minimum %s plus 0.5s", elapsed, minimum)
	}

	processed, requests, limited := api.counts()
	for _, u := range users {
		if processed[u] != 1 {
			t.Fatalf("user %s processed %d times at the IdP, want exactly once", u, processed[u])
		}
	}
	t.Logf("%d requests, %d answered 429", requests, limited)

	failing := 0
	for _, u := range users {
		if strings.HasSuffix(u, "13") {
			failing++
			if results[u].Outcome != provider.OutcomeFailed || results[u].Kind != errs.KindNetwork {
				t.Errorf("%s: %+v, want failed (network)", u, results[u])
			}
		} else if results[u].Outcome != provider.OutcomeRevoked || results[u].RequestID != "req-"+u {
			t.Errorf("%s: %+v, want revoked with the request id", u, results[u])
		}
	}
	if errs.KindOf(err) != errs.KindPartial || len(sum.Failed) != failing || sum.Counts[provider.OutcomeRevoked] != n-failing {
		t.Fatalf("err %v, summary %+v; want partial with %d failed", err, sum.Counts, failing)
	}
	if sum.StillValid != "up to 1h" {
		t.Errorf("still valid %q", sum.StillValid)
	}
}

func TestAnInterruptedRunResumesWithoutRevokingAnyoneTwiceOrSkippingAnyone(t *testing.T) {
	const n = 300
	api := newFakeAPI(t, 0)
	api.latency = 2 * time.Millisecond
	api.unknown = func(u string) bool { return strings.HasSuffix(u, "7") }
	rev := newTestRevoker(t, api.srv.URL)
	users := userIDs(n)
	dir := t.TempDir()
	key := JournalKey{Provider: "test", Profile: "p", Input: []byte(strings.Join(users, "\n"))}

	j, err := OpenJournal(dir, key, JournalNew, "leavers.txt", n, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var first []Result
	eng := &Engine{Revoker: rev, Limiter: rev.observedBy(NewLimiter(nil, nil)), Journal: j, Parallel: 4, OnResult: func(r Result) {
		first = append(first, r)
		if len(first) == n/3 {
			cancel() // Ctrl-C: stop taking users, let the ones in flight finish
		}
	}}
	sum, err := eng.Run(ctx, users)
	cancel()
	if errs.KindOf(err) != errs.KindInterrupted || sum.NotStarted == 0 {
		t.Fatalf("first run: err %v, %d not started; want interrupted with users left", err, sum.NotStarted)
	}
	if len(first) < n/3 || len(first) > n/3+4 {
		t.Fatalf("first run finished %d users; want %d plus at most the 4 in flight", len(first), n/3)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// Without --resume the unfinished journal is refused.
	if _, err := OpenJournal(dir, key, JournalNew, "leavers.txt", n, time.Now()); errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("reopening without resume: %v", err)
	}

	j2, err := OpenJournal(dir, key, JournalResume, "leavers.txt", n, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	var second []Result
	eng2 := &Engine{Revoker: rev, Limiter: rev.observedBy(NewLimiter(nil, nil)), Journal: j2, Parallel: 4, OnResult: func(r Result) { second = append(second, r) }}
	sum2, err := eng2.Run(context.Background(), users)
	// Unknown users fail the run, resumed or not: nothing was revoked.
	if errs.KindOf(err) != errs.KindPartial || len(sum2.Missing) != n/10 || len(sum2.Failed) != 0 {
		t.Fatalf("resumed run: %v, %d missing, %d failed; want partial with %d missing", err, len(sum2.Missing), len(sum2.Failed), n/10)
	}
	if sum2.Resumed != len(first) || len(second) != n {
		t.Fatalf("resumed %d (want %d), reported %d (want %d)", sum2.Resumed, len(first), len(second), n)
	}
	processed, _, _ := api.counts()
	for _, u := range users {
		if processed[u] != 1 {
			t.Fatalf("user %s reached the IdP %d times over both runs, want exactly once", u, processed[u])
		}
	}
	final := j2.Results()
	for _, u := range users {
		r, ok := final[u]
		if !ok || !r.Done() {
			t.Fatalf("the journal has no final result for %s: %+v", u, r)
		}
		if want := provider.OutcomeRevoked; !strings.HasSuffix(u, "7") && r.Outcome != want {
			t.Fatalf("%s: %s", u, r.Outcome)
		}
	}
	if sum2.Counts[provider.OutcomeUserNotFound] != n/10 {
		t.Fatalf("counts %v", sum2.Counts)
	}
}

// scripted is a revoker that answers from a function and counts calls.
type scripted struct {
	mu    sync.Mutex
	calls map[string]int
	fn    func(user string, call int) (*provider.RevokeUserResult, error)
}

func (s *scripted) RevokeUser(_ context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[req.User]++
	n := s.calls[req.User]
	s.mu.Unlock()
	return s.fn(req.User, n)
}

func TestAnAdminCredentialRefusedForEveryUserStopsTheRun(t *testing.T) {
	s := &scripted{fn: func(string, int) (*provider.RevokeUserResult, error) {
		return nil, errs.New(errs.KindRefused, "refused the admin credential (HTTP 401)")
	}}
	sum, err := (&Engine{Revoker: s, Parallel: 1}).Run(context.Background(), userIDs(100))
	if errs.KindOf(err) != errs.KindRefused || !strings.Contains(err.Error(), "admin credential") {
		t.Fatalf("err %v", err)
	}
	if len(s.calls) != refusalStreak || sum.NotStarted != 100-refusalStreak {
		t.Fatalf("%d calls, %d not started", len(s.calls), sum.NotStarted)
	}
}

// Success is what the IdP confirmed: an adapter answer without an outcome
// fails the user rather than counting as revoked.
func TestAResultWithoutAnOutcomeFailsTheUser(t *testing.T) {
	s := &scripted{fn: func(u string, _ int) (*provider.RevokeUserResult, error) {
		if u == userIDs(2)[0] {
			return nil, nil
		}
		return &provider.RevokeUserResult{User: u}, nil
	}}
	sum, err := (&Engine{Revoker: s, Parallel: 1}).Run(context.Background(), userIDs(2))
	if err == nil || !strings.Contains(err.Error(), "2 of 2 users failed") {
		t.Fatalf("err %v", err)
	}
	if sum.Counts[provider.OutcomeFailed] != 2 || sum.Counts[provider.OutcomeRevoked] != 0 || len(sum.Failed) != 2 {
		t.Fatalf("counts %v, failed %v", sum.Counts, sum.Failed)
	}
	if !strings.Contains(sum.Failed[0].Error, "no outcome") {
		t.Fatalf("error %q", sum.Failed[0].Error)
	}
}

func TestAnUnsupportedOperationStopsAtOnce(t *testing.T) {
	s := &scripted{fn: func(string, int) (*provider.RevokeUserResult, error) {
		return nil, provider.Unsupported("x", "revoking", "use y")
	}}
	_, err := (&Engine{Revoker: s, Parallel: 1}).Run(context.Background(), userIDs(10))
	if errs.KindOf(err) != errs.KindUnsupported || len(s.calls) != 1 {
		t.Fatalf("err %v after %d calls", err, len(s.calls))
	}
}

func TestARateLimitWithoutHeadersBacksOffAndRepeatsTheCall(t *testing.T) {
	var slept []time.Duration
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	sleep := func(_ context.Context, d time.Duration) error { slept = append(slept, d); now = now.Add(d); return nil }
	s := &scripted{fn: func(_ string, call int) (*provider.RevokeUserResult, error) {
		if call <= 2 {
			return nil, errs.New(errs.KindNetwork, "revoking: rate limited by idp.example (HTTP 429)")
		}
		return &provider.RevokeUserResult{Outcome: provider.OutcomeAccepted}, nil
	}}
	sum, err := (&Engine{Revoker: s, Parallel: 1, Now: clock, Sleep: sleep}).Run(context.Background(), []string{"alice"})
	if err != nil || sum.Counts[provider.OutcomeAccepted] != 1 || s.calls["alice"] != 3 {
		t.Fatalf("err %v, counts %v, calls %d", err, sum.Counts, s.calls["alice"])
	}
	if len(slept) != 2 || slept[0] != time.Second || slept[1] != 2*time.Second {
		t.Fatalf("slept %v, want 1s then 2s", slept)
	}
}

func TestAUserRateLimitedTooOftenFails(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &scripted{fn: func(string, int) (*provider.RevokeUserResult, error) {
		return nil, errs.New(errs.KindNetwork, "x (HTTP 429)")
	}}
	eng := &Engine{Revoker: s, Parallel: 1, MaxRateLimited: 3, Now: func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }}
	sum, err := eng.Run(context.Background(), []string{"alice"})
	if errs.KindOf(err) != errs.KindPartial || s.calls["alice"] != 4 || len(sum.Failed) != 1 {
		t.Fatalf("err %v, calls %d", err, s.calls["alice"])
	}
}

func TestAUserTheIdPDoesNotKnowFailsTheRunUnlessAllowed(t *testing.T) {
	s := &scripted{fn: func(user string, _ int) (*provider.RevokeUserResult, error) {
		if user == "ghost" {
			return &provider.RevokeUserResult{Outcome: provider.OutcomeUserNotFound}, nil
		}
		return &provider.RevokeUserResult{Outcome: provider.OutcomeRevoked}, nil
	}}
	users := []string{"alice", "ghost", "bob"}
	sum, err := (&Engine{Revoker: s, Parallel: 1}).Run(context.Background(), users)
	if errs.KindOf(err) != errs.KindPartial || !strings.Contains(err.Error(), "1 of 3 users failed (1 not found at the IdP)") {
		t.Fatalf("err %v, want partial naming the unknown user", err)
	}
	if len(sum.Missing) != 1 || sum.Missing[0].User != "ghost" || sum.Counts[provider.OutcomeUserNotFound] != 1 {
		t.Fatalf("summary %+v", sum)
	}
	sum, err = (&Engine{Revoker: s, Parallel: 1, AllowMissing: true}).Run(context.Background(), users)
	if err != nil || len(sum.Missing) != 0 || sum.Counts[provider.OutcomeUserNotFound] != 1 {
		t.Fatalf("with AllowMissing: err %v, summary %+v", err, sum)
	}
}

// lockedClock is a clock that sleeping advances, safe for several workers.
type lockedClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newLockedClock() *lockedClock { return &lockedClock{now: time.Unix(1_700_000_000, 0)} }

func (c *lockedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *lockedClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func refused() error {
	return errs.MarkRetryable(errs.New(errs.KindNetwork, "cannot connect to idp.example: connection refused"))
}

func TestADeadAdminAPIIsRetriedWithBackOffThenStopsTheRun(t *testing.T) {
	t.Run("one worker: each user is tried 5 times after 1s, 2s, 4s, 8s", func(t *testing.T) {
		clock := newLockedClock()
		s := &scripted{fn: func(string, int) (*provider.RevokeUserResult, error) { return nil, refused() }}
		sum, err := (&Engine{Revoker: s, Parallel: 1, Now: clock.Now, Sleep: clock.Sleep}).Run(context.Background(), userIDs(37))
		if errs.KindOf(err) != errs.KindNetwork || !strings.Contains(err.Error(), "could not be reached for 2 users in a row") {
			t.Fatalf("err %v, want the run stopped as unreachable (exit 5)", err)
		}
		if len(sum.Failed) != unreachableStreak || sum.NotStarted != 37-unreachableStreak {
			t.Fatalf("%d failed, %d not started; want %d failed and the rest left for --resume", len(sum.Failed), sum.NotStarted, unreachableStreak)
		}
		for u, n := range s.calls {
			if n != maxUnreachable+1 {
				t.Errorf("%s called %d times, want %d", u, n, maxUnreachable+1)
			}
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
		want = append(want, want...)
		if fmt.Sprint(clock.slept) != fmt.Sprint(want) {
			t.Fatalf("slept %v, want %v", clock.slept, want)
		}
	})
	t.Run("many workers: a few users fail, not all 37", func(t *testing.T) {
		clock := newLockedClock()
		s := &scripted{fn: func(string, int) (*provider.RevokeUserResult, error) { return nil, refused() }}
		sum, err := (&Engine{Revoker: s, Parallel: 4, Now: clock.Now, Sleep: clock.Sleep}).Run(context.Background(), userIDs(37))
		if errs.KindOf(err) != errs.KindNetwork {
			t.Fatalf("err %v", err)
		}
		if len(sum.Failed) > 4 || sum.NotStarted < 33 || len(sum.Failed)+sum.NotStarted != 37 {
			t.Fatalf("%d failed, %d not started; want at most the 4 in flight failed", len(sum.Failed), sum.NotStarted)
		}
		// A failed user was tried the full 5 times; one still waiting to
		// be repeated when the run stopped is left for --resume.
		for _, r := range sum.Failed {
			if n := s.calls[r.User]; n != maxUnreachable+1 {
				t.Errorf("%s failed after %d calls, want %d", r.User, n, maxUnreachable+1)
			}
		}
	})
	t.Run("an API back within the back-off loses nobody", func(t *testing.T) {
		clock := newLockedClock()
		s := &scripted{fn: func(_ string, call int) (*provider.RevokeUserResult, error) {
			if call <= 2 {
				return nil, refused()
			}
			return &provider.RevokeUserResult{Outcome: provider.OutcomeRevoked}, nil
		}}
		sum, err := (&Engine{Revoker: s, Parallel: 1, Now: clock.Now, Sleep: clock.Sleep}).Run(context.Background(), []string{"alice", "bob"})
		if err != nil || sum.Counts[provider.OutcomeRevoked] != 2 {
			t.Fatalf("err %v, counts %v", err, sum.Counts)
		}
		if fmt.Sprint(clock.slept) != fmt.Sprint([]time.Duration{time.Second, 2 * time.Second, time.Second, 2 * time.Second}) {
			t.Fatalf("slept %v", clock.slept)
		}
	})
	t.Run("a failure that is not transient is not repeated", func(t *testing.T) {
		s := &scripted{fn: func(string, int) (*provider.RevokeUserResult, error) {
			return nil, errs.New(errs.KindNetwork, "revoking: idp.example failed (HTTP 500)")
		}}
		sum, err := (&Engine{Revoker: s, Parallel: 1}).Run(context.Background(), userIDs(3))
		if errs.KindOf(err) != errs.KindPartial || len(sum.Failed) != 3 || s.calls["u0000"] != 1 {
			t.Fatalf("err %v, calls %v", err, s.calls)
		}
	})
}

func TestConcurrentUpdateConflictsAreRepeatedAndARunOfAThousandAtParallel16Finishes(t *testing.T) {
	const n = 1000
	api := newFakeAPI(t, 0)
	// Every 20th user meets the conflict on its first two calls, every
	// 53rd on its first four: more than 19 users in all.
	api.conflict = func(user string, call int) bool {
		var i int
		fmt.Sscanf(user, "u%d", &i)
		return (i%20 == 0 && call <= 2) || (i%53 == 0 && call <= 4)
	}
	rev := newTestRevoker(t, api.srv.URL)
	users := userIDs(n)
	sum, err := (&Engine{Revoker: rev, Limiter: rev.observedBy(NewLimiter(nil, nil)), Parallel: 16}).Run(context.Background(), users)
	if err != nil || len(sum.Failed) != 0 || sum.Counts[provider.OutcomeRevoked] != n {
		t.Fatalf("err %v, %d failed (first: %+v), counts %v", err, len(sum.Failed), firstFailed(sum), sum.Counts)
	}
	processed, _, _ := api.counts()
	api.mu.Lock()
	conflicts := api.conflicts
	api.mu.Unlock()
	if conflicts < 19*2 {
		t.Fatalf("only %d conflicts were served: the test does not prove what it claims", conflicts)
	}
	for _, u := range users {
		if processed[u] != 1 {
			t.Fatalf("%s revoked %d times, want 1", u, processed[u])
		}
	}
}

func firstFailed(s *Summary) Result {
	if len(s.Failed) > 0 {
		return s.Failed[0]
	}
	return Result{}
}

// The adapter hands its answers' headers to the limiter it was built
// with, so a spent budget (Remaining 0) pauses the run before the next
// call instead of after a 429.
func TestASpentBudgetSeenByTheAdapterPausesTheRunBeforeA429(t *testing.T) {
	api := newFakeAPI(t, 3)
	rev := newTestRevoker(t, api.srv.URL)
	waitForSecondStart()
	sum, err := (&Engine{Revoker: rev, Limiter: rev.observedBy(NewLimiter(nil, nil)), Parallel: 1}).Run(context.Background(), userIDs(7))
	if err != nil {
		t.Fatal(err)
	}
	if _, requests, limited := api.counts(); limited != 0 || requests != 7 || sum.Pauses == 0 {
		t.Fatalf("%d requests, %d answered 429, %d pauses; want 7, none, and a pause", requests, limited, sum.Pauses)
	}
}
