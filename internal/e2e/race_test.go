package e2e

import (
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// TestRaceOfConcurrentGetsForAnExpiredTokenRefreshesItOnce is the credential store
// race: many CI jobs ask for a token the moment it has expired. At an IdP
// that rotates refresh tokens and revokes the whole grant when one is
// reused (oidc-provider, RFC 9700 §4.14.2), two refreshes with the same
// refresh token would log everybody out. It runs alone: 32 processes on a
// small machine need it to themselves.
func TestRaceOfConcurrentGetsForAnExpiredTokenRefreshesItOnce(t *testing.T) {
	const (
		processes = 32
		ttl       = 6 * time.Second
	)
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: ttl})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_SCOPES", loginScopes)
	login(t, e, p.FollowAuthorization, "--scope", loginScopes)
	time.Sleep(ttl + 500*time.Millisecond)
	p.Reset(t)

	// --min-ttl below the token's life, so the token one process refreshed
	// is good enough for the others.
	began := time.Now()
	procs := make([]*Proc, processes)
	for i := range procs {
		procs[i] = start(t, e, "", "token", "get", "--min-ttl", "1s")
	}
	var first string
	for i, proc := range procs {
		r := proc.waitResult(runTimeout)
		if r.Code != 0 {
			t.Errorf("process %d of %d failed\n%s", i+1, processes, r)
			continue
		}
		tok := tokenLine(t, r)
		e.Secret(tok)
		if first == "" {
			first = tok
		} else if tok != first {
			t.Errorf("process %d printed another token than process 1: more than one refresh", i+1)
		}
	}

	t.Logf("%d concurrent token gets of an expired token finished in %s", processes, time.Since(began).Round(time.Millisecond))
	s := p.Stats(t)
	if n := s.TokenRequests["refresh_token"]; n != 1 || totalTokenRequests(s) != 1 {
		t.Errorf("the peer counted %v token requests for %d concurrent gets, want exactly one refresh_token", s.TokenRequests, processes)
	}
	if s.GrantsRevoked != 0 {
		t.Errorf("the peer revoked %d grants: a rotated refresh token was reused", s.GrantsRevoked)
	}
	if rep := refreshJSON(t, e); rep.Status != "refreshed" || !rep.Rotated {
		t.Errorf("a refresh after the race: status %q rotated %v", rep.Status, rep.Rotated)
	}
}

func TestRaceLockOfAKilledGetDoesNotBlockTheNext(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	hang := hostileIdP(t, "", func(w http.ResponseWriter, r *http.Request) {
		// With the body read, the server notices the client going away.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case arrived <- struct{}{}:
		default:
		}
		// Never answer.
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	// Registered after the server's own clean-up, so it runs before it.
	t.Cleanup(func() { close(release) })
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})

	// One profile, first pointed at the hanging IdP, then at a real one:
	// the refresh lock belongs to the profile.
	stuck := hostileEnv(t, hang).Set("IDPCTL_STORE", suiteStore(t))
	next := stuck.Clone().Set("IDPCTL_ISSUER", p.Issuer).Set("IDPCTL_CLIENT_ID", oidcpeer.ClientCCBasic).
		Set("IDPCTL_CLIENT_SECRET_FILE", stuck.WriteFile(t, "cc-basic-secret", p.Secrets[oidcpeer.ClientCCBasic], true))

	holder := start(t, stuck, "", "token", "get")
	select {
	case <-arrived:
	case <-holder.Done():
		t.Fatalf("the first get ended before its token request\n%s", holder.result())
	case <-time.After(30 * time.Second):
		t.Fatal("the first get never reached the token endpoint")
	}

	waiter := start(t, next, "", "token", "get")
	select {
	case <-waiter.Done():
		t.Fatalf("the second get did not wait for the lock the first one holds\n%s", waiter.result())
	case <-time.After(time.Second):
	}

	holder.Signal(syscall.SIGKILL)
	<-holder.Done()
	killed := time.Now()
	r := waiter.waitResult(runTimeout)
	if r.Code != 0 {
		t.Fatalf("the get after the kill failed\n%s", r)
	}
	tokenLine(t, r)
	if d := time.Since(killed); d > 5*time.Second {
		t.Errorf("the get took %s after the lock holder was killed", d)
	}
}
