package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// followKeepingCode plays the browser like Peer.FollowAuthorization and
// also hands the authorization code it carries to the CLI's redirect
// listener to codes, so the test knows a secret only the browser sees.
func followKeepingCode(issuer string, codes chan<- string) func(context.Context, string) error {
	return func(ctx context.Context, authURL string) error {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return err
		}
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		next := authURL
		for range 20 {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
			if err != nil {
				return err
			}
			resp, err := c.Do(req)
			if err != nil {
				return fmt.Errorf("get %s: %w", req.URL.Path, err)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
			if !strings.HasPrefix(next, issuer+"/") {
				// That was the CLI's loopback listener.
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("the redirect listener answered %d", resp.StatusCode)
				}
				return nil
			}
			loc, err := resp.Location()
			if err != nil {
				return fmt.Errorf("%s answered %d without a redirect", req.URL.Path, resp.StatusCode)
			}
			if code := loc.Query().Get("code"); code != "" && !strings.HasPrefix(loc.String(), issuer+"/") {
				codes <- code
			}
			next = loc.String()
		}
		return errors.New("too many redirects")
	}
}

// fileStoreRecord decodes one cached item of the profile from the file
// store, as a user with access to the file could.
func fileStoreRecord(t testing.TB, e *Env, kind string) map[string]any {
	t.Helper()
	raw := mustRead(t, filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "credentials.json"))
	var doc struct {
		Items map[string][]byte `json:"items"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse the file store: %v", err)
	}
	var rec map[string]any
	if err := json.Unmarshal(doc.Items[e.Get("IDPCTL_PROFILE")+":"+kind], &rec); err != nil {
		t.Fatalf("the cached %s is unreadable: %v", kind, err)
	}
	return rec
}

// learnCachedTokens records as secrets every token the profile has cached.
func learnCachedTokens(t testing.TB, e *Env) {
	t.Helper()
	at := fileStoreRecord(t, e, "access_token")
	rt := fileStoreRecord(t, e, "refresh_token")
	for _, v := range []any{at["access_token"], at["id_token"], rt["refresh_token"]} {
		if s, ok := v.(string); ok {
			e.Secret(s)
		}
	}
}

// redactedParam matches a secret form parameter in the trace; its value
// must be the mask.
var redactedParam = regexp.MustCompile(`(?:^|[\s&?])(client_secret|client_assertion|assertion|code|code_verifier|refresh_token|access_token|id_token|token|subject_token|device_code)=([^&\s]*)`)

// redactedMember matches a secret JSON member in the trace.
var redactedMember = regexp.MustCompile(`"(access_token|refresh_token|id_token|client_secret|d|p|q|dp|dq|qi|k)"\s*:\s*"([^"]*)"`)

func TestDebugTraceShowsTheTrafficButNoSecret(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	var traces []string
	trace := func(t *testing.T, e *Env, stdin string, args ...string) Result {
		t.Helper()
		r := mustRun(t, e, stdin, append(args, "--debug")...)
		traces = append(traces, r.Stderr)
		return r
	}

	// A confidential CLI client whose secret comes from the environment;
	// the file store lets the test learn the tokens it must not see.
	e := peerEnv(t, p, oidcpeer.ClientCLIConfidential).Set("IDPCTL_STORE", "file").Set("IDPCTL_SCOPES", loginScopes)
	e.Unset("IDPCTL_CLIENT_SECRET_FILE").Set("IDPCTL_CLIENT_SECRET", p.Secrets[oidcpeer.ClientCLIConfidential])

	codes := make(chan string, 1)
	proc := start(t, e, "", "login", "--no-browser", "--scope", loginScopes, "--debug")
	m := proc.waitStderr(authURLLine, 30*time.Second)
	browser := browse(followKeepingCode(p.Issuer, codes), m[1])
	r := proc.waitResult(runTimeout)
	if err := <-browser; err != nil || r.Code != 0 {
		t.Fatalf("login: browser %v\n%s", err, r)
	}
	traces = append(traces, r.Stderr)
	select {
	case code := <-codes:
		e.Secret(code)
	default:
		t.Fatal("the browser saw no authorization code")
	}
	learnCachedTokens(t, e)

	e.Secret(tokenLine(t, trace(t, e, "", "token", "get", "--no-cache")))
	learnCachedTokens(t, e)
	trace(t, e, "", "token", "refresh")
	learnCachedTokens(t, e)
	access := fileStoreRecord(t, e, "access_token")["access_token"].(string)
	trace(t, e, access+"\n", "token", "inspect", "--introspect", "-")
	trace(t, e, "", "token", "revoke")

	// Client assertions signed with the secret and with private keys, and
	// a user assertion for the JWT bearer grant.
	secretJWT := peerEnv(t, p, oidcpeer.ClientCCSecretJWT).Set("IDPCTL_STORE", "memory")
	e.Secret(tokenLine(t, trace(t, secretJWT, "", "token", "get", "--client-auth", "client_secret_jwt")))
	for _, alg := range []string{"RS256", "ES256"} {
		keyEnv := peerEnv(t, p, oidcpeer.ClientCCPrivateJWT).Set("IDPCTL_STORE", "memory")
		jwk := keyEnv.WriteFile(t, "key.jwk", string(p.PrivateKeyJWK[alg]), true)
		e.Secret(tokenLine(t, trace(t, keyEnv, "", "token", "get", "--client-auth", "private_key_jwt", "--private-key-file", jwk)))
	}
	bearer := peerEnv(t, p, oidcpeer.ClientExchanger).Set("IDPCTL_STORE", "memory")
	e.Secret(tokenLine(t, trace(t, bearer, "", append([]string{"token", "get"}, bearerArgs(p, "--scope", "profile")...)...)))

	all := strings.Join(traces, "\n")
	for _, want := range []string{"-> POST " + p.Issuer + "/token", "-> POST " + p.Issuer + "/token/introspection", "-> POST " + p.Issuer + "/token/revocation", "Authorization: Basic [redacted]"} {
		if !strings.Contains(all, want) {
			t.Errorf("the trace lacks %q", want)
		}
	}
	secrets := e.Secrets()
	if len(secrets) < 20 {
		t.Fatalf("the test learnt only %d secrets; it would prove little", len(secrets))
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the trace shows a secret of %d characters", len(s))
		}
	}
	if jwtShape.MatchString(all) {
		t.Error("the trace shows a JWT")
	}
	for _, m := range redactedParam.FindAllStringSubmatch(all, -1) {
		if m[2] != "[redacted]" {
			t.Errorf("the trace shows the form parameter %s unredacted", m[1])
		}
	}
	for _, m := range redactedMember.FindAllStringSubmatch(all, -1) {
		if m[2] != "[redacted]" {
			t.Errorf("the trace shows the JSON member %q unredacted", m[1])
		}
	}
	if t.Failed() {
		t.Logf("trace:\n%s", all)
	}
}

// TestTheArgvGuardCatchesASecret shows that the guard every invocation
// goes through would notice a secret on the command line.
func TestTheArgvGuardCatchesASecret(t *testing.T) {
	t.Parallel()
	secrets := []string{"s3cr3t-value-of-a-client"}
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"token", "get", "--client-secret-file", "/run/secret"}, -1},
		{[]string{"token", "inspect", "s3cr3t-value-of-a-client"}, 2},
		{[]string{"token", "get", "--audience=x-s3cr3t-value-of-a-client-y"}, 2},
	}
	for _, c := range cases {
		if got := argvLeak(c.args, secrets); got != c.want {
			t.Errorf("argvLeak(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
