package e2e

// The admin half against the sandbox's admin API, through the built
// binary: what `token revoke --user`, `app expiry set` and `key regen`
// report must be what the sandbox's token endpoints then do.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/sandbox"
)

// sandboxAdminEnv is a profile of the sandbox's confidential client with
// the sandbox provider and its admin credential in a 0600 file.
func sandboxAdminEnv(t *testing.T, srv *sandbox.Server) *Env {
	t.Helper()
	e := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_PROVIDER", "sandbox")
	e.Secret(srv.AdminSecret())
	return e.Set("IDPCTL_ADMIN_SECRET_FILE", e.WriteFile(t, "admin-secret", srv.AdminSecret(), true))
}

func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	var m map[string]any
	if err != nil || json.Unmarshal(raw, &m) != nil {
		t.Fatalf("not a JWT")
	}
	return m
}

func TestSandboxAdminRevokeUserEndsTheRefreshTokenAndIntrospectionSaysInactive(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	e := sandboxAdminEnv(t, srv).Set("IDPCTL_SCOPES", loginScopes)
	login(t, e, srv.FollowAuthorization, "--scope", loginScopes)
	access := getToken(t, e)

	plan := mustRun(t, e, "", "token", "revoke", "--user", sandbox.DemoSubject, "--dry-run")
	if !strings.Contains(plan.Stdout, "DELETE /admin/users/demo-user/tokens") {
		t.Errorf("the plan does not show the call\n%s", plan)
	}
	if g, _ := srv.Grants(sandbox.DemoSubject); g.RefreshTokens != 1 {
		t.Fatalf("the dry run changed the sandbox: %+v", g)
	}
	r := mustRun(t, e, "", "token", "revoke", "--user", sandbox.DemoSubject, "--yes", "-o", "json")
	res := jsonObject(t, r)
	if field(res, "result") != "revoked" || !strings.Contains(field(res, "detail"), "1 refresh token, 1 access token and 1 session ended") {
		t.Fatalf("result %v\n%s", res, r)
	}
	if g, _ := srv.Grants(sandbox.DemoSubject); g.RefreshTokens+g.AccessTokens+g.Sessions != 0 {
		t.Fatalf("the sandbox still holds %+v", g)
	}
	// The user's next refresh fails: invalid_grant is exit 3.
	if r := wantExit(t, e, 3, "", "token", "refresh"); !strings.Contains(r.Stderr, "invalid_grant") {
		t.Errorf("the refresh failure does not name invalid_grant\n%s", r)
	}
	// Exit 1 with the report on stdout: the token verifies, the IdP says no.
	ins := run(t, e, access+"\n", "token", "inspect", "--introspect", "-", "-o", "json")
	if ins.Code != 1 {
		t.Fatalf("want exit 1\n%s", ins)
	}
	var rep struct {
		Introspection map[string]any `json:"introspection"`
		Signature     struct{ Verified bool }
	}
	if err := json.Unmarshal([]byte(ins.Stdout), &rep); err != nil || rep.Introspection["active"] != false || !rep.Signature.Verified {
		t.Fatalf("introspection after revocation %+v (%v)\n%s", rep, err, ins)
	}
}

func TestSandboxAdminExpirySetChangesTheNextTokensLifetime(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	e := sandboxAdminEnv(t, srv)
	get := jsonObject(t, mustRun(t, e, "", "app", "expiry", "get", sandbox.ServiceClientID, "-o", "json"))
	if field(get, "access_token", "native") != "300 seconds" {
		t.Fatalf("expiry get %v", get)
	}
	mustRun(t, e, "", "app", "expiry", "set", sandbox.ServiceClientID, "--access-token", "90s", "--yes")
	claims := jwtPart(t, getToken(t, e, "--no-cache"), 1)
	if life := claims["exp"].(float64) - claims["iat"].(float64); life != 90 {
		t.Fatalf("a token issued after 'app expiry set --access-token 90s' lives %vs", life)
	}
}

func TestSandboxAdminKeyRegenSignsNewTokensWithTheNewKey(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	e := sandboxAdminEnv(t, srv)
	oldKID := jwtPart(t, getToken(t, e, "--no-cache"), 0)["kid"]
	r := mustRun(t, e, "", "key", "regen", "authz", "signing", "--yes", "-o", "json")
	var res struct {
		NewKID    string `json:"new_kid"`
		Published *bool  `json:"published"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || res.NewKID == "" || res.NewKID == oldKID || res.Published == nil || !*res.Published {
		t.Fatalf("key regen %+v (%v)\n%s", res, err, r)
	}
	tok := getToken(t, e, "--no-cache")
	if kid := jwtPart(t, tok, 0)["kid"]; kid != res.NewKID {
		t.Fatalf("a new token is signed by %v, want %s", kid, res.NewKID)
	}
	ins := mustRun(t, e, tok+"\n", "token", "inspect", "-")
	if !verifiedYes.MatchString(ins.Stdout) || !strings.Contains(ins.Stdout, res.NewKID) {
		t.Errorf("token inspect does not verify the new key's token\n%s", ins)
	}
	enc := mustRun(t, e, "", "key", "regen", "authz", "encryption", "--yes", "-o", "json")
	var encRes struct {
		NewKID    string `json:"new_kid"`
		Published bool   `json:"published"`
	}
	if json.Unmarshal([]byte(enc.Stdout), &encRes) != nil || !encRes.Published || encRes.NewKID == "" {
		t.Errorf("the new encryption key was not seen published\n%s", enc.String())
	}
}

// envLine is one line `sandbox -o env` prints.
var envLine = regexp.MustCompile(`(?m)^export (IDPCTL_[A-Z_]+)=(\S+)$`)

func TestSandboxCommandSeedsUsersForABulkRevocationWithItsEnvOutput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := start(t, e, "", "sandbox", "--users", "5", "-o", "env", "--addr", "127.0.0.1:0")
	sb.waitStdout(regexp.MustCompile(`(?m)^export IDPCTL_ADMIN_SECRET=\S+$`), 30*time.Second)
	vars := map[string]string{}
	for _, m := range envLine.FindAllStringSubmatch(sb.result().Stdout, -1) {
		vars[m[1]] = m[2]
	}
	for _, k := range []string{"IDPCTL_ISSUER", "IDPCTL_CLIENT_ID", "IDPCTL_CLIENT_SECRET", "IDPCTL_PROVIDER", "IDPCTL_ADMIN_URL", "IDPCTL_ADMIN_AUTH", "IDPCTL_ADMIN_SECRET"} {
		if vars[k] == "" {
			t.Fatalf("sandbox -o env does not set %s:\n%s", k, sb.result().Stdout)
		}
	}
	if vars["IDPCTL_PROVIDER"] != "sandbox" || vars["IDPCTL_ADMIN_URL"] != vars["IDPCTL_ISSUER"]+"/admin" || vars["IDPCTL_ADMIN_AUTH"] != "bearer" {
		t.Fatalf("provider %q, admin url %q, auth %q", vars["IDPCTL_PROVIDER"], vars["IDPCTL_ADMIN_URL"], vars["IDPCTL_ADMIN_AUTH"])
	}
	e.Secret(vars["IDPCTL_CLIENT_SECRET"], vars["IDPCTL_ADMIN_SECRET"])
	for k, v := range vars {
		e.Set(k, v)
	}
	var list strings.Builder
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&list, "%s\n", sandbox.SeededUser(i))
	}
	list.WriteString("nobody\n")
	file := e.WriteFile(t, "leavers.txt", list.String(), false)
	r := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json")
	// A leaver the IdP does not know is a failure of the run (exit 8),
	// never a silent success.
	if r.Code != 8 || !strings.Contains(r.Stderr, "not found") {
		t.Fatalf("want exit 8 naming the user not found\n%s", r)
	}
	results := map[string]string{}
	for _, l := range jsonLines(t, r.Stdout) {
		results[field(l, "user")] = field(l, "result") + ": " + field(l, "detail")
	}
	for i := 1; i <= 5; i++ {
		if got := results[sandbox.SeededUser(i)]; got != "revoked: 1 refresh token, 1 access token and 1 session ended" {
			t.Errorf("%s: %q", sandbox.SeededUser(i), got)
		}
	}
	if !strings.HasPrefix(results["nobody"], "user not found") {
		t.Errorf("nobody: %q", results["nobody"])
	}
	// A second run finds nothing left: the first one really ended them.
	again := run(t, e, "", "token", "revoke", "--users-file", file, "--yes", "-o", "json")
	for _, l := range jsonLines(t, again.Stdout) {
		if u := field(l, "user"); u != "nobody" && field(l, "result") != "nothing to revoke" {
			t.Errorf("%s after the first run: %v", u, l)
		}
	}
	sb.Signal(syscall.SIGTERM)
	if r := sb.waitResult(10 * time.Second); r.Code != 0 {
		t.Errorf("the sandbox did not stop cleanly\n%s", r)
	}
}
