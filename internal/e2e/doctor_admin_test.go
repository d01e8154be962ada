package e2e

// doctor's admin API checks, run by the built binary against a Keycloak
// contract fake: reachable, the admin credential obtains a token, and the
// credential may read; each failure says what to fix.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/ciscoucm/ucmfake"
	"github.com/idpctl/idpctl/internal/provider/keycloak/keycloakfake"
)

// doctorRows returns doctor's JSON checks by name.
func doctorRows(t *testing.T, r Result) map[string]map[string]any {
	t.Helper()
	var list []map[string]any
	dec := strings.TrimSpace(r.Stdout)
	if err := json.Unmarshal([]byte(dec), &list); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, r)
	}
	out := map[string]map[string]any{}
	for _, c := range list {
		out[field(c, "name")] = c
	}
	return out
}

func TestDoctorChecksTheAdminAPI(t *testing.T) {
	t.Parallel()
	f := keycloakfake.New(t, "acme")
	t.Cleanup(f.Close)
	noViolations(t, "keycloak", f.Errors)
	f.AddClient("wiki", nil)
	// The profile's issuer serves discovery (the Keycloak fake serves only
	// the admin API and the token endpoint), so that doctor's other checks
	// pass and the admin lines decide the exit status.
	var disco *httptest.Server
	disco = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": disco.URL, "authorization_endpoint": disco.URL + "/auth", "token_endpoint": disco.URL + "/token",
			"jwks_uri": disco.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	t.Cleanup(disco.Close)
	settings := []string{"url=" + f.URL, "realm=acme", "client_id=" + f.AdminClientID}

	t.Run("a working admin API passes every line", func(t *testing.T) {
		e := adminEnv(t, "keycloak", disco.URL, f.AdminSecret, viaFile, settings...)
		r := run(t, e, "", "doctor", "-o", "json")
		rows := doctorRows(t, r)
		for _, name := range []string{"admin API", "admin credential", "admin permissions"} {
			if field(rows[name], "status") != "ok" {
				t.Errorf("%s: %v\n%s", name, rows[name], r)
			}
		}
		if !strings.Contains(field(rows["admin credential"], "detail"), "obtained an admin token") || !strings.Contains(field(rows["admin permissions"], "detail"), "manage-users") {
			t.Errorf("details do not say what was proved and what revoking needs\n%s", r)
		}
		if r.Code != 0 {
			t.Errorf("want exit 0\n%s", r)
		}
	})
	t.Run("a wrong admin secret fails the credential line with the fix", func(t *testing.T) {
		e := adminEnv(t, "keycloak", disco.URL, "not-the-secret-at-all", viaFile, settings...)
		r := run(t, e, "", "doctor", "-o", "json")
		rows := doctorRows(t, r)
		if c := rows["admin credential"]; field(c, "status") != "fail" || !strings.Contains(field(c, "detail"), "fix:") {
			t.Errorf("admin credential: %v\n%s", c, r)
		}
		if field(rows["admin permissions"], "status") != "skip" || r.Code != 4 {
			t.Errorf("want the permissions skipped and exit 4\n%s", r)
		}
	})
	t.Run("an unreachable admin API fails the first line with the fix", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		e := adminEnv(t, "keycloak", disco.URL, f.AdminSecret, viaFile, "url="+dead.URL, "realm=acme", "client_id="+f.AdminClientID)
		r := run(t, e, "", "doctor", "-o", "json")
		rows := doctorRows(t, r)
		if c := rows["admin API"]; field(c, "status") != "fail" || !strings.Contains(field(c, "detail"), "fix: check the admin url") {
			t.Errorf("admin API: %v\n%s", c, r)
		}
		if r.Code != 5 {
			t.Errorf("want exit 5\n%s", r)
		}
	})
	// Cisco UCM's "app list" is the cluster and makes no call, so doctor
	// proves the AXL credential with AXL getCCMVersion instead of
	// claiming a listing it never made.
	t.Run("cisco-ucm is checked with a real AXL call", func(t *testing.T) {
		ucm := ucmfake.New(t)
		t.Cleanup(ucm.Close)
		noViolations(t, "cisco-ucm", ucm.Errors)
		profile := func(secret string) *Env {
			return adminEnv(t, "cisco-ucm", disco.URL, secret, viaFile, "url="+ucm.URL, "user="+ucm.User)
		}
		r := run(t, profile(ucm.Password), "", "doctor", "-o", "json")
		perms := doctorRows(t, r)["admin permissions"]
		if field(perms, "status") != "ok" || !strings.Contains(field(perms, "detail"), "Unified CM "+ucmfake.Version) || r.Code != 0 {
			t.Errorf("admin permissions: %v\n%s", perms, r)
		}
		calls := 0
		for _, req := range ucm.Requests() {
			if req.Path == "/axl/" && req.Header.Get("SOAPAction") == `"CUCM:DB ver=12.5 getCCMVersion"` {
				calls++
			}
		}
		if calls != 1 {
			t.Errorf("%d getCCMVersion calls, want 1", calls)
		}
		ucm.FailAXLNext(ucmfake.Fail403, 1)
		r = run(t, profile(ucm.Password), "", "doctor", "-o", "json")
		perms = doctorRows(t, r)["admin permissions"]
		if field(perms, "status") != "fail" || !strings.Contains(field(perms, "detail"), "fix: grant an application user with AXL API access") || r.Code == 0 {
			t.Errorf("a refused AXL user: %v\n%s", perms, r)
		}
		// A profile for key rotation over SSH only has no AXL to call:
		// the admin API line must not claim an answer.
		sshOnly := adminEnv(t, "cisco-ucm", disco.URL, ucm.Password, viaFile, "ssh_host=127.0.0.1:9", "user="+ucm.User)
		r = run(t, sshOnly, "", "doctor", "--admin-only", "-o", "json")
		if api := doctorRows(t, r)["admin API"]; field(api, "status") != "skip" || !strings.Contains(field(api, "detail"), "not called") {
			t.Errorf("an SSH-only profile: %v\n%s", api, r)
		}
		r = run(t, profile("wrong-"+ucm.Password), "", "doctor", "-o", "json")
		perms = doctorRows(t, r)["admin permissions"]
		if field(perms, "status") != "fail" || !strings.Contains(field(perms, "detail"), "does not accept the credential") {
			t.Errorf("a wrong AXL password: %v\n%s", perms, r)
		}
	})
	t.Run("a profile without a provider has no admin lines", func(t *testing.T) {
		e := newEnv(t).Set("IDPCTL_ISSUER", disco.URL).Set("IDPCTL_CLIENT_ID", "wiki")
		rows := doctorRows(t, run(t, e, "", "doctor", "-o", "json"))
		if _, ok := rows["admin API"]; ok {
			t.Errorf("admin lines without a provider: %v", rows)
		}
	})
}
