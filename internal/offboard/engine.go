// Package offboard revokes the tokens of many users through a provider's
// admin API: bounded concurrency, a rate-limit pause shared by all workers,
// a journal that makes an interrupted run resumable without revoking anyone
// twice, and an honest per-user result.
package offboard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/redact"
)

// Revoker is what the engine needs of a provider.
type Revoker interface {
	RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error)
}

// DefaultParallel is how many users are worked on at once: enough to hide
// round trips, few enough not to trip per-second limits at once.
const DefaultParallel = 4

// DefaultMaxRateLimited is how often one user's call may be refused for
// rate limiting before the user is recorded as failed.
const DefaultMaxRateLimited = 10

// Repeats after transient failures, per user. A call that failed for a
// network reason the HTTP client does not repeat itself (connection
// refused; a reset or timeout of a POST) is repeated maxUnreachable times,
// after unreachableBackoff doubling up to maxUnreachableBackoff, every
// worker pausing together: an admin API restarting comes back within
// that, and a dead one is not hammered. A transient conflict (HTTP 409, a
// database serialization failure) is the IdP's answer to two overlapping
// changes; it is repeated maxConflict times after a short, jittered,
// doubling wait for that user alone.
const (
	maxUnreachable        = 4
	unreachableBackoff    = time.Second
	maxUnreachableBackoff = 8 * time.Second
	maxConflict           = 5
	conflictBackoff       = 50 * time.Millisecond
)

// unreachableStreak is how many users in a row may fail for the admin API
// being unreachable, after their repeats, before the run stops: the rest
// would only fail the same way, and --resume continues once it is back.
const unreachableStreak = 2

// refusalStreak is how many refusals (401/403) in a row, with no success
// at all, stop the run: the admin credential is wrong, and going on would
// only write the same failure for every user.
const refusalStreak = 5

// Result is one user's outcome.
type Result struct {
	User       string           `json:"user"`
	Client     string           `json:"client,omitempty"`
	Outcome    provider.Outcome `json:"result"`
	Detail     string           `json:"detail,omitempty"`
	RequestID  string           `json:"request_id,omitempty"`
	StillValid string           `json:"still_valid,omitempty"`
	Error      string           `json:"error,omitempty"`
	// Attempts counts calls, rate-limited ones included.
	Attempts int `json:"attempts,omitempty"`
	// Resumed marks a result recorded by an earlier run and not repeated.
	Resumed bool      `json:"resumed,omitempty"`
	Time    time.Time `json:"time"`

	// Kind is the failure's class, for the exit code.
	Kind errs.Kind `json:"-"`
	// unreachable marks a failure whose repeats all found the admin API
	// unreachable.
	unreachable bool
}

// Summary is the run's tally.
type Summary struct {
	Total int
	// Counts maps each outcome (revoked, accepted, nothing to revoke, user
	// not found, failed) to how many users ended there, this run or earlier.
	Counts map[provider.Outcome]int
	// ThisRun is Counts without the users done by an earlier run: what
	// this run did.
	ThisRun map[provider.Outcome]int
	// Resumed counts users done by an earlier run.
	Resumed int
	// NotStarted counts users left when the run was stopped.
	NotStarted int
	Failed     []Result
	// Missing are the users the IdP did not know, when that counts as a
	// failure (Engine.AllowMissing unset): nothing was revoked for them.
	Missing []Result
	// StillValid is the first StillValid an adapter reported.
	StillValid string
	Elapsed    time.Duration
	Pauses     int
}

// Engine runs one bulk revocation.
type Engine struct {
	Revoker Revoker
	// Request is the template: Client and Method apply to every user.
	Request provider.RevokeUserRequest
	// Journal, when set, is consulted for users already done and receives
	// every result.
	Journal *Journal
	// Limiter paces the workers. To pause before a spent budget earns
	// 429s, it is the one whose Observe the Revoker's adapter was built
	// with; nil is a limiter that learns of rate limits from 429s only.
	Limiter  *Limiter
	Parallel int
	// MaxRateLimited bounds rate-limited repeats per user.
	MaxRateLimited int
	Now            func() time.Time
	Sleep          func(ctx context.Context, d time.Duration) error
	// OnResult hears each result as it is final, one call at a time.
	OnResult func(Result)
	// Abort, when closed, cancels calls in flight (a second Ctrl-C).
	Abort <-chan struct{}
	// AllowMissing accepts "user not found" as a final success. Unset, a
	// user the IdP does not know counts as a failure of the run: for a
	// departed user it most often means a wrong identifier (an email where
	// the IdP wants a login, a typo), and their tokens are still live.
	AllowMissing bool
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Run revokes the tokens of users. Cancelling ctx stops taking new users:
// calls in flight finish and are recorded (closing Abort cancels them
// too). The error is of kind KindInterrupted when users were left,
// KindPartial when some failed, the failure's own kind when the run had
// to stop (a usage, login or unsupported error, or every call refused),
// and nil when every user ended in a final result. The summary is always
// returned.
func (e *Engine) Run(ctx context.Context, users []string) (*Summary, error) {
	start := e.now()
	parallel := e.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	maxRL := e.MaxRateLimited
	if maxRL <= 0 {
		maxRL = DefaultMaxRateLimited
	}
	lim := e.Limiter
	if lim == nil {
		lim = NewLimiter(e.Now, e.Sleep)
	}
	sum := &Summary{Total: len(users), Counts: map[provider.Outcome]int{}, ThisRun: map[provider.Outcome]int{}}

	var mu sync.Mutex // guards sum, fatal, streak and OnResult calls
	var fatal error
	streak, succeeded := 0, false
	unreachable := 0
	stopFeeding := make(chan struct{})
	var stopOnce sync.Once
	// waitCtx ends pauses and back-off waits when the run stops for good:
	// a user waiting to be repeated is then left for --resume.
	waitCtx, cancelWaits := context.WithCancel(ctx)
	defer cancelWaits()
	stop := func() { stopOnce.Do(func() { close(stopFeeding); cancelWaits() }) }

	finish := func(r Result) {
		var jerr error
		if e.Journal != nil && !r.Resumed {
			jerr = e.Journal.Record(r)
		}
		mu.Lock()
		defer mu.Unlock()
		sum.Counts[r.Outcome]++
		if r.Resumed {
			sum.Resumed++
		} else {
			sum.ThisRun[r.Outcome]++
		}
		if r.Outcome == provider.OutcomeFailed {
			sum.Failed = append(sum.Failed, r)
		}
		if r.Outcome == provider.OutcomeUserNotFound && !e.AllowMissing {
			sum.Missing = append(sum.Missing, r)
		}
		if sum.StillValid == "" && r.StillValid != "" {
			sum.StillValid = r.StillValid
		}
		if e.OnResult != nil {
			e.OnResult(r)
		}
		if jerr != nil && fatal == nil {
			// Without the journal a resume could repeat or skip users.
			fatal = fmt.Errorf("stopped: %w", jerr)
			stop()
		}
		if r.Resumed {
			return
		}
		if r.unreachable {
			unreachable++
			if unreachable >= unreachableStreak && fatal == nil {
				fatal = errs.New(errs.KindNetwork, "stopped: the admin API could not be reached for %d users in a row, each tried %d times over %s (last: %s); the users left were not sent", unreachable, maxUnreachable+1, unreachableWait(), r.Error)
				stop()
			}
		} else if r.Outcome != provider.OutcomeFailed {
			unreachable = 0
		}
		switch {
		case r.Outcome != provider.OutcomeFailed:
			succeeded, streak = true, 0
		case r.Kind == errs.KindUsage || r.Kind == errs.KindLoginRequired || r.Kind == errs.KindUnsupported:
			if fatal == nil {
				fatal = errs.New(r.Kind, "stopped at user %s: %s", r.User, r.Error)
			}
			stop()
		case r.Kind == errs.KindRefused && !succeeded:
			streak++
			if streak >= refusalStreak && fatal == nil {
				fatal = errs.New(errs.KindRefused, "stopped: the first %d calls were all refused; check the admin credential and its permissions (last answer: %s)", streak, r.Error)
				stop()
			}
		}
	}

	// Users the journal has as done are reported first, not repeated.
	var todo []string
	for _, u := range users {
		if e.Journal != nil {
			if r, ok := e.Journal.Final(u); ok {
				r.Resumed = true
				finish(r)
				continue
			}
		}
		todo = append(todo, u)
	}

	// Calls in flight are not cancelled by ctx, only by Abort: a revocation
	// cut off mid-request leaves its outcome unknown.
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-e.Abort:
			cancelCalls()
		case <-done:
		}
	}()

	queue := make(chan string)
	var fed int
	go func() {
		defer close(queue)
		for _, u := range todo {
			select {
			case <-ctx.Done():
				return
			case <-stopFeeding:
				return
			case queue <- u:
				mu.Lock()
				fed++
				mu.Unlock()
			}
		}
	}()

	var notStarted int
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range queue {
				// The feeder may hand over one more user as the stop
				// lands; it is left for the next run.
				select {
				case <-stopFeeding:
					mu.Lock()
					notStarted++
					mu.Unlock()
					continue
				default:
				}
				r, started := e.one(waitCtx, callCtx, lim, maxRL, u)
				if !started {
					mu.Lock()
					notStarted++
					mu.Unlock()
					continue
				}
				finish(r)
			}
		}()
	}
	wg.Wait()

	sum.NotStarted = notStarted + len(todo) - fed
	sum.Elapsed = e.now().Sub(start)
	sum.Pauses = lim.Pauses()
	switch {
	case fatal != nil:
		return sum, fatal
	case sum.NotStarted > 0 || isAborted(e.Abort):
		// This run's work only: users an earlier run finished are
		// mentioned apart, not counted as done again.
		ran, failed := 0, len(sum.Failed)
		for _, n := range sum.ThisRun {
			ran += n
		}
		for _, r := range sum.Missing {
			if !r.Resumed {
				failed++
			}
		}
		earlier := ""
		if sum.Resumed > 0 {
			earlier = fmt.Sprintf("; %d more were done by an earlier run", sum.Resumed)
		}
		return sum, errs.New(errs.KindInterrupted, "interrupted: %d of %d users done, %d failed, %d not started%s%s", ran-failed, sum.Total-sum.Resumed, failed, sum.NotStarted, sum.missingNote(), earlier)
	case len(sum.Failed) > 0 || len(sum.Missing) > 0:
		return sum, errs.New(errs.KindPartial, "%d of %d users failed%s", len(sum.Failed)+len(sum.Missing), sum.Total, sum.missingNote())
	}
	return sum, nil
}

// missingNote says how many of the failures are unknown users.
func (s *Summary) missingNote() string {
	if len(s.Missing) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d not found at the IdP)", len(s.Missing))
}

func isAborted(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// one revokes one user. started is false when the run was stopped before
// the IdP carried out any call for the user, who then has no result.
func (e *Engine) one(stopCtx, callCtx context.Context, lim *Limiter, maxRL int, user string) (r Result, started bool) {
	req := e.Request
	req.User = user
	r = Result{User: user, Client: req.Client}
	unreachable, conflicts := 0, 0
	for {
		// A pause in force is waited out before a first call or a repeat;
		// a stop during the wait leaves the user for the next run (the IdP
		// did nothing: a 429 is a refusal to act).
		if err := lim.Wait(stopCtx); err != nil {
			return r, false
		}
		r.Attempts++
		res, err := e.Revoker.RevokeUser(callCtx, req)
		if err == nil && (res == nil || res.Outcome == "") {
			// Success is only what the IdP confirmed; an answer without an
			// outcome is not one.
			err = errs.New(errs.KindUnknown, "the provider returned no outcome for %s: whether anything was revoked is unknown", user)
		}
		if err == nil {
			lim.Succeeded()
			r.Outcome = res.Outcome
			res.Detail = e.afterAbort(user, res)
			r.Detail, r.RequestID, r.StillValid = res.Detail, res.RequestID, res.StillValid
			if res.Client != "" {
				r.Client = res.Client
			}
			r.Time = e.now().UTC()
			return r, true
		}
		if lim.RateLimited(err) && r.Attempts <= maxRL {
			continue
		}
		if callCtx.Err() == nil && errs.IsRetryable(err) {
			if errs.KindOf(err) == errs.KindNetwork {
				if unreachable < maxUnreachable {
					unreachable++
					// Everyone waits: the next call anyone makes would
					// meet the same dead end.
					lim.PauseFor(unreachableDelay(unreachable), PauseUnreachable)
					continue
				}
				r.unreachable = true
			} else if conflicts < maxConflict {
				conflicts++
				if err := e.sleep(stopCtx, jitter(conflictBackoff<<(conflicts-1))); err != nil {
					return r, false
				}
				continue
			}
		}
		r.Outcome = provider.OutcomeFailed
		r.Error = redact.Text(err.Error())
		r.Kind = errs.KindOf(err)
		if callCtx.Err() != nil {
			r.Kind = errs.KindInterrupted
			r.Error = abortedInFlight
		}
		r.Time = e.now().UTC()
		return r, true
	}
}

// abortedInFlight is the error of a user whose call was cut off by a
// second interrupt: the IdP may or may not have acted.
const abortedInFlight = "aborted while the call was in flight; its effect is unknown, and --resume repeats it"

// afterAbort explains "nothing to revoke" for a user whose call in an
// earlier run was aborted in flight: that call most likely did the
// revocation, which the journal could not record, so the audit log's
// "nothing to revoke" is not the whole story.
func (e *Engine) afterAbort(user string, res *provider.RevokeUserResult) string {
	if e.Journal == nil || res.Outcome != provider.OutcomeNothingToRevoke {
		return res.Detail
	}
	last, ok := e.Journal.Last(user)
	// Kind is not journaled; the error text is.
	if !ok || last.Outcome != provider.OutcomeFailed || last.Error != abortedInFlight {
		return res.Detail
	}
	note := "the call of the earlier run for this user was aborted in flight and most likely revoked the tokens"
	if res.Detail == "" {
		return note
	}
	return res.Detail + "; " + note
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

// unreachableDelay is the pause before the n-th repeat (n from 1).
func unreachableDelay(n int) time.Duration {
	return min(unreachableBackoff<<(n-1), maxUnreachableBackoff)
}

// unreachableWait is the total of the pauses one user may wait.
func unreachableWait() time.Duration {
	var d time.Duration
	for n := 1; n <= maxUnreachable; n++ {
		d += unreachableDelay(n)
	}
	return d
}

// jitter spreads d over [d, 2d), so that workers whose changes collided do
// not collide again at the same instant.
func jitter(d time.Duration) time.Duration {
	return d + rand.N(d)
}
