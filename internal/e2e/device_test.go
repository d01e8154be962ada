package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// userCodeLine is how `login --device` tells the user what to enter
// (RFC 8628 §3.3).
var userCodeLine = regexp.MustCompile(`open (\S+) and enter the code (\S+)`)

func TestDeviceLoginCompletesWhenTheUserEntersTheCode(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	// A device-flow profile: token get looks for what the device login cached.
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).
		Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_FLOW", "device").Set("IDPCTL_SCOPES", loginScopes)

	proc := start(t, e, "", "login", "--device")
	m := proc.waitStderr(userCodeLine, 30*time.Second)
	if !strings.HasPrefix(m[1], p.Issuer+"/") {
		t.Errorf("verification URI %q is not at the issuer", m[1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.SubmitUserCode(ctx, m[2]); err != nil {
		t.Fatalf("entering the user code: %v", err)
	}
	r := proc.waitResult(runTimeout)
	if r.Code != 0 || !strings.Contains(r.Stderr, "Logged in") {
		t.Fatalf("the device login did not complete\n%s", r)
	}
	if n := tokenCount(t, p, oidcpeer.GrantTypeDeviceCode); n < 1 {
		t.Errorf("the peer counted no device_code token request")
	}

	before := totalTokenRequests(p.Stats(t))
	tok := getToken(t, e)
	if n := totalTokenRequests(p.Stats(t)) - before; n != 0 {
		t.Errorf("token get after the device login made %d token requests, want the cached token", n)
	}
	rep, ir := inspectJSON(t, e, tok, "--introspect")
	if ir.Code != 0 || rep.Introspection["sub"] != oidcpeer.AccountID {
		t.Errorf("the device login's token is not %s's: %v\n%s", oidcpeer.AccountID, rep.Introspection, ir)
	}
}

func TestAnExpiredDeviceCodeEndsTheLoginWithExitCode3(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{DeviceCodeTTL: 2 * time.Second})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_STORE", "memory")

	proc := start(t, e, "", "login", "--device", "--scope", loginScopes)
	proc.waitStderr(userCodeLine, 30*time.Second)
	// Nobody enters the code.
	r := proc.waitResult(runTimeout)
	if r.Code != 3 {
		t.Fatalf("want exit 3 (login required)\n%s", r)
	}
	if !strings.Contains(r.Stderr, "expired") {
		t.Errorf("the message should say the code expired:\n%s", r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("stdout %q, want nothing", r.Stdout)
	}
}
