package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
	"github.com/idpctl/idpctl/internal/sandbox"
)

func TestTokenGetCachesAcrossInvocationsAtOIDCProvider(t *testing.T) {
	t.Parallel()
	// Longer than the default --min-ttl of 60s, so tokens can be cached.
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	const cc = "client_credentials"

	// The subtests share the peer's counters, so they run one after another.
	t.Run("a second get makes no request", func(t *testing.T) {
		e := peerEnv(t, p, oidcpeer.ClientCCBasic)
		before := tokenCount(t, p, cc)
		first := getToken(t, e)
		second := getToken(t, e)
		if second != first {
			t.Error("the second get returned another token")
		}
		if n := tokenCount(t, p, cc) - before; n != 1 {
			t.Errorf("the peer counted %d token requests for two gets, want 1", n)
		}
	})
	t.Run("a --min-ttl longer than the token's remaining life forces a new token", func(t *testing.T) {
		e := peerEnv(t, p, oidcpeer.ClientCCBasic)
		first := getToken(t, e)
		before := tokenCount(t, p, cc)
		// The IdP's new token lives 10m too: the promise of --min-ttl 11m
		// cannot be kept, so nothing is printed and the command fails.
		wantExit(t, e, 1, "", "token", "get", "--min-ttl", "11m")
		if n := tokenCount(t, p, cc) - before; n != 1 {
			t.Errorf("the peer counted %d token requests for --min-ttl 11m, want 1", n)
		}
		if again := getToken(t, e); again == first {
			t.Error("the renewed token did not replace the cached one")
		}
		if n := tokenCount(t, p, cc) - before; n != 1 {
			t.Errorf("the get after the renewal made a request (%d in all)", n)
		}
	})
	t.Run("--no-cache forces a new token", func(t *testing.T) {
		e := peerEnv(t, p, oidcpeer.ClientCCBasic)
		first := getToken(t, e)
		before := tokenCount(t, p, cc)
		if fresh := getToken(t, e, "--no-cache"); fresh == first {
			t.Error("--no-cache returned the cached token")
		}
		if n := tokenCount(t, p, cc) - before; n != 1 {
			t.Errorf("the peer counted %d token requests for --no-cache, want 1", n)
		}
	})
}

// startSandbox runs the embedded IdP in the test process.
func startSandbox(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := sandbox.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := srv.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return srv
}

// sandboxEnv is an environment for a sandbox client; a confidential
// client's secret comes from a file.
func sandboxEnv(t testing.TB, srv *sandbox.Server, clientID string) *Env {
	t.Helper()
	c, ok := srv.Client(clientID)
	if !ok {
		t.Fatalf("the sandbox has no client %s", clientID)
	}
	e := newEnv(t)
	e.Set("IDPCTL_ISSUER", srv.Issuer()).Set("IDPCTL_CLIENT_ID", clientID)
	for _, other := range srv.Clients() {
		e.Secret(other.Secret)
	}
	if c.Secret != "" {
		e.Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "client-secret", c.Secret, true))
	} else {
		e.Set("IDPCTL_CLIENT_AUTH_METHOD", "none")
	}
	return e
}

func TestTokenGetCachesTokensAndDiscoveryAtTheSandbox(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	e := sandboxEnv(t, srv, sandbox.ServiceClientID)
	requests := func() (discovery, token int) {
		return srv.Requests(sandbox.PathOpenIDConfiguration) + srv.Requests(sandbox.PathOAuthMetadata), srv.Requests(sandbox.PathToken)
	}
	check := func(t *testing.T, what string, wantDiscovery, wantToken int) {
		t.Helper()
		if d, tok := requests(); d != wantDiscovery || tok != wantToken {
			t.Errorf("%s: the sandbox saw %d discovery and %d token requests in all, want %d and %d", what, d, tok, wantDiscovery, wantToken)
		}
	}

	first := getToken(t, e)
	check(t, "first get", 1, 1)

	if second := getToken(t, e); second != first {
		t.Error("the second get returned another token")
	}
	check(t, "second get", 1, 1)

	if fresh := getToken(t, e, "--no-cache"); fresh == first {
		t.Error("--no-cache returned the cached token")
	}
	check(t, "get --no-cache", 1, 2)

	// Another profile has no token cached, but the issuer's discovery
	// document is cached per issuer, in the cache directory.
	cold := e.WithNewProfile(t)
	getToken(t, cold)
	check(t, "cold get of another profile", 1, 3)
}
