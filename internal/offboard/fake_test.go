package offboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// fakeAPI is a loopback admin API that revokes a user's tokens on
// DELETE /users/{id}/tokens and admits limit calls per wall-clock second,
// answering 429 with Okta-style X-Rate-Limit-* headers and Retry-After
// beyond that (limit 0: no limit).
type fakeAPI struct {
	limit   int
	latency time.Duration
	fail    func(user string) bool
	unknown func(user string) bool
	// conflict, when it returns true for the user's n-th call (from 1),
	// answers as Hydra does when the user's deletes overlap another
	// transaction: HTTP 400 with the herodot error of ory/x
	// sqlcon.ErrConcurrentUpdate. The IdP did nothing.
	conflict  func(user string, n int) bool
	calls     map[string]int
	conflicts int

	mu        sync.Mutex
	window    int64
	used      int
	processed map[string]int
	limited   int
	requests  int
	srv       *httptest.Server
	errors    []string
}

func newFakeAPI(t testing.TB, limit int) *fakeAPI {
	f := &fakeAPI{limit: limit, processed: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, e := range f.errors {
			t.Errorf("fake API: %s", e)
		}
	})
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	user, ok := strings.CutPrefix(r.URL.Path, "/users/")
	user, ok2 := strings.CutSuffix(user, "/tokens")
	if r.Method != http.MethodDelete || !ok || !ok2 || r.Header.Get("Authorization") != "SSWS test-token" {
		f.mu.Lock()
		f.errors = append(f.errors, fmt.Sprintf("unexpected %s %s auth=%q", r.Method, r.URL.Path, r.Header.Get("Authorization")))
		f.mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
		return
	}
	now := time.Now()
	f.mu.Lock()
	f.requests++
	sec := now.Unix()
	if sec != f.window {
		f.window, f.used = sec, 0
	}
	if f.limit > 0 {
		reset := strconv.FormatInt(sec+1, 10)
		w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(f.limit))
		w.Header().Set("X-Rate-Limit-Reset", reset)
		if f.used >= f.limit {
			f.limited++
			f.mu.Unlock()
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`)
			return
		}
		f.used++
		w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(f.limit-f.used))
	}
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[user]++
	if f.conflict != nil && f.conflict(user, f.calls[user]) {
		f.conflicts++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"code":400,"status":"Bad Request","message":"Unable to serialize access due to a concurrent update in another session"}}`)
		return
	}
	f.processed[user]++
	f.mu.Unlock()
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	switch {
	case f.fail != nil && f.fail(user):
		w.WriteHeader(http.StatusInternalServerError)
	case f.unknown != nil && f.unknown(user):
		w.WriteHeader(http.StatusNotFound)
	default:
		w.Header().Set("X-Request-Id", "req-"+user)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (f *fakeAPI) counts() (processed map[string]int, requests, limited int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.processed))
	for k, v := range f.processed {
		out[k] = v
	}
	return out, f.requests, f.limited
}

// testRevoker is a minimal adapter over env.Send, written the way the
// vendor adapters are: every answer's headers go to env.Observe.
type testRevoker struct{ env *provider.Env }

// observedBy wires the adapter's answers to the run's limiter, as the
// factory does for a bulk run.
func (r *testRevoker) observedBy(lim *Limiter) *Limiter {
	r.env.Observe = func(_ context.Context, h http.Header) { lim.Observe(h) }
	return lim
}

func newTestRevoker(t testing.TB, base string) *testRevoker {
	// No retries inside the HTTP client: the engine's shared pause is
	// what is under test.
	hc, err := httpx.New(httpx.Options{MaxRetries: -1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &testRevoker{env: &provider.Env{BaseURL: base, HTTP: hc, Auth: &provider.AdminAuth{Scheme: provider.AuthSSWS, Secret: "test-token"}}}
}

func (r *testRevoker) Name() string { return "test" }

func (r *testRevoker) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	return []provider.Call{{Method: http.MethodDelete, Path: "/users/" + req.User + "/tokens", Purpose: "revoke every token"}}, nil
}

func (r *testRevoker) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	resp, err := r.env.Send(ctx, httpx.Request{Method: http.MethodDelete, URL: r.env.BaseURL + "/users/" + req.User + "/tokens", RetryRateLimited: true})
	if err != nil {
		return nil, err
	}
	switch resp.Status {
	case http.StatusNoContent:
		return &provider.RevokeUserResult{User: req.User, Outcome: provider.OutcomeRevoked, RequestID: provider.RequestID(resp.Header), StillValid: "up to 1h"}, nil
	case http.StatusNotFound:
		return &provider.RevokeUserResult{User: req.User, Outcome: provider.OutcomeUserNotFound}, nil
	case http.StatusTooManyRequests:
		return nil, provider.StatusError("revoking "+req.User, resp, "")
	default:
		return nil, provider.StatusError("revoking "+req.User, resp, "")
	}
}

var _ provider.UserTokenRevoker = (*testRevoker)(nil)

func userIDs(n int) []string {
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("u%04d", i)
	}
	return users
}
