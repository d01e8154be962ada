package e2e

// The admin commands (token revoke --user, app expiry get|set, key list,
// key regen, audit) run by the built binary against each vendor's
// contract fake: the profile is written by 'profile add', the admin
// secret never passes through argv, and every assertion is made on what
// reached the fake and on what the fake then holds.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/auth0/auth0fake"
	"github.com/idpctl/idpctl/internal/provider/ciscoucm/ucmfake"
	"github.com/idpctl/idpctl/internal/provider/hydra/hydrafake"
	"github.com/idpctl/idpctl/internal/provider/keycloak/keycloakfake"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
	"github.com/idpctl/idpctl/internal/provider/oracle/oraclefake"
)

// requestsTo counts recorded requests whose method and path match;
// an empty method matches any.
func requestsTo[R any](reqs []R, get func(R) (method, path string), method, path string) int {
	n := 0
	for _, r := range reqs {
		m, p := get(r)
		if (method == "" || m == method) && p == path {
			n++
		}
	}
	return n
}

func hydraReq(r hydrafake.Request) (string, string) { return r.Method, r.Path }

// hydraIDTokenSet is the key set Hydra signs ID tokens with, the one
// 'key regen authz signing' rotates by default.
const hydraIDTokenSet = "hydra.openid.id-token"

func TestHydraAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := hydrafake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "hydra", f.Errors)
	// Ory Network's project API key; the open-source admin port takes none.
	const apiKey = "ory_pat_e2eHydraProjectKey0123456789"
	f.RequireToken(apiKey)
	f.AddClient("payroll", map[string]any{
		"client_name": "Payroll", "metadata": map[string]any{"team": "hr"},
		"client_credentials_grant_access_token_lifespan": "15m0s",
		"authorization_code_grant_id_token_lifespan":     "1h0m0s",
	})
	f.AddClient("wiki", nil)
	for _, subject := range []string{"alice", "bob"} {
		f.AddConsent(subject, "payroll")
		f.AddConsent(subject, "wiki")
	}
	f.AddLoginSession("alice")
	oldKID := f.AddKey(hydraIDTokenSet)
	// A trailing /admin on the admin url is accepted and dropped.
	s := &adminSession{provider: "hydra", e: adminEnv(t, "hydra", f.URL, apiKey, viaStdin, "url="+f.URL+"/admin", "auth=bearer")}
	requests := func() int { return len(f.Requests()) }
	writes := func() int {
		n := 0
		for _, r := range f.Requests() {
			if r.Method != http.MethodGet {
				n++
			}
		}
		return n
	}

	t.Run("a dry run prints the calls and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "alice", nil,
			"GET /admin/oauth2/auth/sessions/consent?subject=alice",
			"DELETE /admin/oauth2/auth/sessions/consent?all=true&subject=alice")
	})
	t.Run("without a terminal and without --yes nothing is sent", func(t *testing.T) {
		s.needsYes(t, requests, "alice")
		if got := f.Consents("alice"); len(got) != 2 {
			t.Errorf("alice's consents changed: %v", got)
		}
	})
	t.Run("--yes revokes every consent session of the subject", func(t *testing.T) {
		res := s.revoke(t, "alice")
		wantResult(t, res, "revoked")
		if field(res, "request_id") == "" {
			t.Errorf("no request id, though Hydra sent X-Request-Id: %v", res)
		}
		if got := f.Consents("alice"); len(got) != 0 {
			t.Errorf("alice still has consent sessions with %v", got)
		}
		if n := f.LoginSessions("alice"); n != 0 {
			t.Errorf("alice still has %d login sessions", n)
		}
		if got := f.Consents("bob"); len(got) != 2 {
			t.Errorf("bob's consents changed: %v", got)
		}
	})
	t.Run("the result says once how long issued access tokens stay valid", func(t *testing.T) {
		stillValidOnce(t, s.last)
	})
	t.Run("a second run has nothing to revoke", func(t *testing.T) {
		wantResult(t, s.revoke(t, "alice"), "nothing to revoke")
	})
	t.Run("an unknown subject is nothing to revoke: Hydra keeps no user directory", func(t *testing.T) {
		// Hydra answers 204 for any subject; "user not found" cannot be
		// told, and the adapter must not invent it, but it says so.
		res := s.revoke(t, "nobody-at-all")
		wantResult(t, res, "nothing to revoke")
		if !strings.Contains(field(res, "detail"), "no user directory") {
			t.Errorf("detail %q does not say Hydra cannot tell an unknown subject", field(res, "detail"))
		}
	})
	t.Run("consents the listing hides are revoked too", func(t *testing.T) {
		// Remembered for an hour, handled long ago: Hydra no longer lists
		// the session, but its refresh token is valid.
		f.AddTimedOutConsent("dave", "payroll", time.Hour)
		wantResult(t, s.revoke(t, "dave"), "nothing to revoke")
		if got := f.Consents("dave"); len(got) != 0 {
			t.Errorf("dave keeps the hidden consent of %v with its live tokens", got)
		}
	})
	t.Run("--client revokes the consents of that client only", func(t *testing.T) {
		res := s.revoke(t, "bob", "--client", "wiki")
		wantResult(t, res, "revoked")
		if field(res, "client") != "wiki" {
			t.Errorf("result does not name the client: %v", res)
		}
		if got := f.Consents("bob"); len(got) != 1 || got[0] != "payroll" {
			t.Errorf("bob's consents are %v, want only payroll", got)
		}
		var deletes []url.Values
		for _, r := range f.Requests() {
			if r.Method == http.MethodDelete && r.Path == "/admin/oauth2/auth/sessions/consent" && r.Query.Get("subject") == "bob" {
				deletes = append(deletes, r.Query)
			}
		}
		if len(deletes) != 1 || deletes[0].Get("client") != "wiki" || deletes[0].Has("all") {
			t.Errorf("consent deletions for bob: %v, want one with client=wiki and no all", deletes)
		}
	})
	t.Run("expiry get shows the client's values and the inherited ones as inherited", func(t *testing.T) {
		got := jsonObject(t, s.run(t, 0, "app", "expiry", "get", "payroll", "-o", "json"))
		if field(got, "access_token", "seconds") != "900" || field(got, "access_token", "source") != "app" {
			t.Errorf("access token: %v, want 900 seconds set on the app", object(got, "access_token"))
		}
		if field(got, "refresh_token", "source") != "inherited" || field(got, "refresh_token", "known") != "false" {
			t.Errorf("refresh token: %v, want inherited from the Hydra configuration", object(got, "refresh_token"))
		}
	})
	t.Run("expiry set with --dry-run sends no write", func(t *testing.T) {
		before := writes()
		r := s.run(t, 0, "app", "expiry", "set", "payroll", "--access-token", "30m", "--refresh-token", "7d", "--dry-run")
		if !strings.Contains(r.Stdout, "30m") || !strings.Contains(r.Stderr, "Dry run") {
			t.Errorf("the dry run shows no diff\n%s", r)
		}
		if n := writes() - before; n != 0 {
			t.Errorf("the dry run sent %d writes", n)
		}
	})
	t.Run("an out-of-range value is refused before any request", func(t *testing.T) {
		before := requests()
		s.run(t, 2, "app", "expiry", "set", "payroll", "--access-token", "0s", "--yes")
		if n := requests() - before; n != 0 {
			t.Errorf("%d requests were sent for a value the command refuses", n)
		}
	})
	t.Run("expiry set writes Go durations and sends every other lifespan back", func(t *testing.T) {
		before := f.Client("payroll")
		got := jsonObject(t, s.act(t, 0, "app", "expiry", "set", "payroll", "--access-token", "30m", "--refresh-token", "7d", "--yes", "-o", "json"))
		after := f.Client("payroll")
		var changed []string
		for _, k := range hydrafake.Lifespans {
			switch {
			case strings.HasSuffix(k, "_access_token_lifespan"):
				changed = append(changed, k)
				if after[k] != "30m0s" {
					t.Errorf("%s is %v, want 30m0s", k, after[k])
				}
			case strings.HasSuffix(k, "_refresh_token_lifespan"):
				changed = append(changed, k)
				if after[k] != "168h0m0s" {
					t.Errorf("%s is %v, want 168h0m0s", k, after[k])
				}
			}
		}
		// PUT .../lifespans nulls every lifespan not sent: the ID token
		// lifespan survives only if it was sent back.
		sameExcept(t, "client payroll", before, after, append(changed, "updated_at")...)
		if field(got, "applied") != "true" || field(got, "mismatch") != "" {
			t.Errorf("not applied cleanly: applied %s, mismatch %s", field(got, "applied"), field(got, "mismatch"))
		}
		if field(got, "read_back", "access_token", "seconds") != "1800" || field(got, "read_back", "refresh_token", "seconds") != "604800" {
			t.Errorf("read back %v", object(got, "read_back"))
		}
		again := jsonObject(t, s.run(t, 0, "app", "expiry", "get", "payroll", "-o", "json"))
		if field(again, "access_token", "seconds") != "1800" || field(again, "refresh_token", "seconds") != "604800" || field(again, "refresh_token", "source") != "app" {
			t.Errorf("a fresh get shows %v / %v", object(again, "access_token"), object(again, "refresh_token"))
		}
	})
	t.Run("an HTML error page on the write is exit 5 and changes nothing", func(t *testing.T) {
		before := f.Client("payroll")
		f.Fail(http.MethodPut, "/admin/clients/payroll/lifespans", hydrafake.HTMLPage, 1)
		r := s.act(t, 5, "app", "expiry", "set", "payroll", "--access-token", "45m", "--yes")
		if !strings.Contains(r.Stderr, "HTML") {
			t.Errorf("the error does not say an HTML page came back\n%s", r)
		}
		sameExcept(t, "client payroll", before, f.Client("payroll"))
	})
	t.Run("key regen publishes a new kid and shows no private key member", func(t *testing.T) {
		list := s.run(t, 0, "key", "list", "-o", "json")
		if !strings.Contains(list.Stdout, oldKID) {
			t.Errorf("key list does not show %s\n%s", oldKID, list)
		}
		r := s.act(t, 0, "key", "regen", "authz", "signing", "--yes", "-o", "json", "--debug")
		got := jsonObject(t, r)
		newKID := f.Keys(hydraIDTokenSet)[0]
		if newKID == oldKID || field(got, "new_kid") != newKID {
			t.Errorf("new_kid %q, the fake's newest key is %q (was %q)", field(got, "new_kid"), newKID, oldKID)
		}
		if field(got, "published") != "true" || !hasString(jwksKids(t, f.URL+"/.well-known/jwks.json"), newKID) {
			t.Errorf("the new key is not reported published and in the JWKS: %v", got)
		}
		noPrivateMembers(t, "key regen --debug", r.Stdout+r.Stderr, f.PrivateMembers())
		l := run(t, s.e, "", "key", "list", "--debug")
		noPrivateMembers(t, "key list --debug", l.Stdout+l.Stderr, f.PrivateMembers())
	})
	t.Run("an encryption key is not supported", func(t *testing.T) {
		r := s.run(t, 7, "key", "regen", "authz", "encryption", "--yes")
		if !strings.Contains(r.Stderr, "not supported") {
			t.Errorf("exit 7 without the sentence\n%s", r)
		}
	})
	t.Run("a 401 is exit 4", func(t *testing.T) {
		f.Fail("", "", hydrafake.Unauthorized, 1)
		res := jsonObject(t, s.act(t, 4, "token", "revoke", "--user", "bob", "--yes", "-o", "json"))
		wantResult(t, res, "failed")
		if got := f.Consents("bob"); len(got) != 1 {
			t.Errorf("bob's consents changed after a refusal: %v", got)
		}
	})
	t.Run("a 429 is waited out as Retry-After says, then the call succeeds", func(t *testing.T) {
		f.AddConsent("carol", "wiki")
		const path = "/admin/oauth2/auth/sessions/consent"
		f.Fail(http.MethodGet, path, hydrafake.RateLimited, 1)
		before := requestsTo(f.Requests(), hydraReq, http.MethodGet, path)
		s.actions++
		r, took := timed(t, s.e, "token", "revoke", "--user", "carol", "--yes", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		wantResult(t, jsonObject(t, r), "revoked")
		if took < time.Second {
			t.Errorf("finished in %s: the 429's Retry-After: 1 was not honoured", took)
		}
		if n := requestsTo(f.Requests(), hydraReq, http.MethodGet, path) - before; n != 2 {
			t.Errorf("the consent listing was sent %d times, want 2 (429, then success)", n)
		}
	})
	t.Run("every admin action left one audit line", func(t *testing.T) {
		entries := s.checkAudit(t)
		if en := wantAudit(t, entries, "revoke_user", "alice", "revoked"); field(en, "request_id") == "" {
			t.Errorf("no request id in %v", en)
		}
		wantAudit(t, entries, "revoke_user", "alice", "nothing to revoke")
		if en := wantAudit(t, entries, "revoke_user", "bob", "revoked"); field(en, "client") != "wiki" {
			t.Errorf("the --client revocation does not name the client: %v", en)
		}
		wantAudit(t, entries, "revoke_user", "bob", "failed")
		wantAudit(t, entries, "set_expiry", "payroll", "applied")
		wantAudit(t, entries, "set_expiry", "payroll", "failed")
		if en := wantAudit(t, entries, "rotate_key", "", "rotated"); !strings.Contains(field(en, "detail"), f.Keys(hydraIDTokenSet)[0]) {
			t.Errorf("the rotation entry does not name the new kid: %v", en)
		}
		noneIn(t, "the audit log", auditLogFile(t, s.e), []string{apiKey})
	})
}

func keycloakReq(r keycloakfake.Request) (string, string) { return r.Method, r.Path }

func TestKeycloakAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := keycloakfake.New(t, "acme")
	t.Cleanup(f.Close)
	noViolations(t, "keycloak", f.Errors)
	alice := f.AddUser("alice", "alice@example.com")
	bob := f.AddUser("bob", "bob@example.com")
	carol := f.AddUser("carol", "carol@example.com")
	payroll := f.AddClient("payroll", map[string]string{"access.token.lifespan": "600", "tls.client.certificate.bound.access.tokens": "true"})
	f.AddClient("wiki", nil)
	f.AddSession(alice, "payroll", "wiki")
	f.AddGrant(alice, "payroll", true, true)
	bobPayroll := f.AddSession(bob, "payroll")
	f.AddSession(bob, "wiki")
	f.AddGrant(bob, "payroll", true, true)
	f.AddGrant(bob, "wiki", true, false)
	f.AddSession(carol, "wiki")
	// The admin client's secret comes from IDPCTL_ADMIN_SECRET_FILE; the
	// realm and server come from the issuer, the token URL is derived.
	s := &adminSession{provider: "keycloak", e: adminEnv(t, "keycloak", f.URL+"/realms/acme", f.AdminSecret, viaFile, "client_id="+f.AdminClientID)}
	requests := func() int { return len(f.Requests()) }
	tokenRequests := func() int {
		return requestsTo(f.Requests(), keycloakReq, http.MethodPost, "/realms/master/protocol/openid-connect/token")
	}
	writes := func() int {
		n := 0
		for _, r := range f.AdminRequests() {
			if r.Method != http.MethodGet {
				n++
			}
		}
		return n
	}
	certs := f.URL + "/realms/acme/protocol/openid-connect/certs"

	t.Run("a dry run prints the calls and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "alice", nil,
			"GET /admin/realms/acme/users?exact=true&username=alice",
			"POST /admin/realms/acme/users/{id}/logout")
	})
	t.Run("without a terminal and without --yes nothing is sent", func(t *testing.T) {
		s.needsYes(t, requests, "alice")
	})
	t.Run("--yes ends the sessions and refuses every earlier refresh token", func(t *testing.T) {
		res := s.revoke(t, "alice")
		wantResult(t, res, "revoked")
		if got := f.Sessions(alice); len(got) != 0 {
			t.Errorf("alice still has sessions %v", got)
		}
		if f.NotBefore(alice) == 0 {
			t.Error("alice's not-before was not set, so earlier refresh and offline tokens stay valid")
		}
		if !strings.Contains(field(res, "still_valid"), "5m") {
			t.Errorf("still_valid %q does not give the realm's 5m access token lifespan", field(res, "still_valid"))
		}
		if len(f.Sessions(bob)) != 2 || f.NotBefore(bob) != 0 {
			t.Error("bob was touched")
		}
	})
	t.Run("the result says once how long issued access tokens stay valid", func(t *testing.T) {
		stillValidOnce(t, s.last)
	})
	t.Run("an unknown user is user not found", func(t *testing.T) {
		before := writes()
		wantResult(t, s.revokeUnknown(t, "nobody@example.com"), "user not found")
		if writes() != before {
			t.Error("a write was sent for an unknown user")
		}
	})
	t.Run("--client revokes that client's consent and sessions only", func(t *testing.T) {
		res := s.revoke(t, "bob", "--client", "wiki")
		wantResult(t, res, "revoked")
		if got := f.Grants(bob); len(got) != 1 || got[0] != "payroll" {
			t.Errorf("bob's grants are %v, want payroll only", got)
		}
		if got := f.Sessions(bob); len(got) != 1 || got[0] != bobPayroll {
			t.Errorf("bob's sessions are %v, want the payroll session %s only", got, bobPayroll)
		}
		if n := requestsTo(f.Requests(), keycloakReq, http.MethodDelete, "/admin/realms/acme/users/"+bob+"/consents/wiki"); n != 1 {
			t.Errorf("the wiki consent was deleted %d times, want 1", n)
		}
		if n := requestsTo(f.Requests(), keycloakReq, http.MethodPost, "/admin/realms/acme/users/"+bob+"/logout"); n != 0 {
			t.Error("bob was logged out of every client")
		}
	})
	t.Run("a second --client run has nothing to revoke", func(t *testing.T) {
		wantResult(t, s.revoke(t, "bob", "--client", "wiki"), "nothing to revoke")
	})
	t.Run("expiry get shows the client's values and the realm's as inherited", func(t *testing.T) {
		got := jsonObject(t, s.run(t, 0, "app", "expiry", "get", "payroll", "-o", "json"))
		if field(got, "access_token", "seconds") != "600" || field(got, "access_token", "source") != "app" {
			t.Errorf("access token %v, want 600 seconds set on the app", object(got, "access_token"))
		}
		if field(got, "refresh_token", "seconds") != "36000" || field(got, "refresh_token", "source") != "inherited" || !strings.Contains(field(got, "refresh_token", "from"), "acme") {
			t.Errorf("refresh token %v, want the realm's 36000 seconds, inherited", object(got, "refresh_token"))
		}
	})
	t.Run("expiry set with --dry-run sends no write", func(t *testing.T) {
		before := writes()
		s.run(t, 0, "app", "expiry", "set", "payroll", "--access-token", "30m", "--dry-run")
		if writes() != before {
			t.Error("the dry run wrote")
		}
	})
	t.Run("an out-of-range value is refused before any request", func(t *testing.T) {
		before := requests()
		s.run(t, 2, "app", "expiry", "set", "payroll", "--access-token", "0s", "--yes")
		if n := requests() - before; n != 0 {
			t.Errorf("%d requests were sent for a value the command refuses", n)
		}
	})
	t.Run("expiry set writes seconds as strings and sends the whole client back", func(t *testing.T) {
		before := f.Client(payroll)
		got := jsonObject(t, s.act(t, 0, "app", "expiry", "set", "payroll", "--access-token", "30m", "--refresh-token", "7d", "--yes", "-o", "json"))
		after := f.Client(payroll)
		attrs := object(after, "attributes")
		if attrs["access.token.lifespan"] != "1800" || attrs["client.session.max.lifespan"] != "604800" {
			t.Errorf("attributes after the change: %v", attrs)
		}
		// The fake replaces the whole representation on PUT: whatever was
		// not sent back is gone.
		sameExcept(t, "client payroll", before, after, "attributes")
		sameExcept(t, "client payroll attributes", object(before, "attributes"), attrs, "access.token.lifespan", "client.session.max.lifespan")
		if field(got, "applied") != "true" || field(got, "mismatch") != "" || field(got, "read_back", "access_token", "seconds") != "1800" {
			t.Errorf("applied %s, mismatch %s, read back %v", field(got, "applied"), field(got, "mismatch"), object(got, "read_back"))
		}
	})
	t.Run("key regen publishes the new signing and encryption keys", func(t *testing.T) {
		if r := s.run(t, 0, "key", "list", "-o", "json"); !strings.Contains(r.Stdout, `"use": "sig"`) || !strings.Contains(r.Stdout, `"use": "enc"`) {
			t.Errorf("key list lacks the signing or the encryption key\n%s", r)
		}
		for _, use := range []string{"signing", "encryption"} {
			r := s.act(t, 0, "key", "regen", "authz", use, "--yes", "-o", "json", "--debug")
			got := jsonObject(t, r)
			kid := field(got, "new_kid")
			if kid == "" || field(got, "published") != "true" || !hasString(jwksKids(t, certs), kid) {
				t.Errorf("%s: new kid %q not reported published or not in the realm's JWKS: %v", use, kid, got)
			}
			noPrivateMembers(t, "key regen "+use+" --debug", r.Stdout+r.Stderr, f.PrivateMembers())
		}
	})
	t.Run("a 401 that persists after a fresh admin token is exit 4", func(t *testing.T) {
		tokens := tokenRequests()
		f.Fail("", "", keycloakfake.Unauthorized, 2)
		wantResult(t, jsonObject(t, s.act(t, 4, "token", "revoke", "--user", "carol", "--yes", "-o", "json")), "failed")
		if n := tokenRequests() - tokens; n != 2 {
			t.Errorf("%d admin tokens fetched, want 2: after a 401 the token is fetched again once", n)
		}
		if len(f.Sessions(carol)) != 1 {
			t.Error("carol's session ended after a refusal")
		}
	})
	t.Run("an HTML error page on the logout is exit 5 and ends nothing", func(t *testing.T) {
		f.Fail(http.MethodPost, "/admin/realms/acme/users/"+carol+"/logout", keycloakfake.HTMLPage, 1)
		r := s.act(t, 5, "token", "revoke", "--user", "carol", "--yes", "-o", "json")
		wantResult(t, jsonObject(t, r), "failed")
		if !strings.Contains(r.Stderr, "HTML") {
			t.Errorf("the error does not say an HTML page came back\n%s", r)
		}
		if len(f.Sessions(carol)) != 1 || f.NotBefore(carol) != 0 {
			t.Error("carol was logged out although the logout failed")
		}
	})
	t.Run("a 429 from the proxy is waited out as Retry-After says", func(t *testing.T) {
		f.Fail(http.MethodGet, "/admin/realms/acme/users", keycloakfake.RateLimited, 1)
		s.actions++
		r, took := timed(t, s.e, "token", "revoke", "--user", "carol", "--yes", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		wantResult(t, jsonObject(t, r), "revoked")
		if took < time.Second {
			t.Errorf("finished in %s: Retry-After: 1 was not honoured", took)
		}
		if len(f.Sessions(carol)) != 0 {
			t.Error("carol's session is still there")
		}
	})
	t.Run("every admin action left one audit line", func(t *testing.T) {
		entries := s.checkAudit(t)
		wantAudit(t, entries, "revoke_user", "alice", "revoked")
		wantAudit(t, entries, "revoke_user", "nobody@example.com", "user not found")
		wantAudit(t, entries, "revoke_user", "bob", "nothing to revoke")
		wantAudit(t, entries, "revoke_user", "carol", "failed")
		wantAudit(t, entries, "set_expiry", "payroll", "applied")
		if n := len(auditFind(entries, "rotate_key", "rotated")); n != 2 {
			t.Errorf("%d rotations recorded, want 2", n)
		}
		noneIn(t, "the audit log", auditLogFile(t, s.e), []string{f.AdminSecret})
	})
}

// auditFind lists the entries of an action with a result.
func auditFind(entries []map[string]any, action, result string) []map[string]any {
	var out []map[string]any
	for _, en := range entries {
		if field(en, "action") == action && field(en, "result") == result {
			out = append(out, en)
		}
	}
	return out
}

func oktaReq(r oktafake.Request) (string, string) { return r.Method, r.Path }

// oktaPrivateValues reads the private members the fake leaks into its key
// list (SetLeakPrivateKeyMembers), as the admin API would hand them out.
func oktaPrivateValues(t testing.TB, f *oktafake.Server, as string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/api/v1/authorizationServers/"+as+"/credentials/keys", nil)
	req.Header.Set("Authorization", "SSWS "+f.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var keys []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
		t.Fatalf("the fake's key list: %v", err)
	}
	var out []string
	for _, k := range keys {
		if d, ok := k["d"].(string); ok {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		t.Fatal("the fake leaks no private member to check for")
	}
	return out
}

func TestOktaAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := oktafake.New(t, oktafake.Options{Token: "00e2eOktaApiToken-0123456789abcdef"})
	t.Cleanup(f.Close)
	noViolations(t, "okta", f.Violations)
	for _, u := range []oktafake.User{
		{ID: "00u1alice", Login: "alice@example.com", Email: "alice@example.com"},
		{ID: "00u2bob", Login: "bob@example.com", Email: "bob@example.com"},
		{ID: "00u3carol", Login: "carol@example.com", Email: "carol@example.com"},
	} {
		f.AddUser(u)
		f.AddSessions(u.ID, 2)
		f.AddRefreshTokens(u.ID, "0oa1payroll", 2)
		f.AddRefreshTokens(u.ID, "0oa2wiki", 1)
	}
	f.AddApp(oktafake.OIDCApp("0oa1payroll", "0oa1payroll", "Payroll"))
	f.AddApp(oktafake.OIDCApp("0oa2wiki", "0oa2wiki", "Wiki"))
	f.AddAuthorizationServer("default")
	f.AddPolicy("default", oktafake.Policy("00p1", "Payroll policy", 1, "0oa1payroll"))
	f.AddRule("default", "00p1", oktafake.Rule("0pr1", "Payroll rule", 1, 60, 0, 10080))
	// No admin auth setting: Okta's documented default is an SSWS API token.
	s := &adminSession{provider: "okta", e: adminEnv(t, "okta", f.URL+"/oauth2/default", f.Token(), viaStdin, "url="+f.URL)}
	requests := func() int { return len(f.Requests()) }
	writes := func() int {
		n := 0
		for _, r := range f.Requests() {
			if r.Method != http.MethodGet {
				n++
			}
		}
		return n
	}

	t.Run("a dry run prints the calls and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "alice@example.com", nil,
			"GET /api/v1/users/alice@example.com",
			"DELETE /api/v1/users/{userId}/sessions?oauthTokens=true&forgetDevices=false")
	})
	t.Run("a --client dry run shows the calls with the user id placeholder", func(t *testing.T) {
		s.dryRun(t, requests, "alice@example.com", []string{"--client", "0oa1payroll"},
			"GET /api/v1/users/{userId}/clients/0oa1payroll/tokens",
			"DELETE /api/v1/users/{userId}/clients/0oa1payroll/tokens")
	})
	t.Run("without a terminal and without --yes nothing is sent", func(t *testing.T) {
		s.needsYes(t, requests, "alice@example.com")
	})
	t.Run("--yes ends the sessions and revokes every token", func(t *testing.T) {
		res := s.revoke(t, "alice@example.com")
		wantResult(t, res, "revoked")
		if !strings.HasPrefix(field(res, "request_id"), "fake-req-") {
			t.Errorf("request id %q is not the X-Okta-Request-Id", field(res, "request_id"))
		}
		if f.Sessions("00u1alice") != 0 || f.RefreshTokens("00u1alice", "") != 0 {
			t.Errorf("alice keeps %d sessions and %d refresh tokens", f.Sessions("00u1alice"), f.RefreshTokens("00u1alice", ""))
		}
		if f.RefreshTokens("00u2bob", "") != 3 {
			t.Error("bob's tokens changed")
		}
	})
	t.Run("the result says once how long issued access tokens stay valid", func(t *testing.T) {
		stillValidOnce(t, s.last)
	})
	t.Run("an unknown user is user not found", func(t *testing.T) {
		wantResult(t, s.revokeUnknown(t, "nobody@example.com"), "user not found")
	})
	t.Run("--client revokes the refresh tokens of that client only", func(t *testing.T) {
		res := s.revoke(t, "bob@example.com", "--client", "0oa1payroll")
		wantResult(t, res, "revoked")
		if f.RefreshTokens("00u2bob", "0oa1payroll") != 0 || f.RefreshTokens("00u2bob", "0oa2wiki") != 1 || f.Sessions("00u2bob") != 2 {
			t.Errorf("bob keeps %d payroll and %d wiki tokens and %d sessions, want 0, 1, 2",
				f.RefreshTokens("00u2bob", "0oa1payroll"), f.RefreshTokens("00u2bob", "0oa2wiki"), f.Sessions("00u2bob"))
		}
		if n := requestsTo(f.Requests(), oktaReq, http.MethodDelete, "/api/v1/users/00u2bob/clients/0oa1payroll/tokens"); n != 1 {
			t.Errorf("the client's tokens were deleted %d times, want 1", n)
		}
		wantResult(t, s.revoke(t, "bob@example.com", "--client", "0oa1payroll"), "nothing to revoke")
	})
	t.Run("expiry get shows the policy rule's values as inherited", func(t *testing.T) {
		got := jsonObject(t, s.run(t, 0, "app", "expiry", "get", "0oa1payroll", "-o", "json"))
		if field(got, "access_token", "seconds") != "3600" || field(got, "access_token", "source") != "inherited" || !strings.Contains(field(got, "access_token", "from"), "Payroll rule") {
			t.Errorf("access token %v, want 60 minutes from the policy rule", object(got, "access_token"))
		}
		if field(got, "refresh_token", "unlimited") != "true" {
			t.Errorf("refresh token %v, want unlimited (0 minutes)", object(got, "refresh_token"))
		}
	})
	t.Run("an out-of-range value is refused before any request", func(t *testing.T) {
		before := requests()
		r := s.run(t, 2, "app", "expiry", "set", "0oa1payroll", "--access-token", "2d", "--yes")
		if !strings.Contains(r.Stderr, "5m to 24h") {
			t.Errorf("the refusal does not give Okta's range\n%s", r)
		}
		if n := requests() - before; n != 0 {
			t.Errorf("%d requests were sent for a value the command refuses", n)
		}
	})
	t.Run("expiry set with --dry-run sends no write", func(t *testing.T) {
		before := writes()
		s.run(t, 0, "app", "expiry", "set", "0oa1payroll", "--access-token", "30m", "--dry-run")
		if writes() != before {
			t.Error("the dry run wrote")
		}
	})
	t.Run("expiry set writes minutes into the whole policy rule", func(t *testing.T) {
		rule, app := f.Rule("default", "00p1", "0pr1"), f.App("0oa1payroll")
		got := jsonObject(t, s.act(t, 0, "app", "expiry", "set", "0oa1payroll", "--access-token", "30m", "--refresh-token", "7d", "--yes", "-o", "json"))
		after := f.Rule("default", "00p1", "0pr1")
		tok := object(after, "actions", "token")
		if field(tok, "accessTokenLifetimeMinutes") != "30" || field(tok, "refreshTokenLifetimeMinutes") != "10080" || field(tok, "refreshTokenWindowMinutes") != "10080" {
			t.Errorf("the rule's token actions are %v", tok)
		}
		// PUT replaces the rule whole: its conditions survive only if sent.
		sameExcept(t, "policy rule", rule, after, "actions", "lastUpdated")
		sameExcept(t, "app", app, f.App("0oa1payroll"))
		if field(got, "applied") != "true" || field(got, "mismatch") != "" || field(got, "read_back", "access_token", "seconds") != "1800" {
			t.Errorf("applied %s, mismatch %s, read back %v", field(got, "applied"), field(got, "mismatch"), object(got, "read_back"))
		}
	})
	t.Run("an HTML error page on the write is exit 5 and changes nothing", func(t *testing.T) {
		rule := f.Rule("default", "00p1", "0pr1")
		f.Inject(oktafake.Injection{Method: http.MethodPut, PathPrefix: "/api/v1/authorizationServers/default/policies/00p1/rules/0pr1", Fault: oktafake.FaultHTML})
		r := s.act(t, 5, "app", "expiry", "set", "0oa1payroll", "--access-token", "45m", "--yes")
		if !strings.Contains(r.Stderr, "HTML") {
			t.Errorf("the error does not say an HTML page came back\n%s", r)
		}
		sameExcept(t, "policy rule", rule, f.Rule("default", "00p1", "0pr1"))
	})
	t.Run("key regen makes the NEXT key sign and shows no private key member", func(t *testing.T) {
		f.SetLeakPrivateKeyMembers(true)
		private := oktaPrivateValues(t, f, "default")
		list := s.run(t, 0, "key", "list", "-o", "json", "--debug")
		noPrivateMembers(t, "key list --debug", list.Stdout+list.Stderr, private)
		r := s.act(t, 0, "key", "regen", "authz", "signing", "--yes", "-o", "json", "--debug")
		got := jsonObject(t, r)
		var active string
		for _, k := range f.Keys("default") {
			if k.Status == "ACTIVE" {
				active = k.Kid
			}
		}
		if active != "default-key-3" || field(got, "new_kid") != active {
			t.Errorf("new_kid %q, the fake's ACTIVE key is %q (the former NEXT key is default-key-3)", field(got, "new_kid"), active)
		}
		if field(got, "published") != "true" || !hasString(jwksKids(t, f.URL+"/oauth2/default/v1/keys"), active) {
			t.Errorf("the new key is not reported published and in the JWKS: %v", got)
		}
		noPrivateMembers(t, "key regen --debug", r.Stdout+r.Stderr, append(private, oktaPrivateValues(t, f, "default")...))
	})
	t.Run("an encryption key is not supported", func(t *testing.T) {
		if r := s.run(t, 7, "key", "regen", "authz", "encryption", "--yes"); !strings.Contains(r.Stderr, "no token encryption key") {
			t.Errorf("exit 7 without the sentence\n%s", r)
		}
	})
	t.Run("a 401 is exit 4", func(t *testing.T) {
		f.Inject(oktafake.Injection{Fault: oktafake.Fault401})
		wantResult(t, jsonObject(t, s.act(t, 4, "token", "revoke", "--user", "carol@example.com", "--yes", "-o", "json")), "failed")
		if f.Sessions("00u3carol") != 2 {
			t.Error("carol's sessions ended after a refusal")
		}
	})
	t.Run("a 429 is waited out until X-Rate-Limit-Reset, then the call succeeds", func(t *testing.T) {
		f.Inject(oktafake.Injection{Method: http.MethodGet, PathPrefix: "/api/v1/users/", Fault: oktafake.Fault429, ResetIn: 2 * time.Second})
		s.actions++
		start := time.Now()
		r, took := timed(t, s.e, "token", "revoke", "--user", "carol@example.com", "--yes", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		wantResult(t, jsonObject(t, r), "revoked")
		// The reset is whole epoch seconds at least one second ahead of
		// the start.
		if reset := time.Unix(start.Add(2*time.Second).Unix(), 0); time.Now().Before(reset) || took < time.Second {
			t.Errorf("finished in %s, before the announced reset", took)
		}
		if f.Sessions("00u3carol") != 0 {
			t.Error("carol's sessions are still there")
		}
	})
	t.Run("every admin action left one audit line", func(t *testing.T) {
		entries := s.checkAudit(t)
		if en := wantAudit(t, entries, "revoke_user", "alice@example.com", "revoked"); !strings.HasPrefix(field(en, "request_id"), "fake-req-") {
			t.Errorf("no Okta request id in %v", en)
		}
		if en := wantAudit(t, entries, "revoke_user", "nobody@example.com", "user not found"); field(en, "request_id") == "" {
			t.Errorf("no Okta request id in %v", en)
		}
		wantAudit(t, entries, "revoke_user", "bob@example.com", "revoked")
		wantAudit(t, entries, "revoke_user", "bob@example.com", "nothing to revoke")
		wantAudit(t, entries, "revoke_user", "carol@example.com", "failed")
		wantAudit(t, entries, "revoke_user", "carol@example.com", "revoked")
		wantAudit(t, entries, "set_expiry", "0oa1payroll", "applied")
		wantAudit(t, entries, "set_expiry", "0oa1payroll", "failed")
		wantAudit(t, entries, "rotate_key", "", "rotated")
		noneIn(t, "the audit log", auditLogFile(t, s.e), []string{f.Token()})
	})
}

func auth0Req(r auth0fake.Request) (string, string) { return r.Method, r.Path }

func TestAuth0AdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := auth0fake.New(t, auth0fake.Options{ClientSecret: "e2e-auth0-m2m-secret-0123456789"})
	t.Cleanup(f.Close)
	noViolations(t, "auth0", f.Violations)
	for _, u := range []auth0fake.User{{ID: "auth0|alice", Email: "alice@example.com"}, {ID: "auth0|bob", Email: "bob@example.com"}, {ID: "auth0|carol", Email: "carol@example.com"}} {
		f.AddUser(u)
		f.AddSessions(u.ID, 1)
		f.AddRefreshTokens(u.ID, "payroll", 2)
		f.AddRefreshTokens(u.ID, "wiki", 1)
	}
	f.AddClient(auth0fake.Application("payroll", "Payroll", auth0fake.RotatingRefreshTokens()))
	f.AddAPI(auth0fake.API("api1", "https://api.example.com/", 86400))
	// The admin url's host is the tenant; client_id implies client
	// credentials, with the token URL and audience derived from it.
	s := &adminSession{provider: "auth0", e: adminEnv(t, "auth0", f.URL+"/", f.ClientSecret(), viaFile,
		"url="+f.URL, "client_id="+f.ClientID(), "api=https://api.example.com/")}
	requests := func() int { return len(f.Requests()) }
	writes := func() int {
		n := 0
		for _, r := range f.Requests() {
			if r.Method != http.MethodGet && r.Path != "/oauth/token" {
				n++
			}
		}
		return n
	}

	t.Run("a dry run prints the calls and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "auth0|alice", nil,
			"DELETE /api/v2/users/auth0%7Calice/refresh-tokens",
			"DELETE /api/v2/users/auth0%7Calice/sessions")
	})
	t.Run("without a terminal and without --yes nothing is sent", func(t *testing.T) {
		s.needsYes(t, requests, "auth0|alice")
	})
	t.Run("--yes is accepted, not done: Auth0 revokes asynchronously", func(t *testing.T) {
		res := s.revoke(t, "auth0|alice")
		wantResult(t, res, "accepted")
		if f.RefreshTokens("auth0|alice", "") != 0 || f.Sessions("auth0|alice") != 0 {
			t.Errorf("alice keeps %d refresh tokens and %d sessions", f.RefreshTokens("auth0|alice", ""), f.Sessions("auth0|alice"))
		}
		if !strings.Contains(field(res, "still_valid"), "1d") {
			t.Errorf("still_valid %q does not give the API's one-day token lifetime", field(res, "still_valid"))
		}
	})
	t.Run("the result says once how long issued access tokens stay valid", func(t *testing.T) {
		stillValidOnce(t, s.last)
	})
	t.Run("a user given by email is looked up", func(t *testing.T) {
		wantResult(t, s.revoke(t, "carol@example.com"), "accepted")
		if f.RefreshTokens("auth0|carol", "") != 0 {
			t.Error("carol's tokens are still there")
		}
	})
	t.Run("an unknown user is user not found", func(t *testing.T) {
		wantResult(t, s.revokeUnknown(t, "auth0|nobody"), "user not found")
	})
	t.Run("--client revokes the refresh tokens of that application only", func(t *testing.T) {
		wantResult(t, s.revoke(t, "auth0|bob", "--client", "payroll"), "accepted")
		if f.RefreshTokens("auth0|bob", "payroll") != 0 || f.RefreshTokens("auth0|bob", "wiki") != 1 || f.Sessions("auth0|bob") != 1 {
			t.Errorf("bob keeps %d payroll and %d wiki tokens and %d sessions, want 0, 1, 1",
				f.RefreshTokens("auth0|bob", "payroll"), f.RefreshTokens("auth0|bob", "wiki"), f.Sessions("auth0|bob"))
		}
		var bodies []map[string]any
		for _, r := range f.Requests() {
			if r.Method == http.MethodPost && r.Path == "/api/v2/refresh-tokens/revoke" {
				var m map[string]any
				_ = json.Unmarshal(r.Body, &m)
				bodies = append(bodies, m)
			}
		}
		if len(bodies) != 1 || bodies[0]["user_id"] != "auth0|bob" || bodies[0]["client_id"] != "payroll" {
			t.Errorf("revoke requests %v, want one for auth0|bob and payroll", bodies)
		}
	})
	t.Run("expiry get reads the application and the API", func(t *testing.T) {
		got := jsonObject(t, s.run(t, 0, "app", "expiry", "get", "payroll", "-o", "json"))
		if field(got, "access_token", "seconds") != "86400" || field(got, "access_token", "source") != "inherited" || !strings.Contains(field(got, "access_token", "from"), "https://api.example.com/") {
			t.Errorf("access token %v, want the API's 86400 seconds, inherited", object(got, "access_token"))
		}
		if field(got, "refresh_token", "seconds") != "2592000" || field(got, "refresh_token", "source") != "app" {
			t.Errorf("refresh token %v, want 2592000 seconds on the app", object(got, "refresh_token"))
		}
	})
	t.Run("an out-of-range value is refused before any request", func(t *testing.T) {
		before := requests()
		s.run(t, 2, "app", "expiry", "set", "payroll", "--access-token", "31d", "--yes")
		if n := requests() - before; n != 0 {
			t.Errorf("%d requests were sent for a value the command refuses", n)
		}
	})
	t.Run("an access token lifetime below the API's browser-flow lifetime is exit 2 and sends nothing", func(t *testing.T) {
		// The API's token_lifetime_for_web is 2h; Auth0 refuses a shorter
		// token_lifetime.
		before := writes()
		r := s.run(t, 2, "app", "expiry", "set", "payroll", "--access-token", "30m", "--yes")
		if writes() != before || !strings.Contains(r.Stderr, "token_lifetime_for_web") {
			t.Errorf("%d writes sent\n%s", writes()-before, r)
		}
	})
	t.Run("expiry set with --dry-run sends no write", func(t *testing.T) {
		before := writes()
		s.run(t, 0, "app", "expiry", "set", "payroll", "--access-token", "3h", "--refresh-token", "20d", "--dry-run")
		if writes() != before {
			t.Error("the dry run wrote")
		}
	})
	t.Run("expiry set writes seconds and sends the whole refresh_token object", func(t *testing.T) {
		// 20d, not 7d: the application's idle lifetime is 15d, and the
		// absolute lifetime may not be shorter.
		client, api := f.StoredClient("payroll"), f.StoredAPI("api1")
		got := jsonObject(t, s.act(t, 0, "app", "expiry", "set", "payroll", "--access-token", "3h", "--refresh-token", "20d", "--yes", "-o", "json"))
		clientAfter, apiAfter := f.StoredClient("payroll"), f.StoredAPI("api1")
		if field(clientAfter, "refresh_token", "token_lifetime") != "1728000" || field(apiAfter, "token_lifetime") != "10800" {
			t.Errorf("refresh token_lifetime %s and API token_lifetime %s, want 1728000 and 10800",
				field(clientAfter, "refresh_token", "token_lifetime"), field(apiAfter, "token_lifetime"))
		}
		// A PATCH replaces the refresh_token object whole: its other
		// members survive only if sent back.
		sameExcept(t, "application", client, clientAfter, "refresh_token")
		sameExcept(t, "application refresh_token", object(client, "refresh_token"), object(clientAfter, "refresh_token"), "token_lifetime")
		sameExcept(t, "API", api, apiAfter, "token_lifetime")
		if field(got, "applied") != "true" || field(got, "mismatch") != "" || field(got, "read_back", "refresh_token", "seconds") != "1728000" {
			t.Errorf("applied %s, mismatch %s, read back %v", field(got, "applied"), field(got, "mismatch"), object(got, "read_back"))
		}
	})
	t.Run("an HTML error page on the write is exit 5 and changes nothing", func(t *testing.T) {
		client := f.StoredClient("payroll")
		f.Inject(auth0fake.Injection{Method: http.MethodPatch, PathPrefix: "/api/v2/clients/payroll", Fault: auth0fake.FaultHTML})
		r := s.act(t, 5, "app", "expiry", "set", "payroll", "--refresh-token", "25d", "--yes")
		if !strings.Contains(r.Stderr, "HTML") {
			t.Errorf("the error does not say an HTML page came back\n%s", r)
		}
		sameExcept(t, "application", client, f.StoredClient("payroll"))
	})
	t.Run("key regen makes the next key current and publishes it", func(t *testing.T) {
		list := s.run(t, 0, "key", "list", "-o", "json")
		if !strings.Contains(list.Stdout, "kid-current") || !strings.Contains(list.Stdout, "kid-next") {
			t.Errorf("key list\n%s", list)
		}
		r := s.act(t, 0, "key", "regen", "authz", "signing", "--yes", "-o", "json", "--debug")
		got := jsonObject(t, r)
		var current string
		for _, k := range f.SigningKeys() {
			if k.Current {
				current = k.Kid
			}
		}
		if current != "kid-next" || field(got, "new_kid") != current {
			t.Errorf("new_kid %q, the fake's current key is %q", field(got, "new_kid"), current)
		}
		if field(got, "published") != "true" || !hasString(jwksKids(t, f.URL+"/.well-known/jwks.json"), current) {
			t.Errorf("the new key is not reported published and in the JWKS: %v", got)
		}
		noPrivateMembers(t, "key regen --debug", r.Stdout+r.Stderr, nil)
	})
	t.Run("key regen encryption rekeys without a kid to wait for", func(t *testing.T) {
		got := jsonObject(t, s.act(t, 0, "key", "regen", "authz", "encryption", "--yes", "-o", "json"))
		if f.Rekeys() != 1 || field(got, "new_kid") != "" || field(got, "published") != "" {
			t.Errorf("rekeys %d, result %v: want one rekey, no kid and no publication claim", f.Rekeys(), got)
		}
	})
	t.Run("a 401 that persists after a fresh Management API token is exit 4", func(t *testing.T) {
		tokens := f.TokensIssued()
		f.Inject(auth0fake.Injection{PathPrefix: "/api/v2/", Fault: auth0fake.Fault401, Times: 2})
		wantResult(t, jsonObject(t, s.act(t, 4, "token", "revoke", "--user", "auth0|bob", "--yes", "-o", "json")), "failed")
		if n := f.TokensIssued() - tokens; n != 2 {
			t.Errorf("%d Management API tokens issued, want 2: after a 401 the token is fetched again once", n)
		}
		if f.RefreshTokens("auth0|bob", "wiki") != 1 {
			t.Error("bob's tokens changed after a refusal")
		}
	})
	t.Run("a 429 is waited out until X-RateLimit-Reset, then the call succeeds", func(t *testing.T) {
		f.Inject(auth0fake.Injection{Method: http.MethodDelete, PathPrefix: "/api/v2/users/auth0|bob/refresh-tokens", Fault: auth0fake.Fault429, ResetIn: 2 * time.Second})
		before := requestsTo(f.Requests(), auth0Req, http.MethodDelete, "/api/v2/users/auth0|bob/refresh-tokens")
		s.actions++
		start := time.Now()
		r, took := timed(t, s.e, "token", "revoke", "--user", "auth0|bob", "--yes", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		wantResult(t, jsonObject(t, r), "accepted")
		if reset := time.Unix(start.Add(2*time.Second).Unix(), 0); time.Now().Before(reset) || took < time.Second {
			t.Errorf("finished in %s, before the announced reset", took)
		}
		if n := requestsTo(f.Requests(), auth0Req, http.MethodDelete, "/api/v2/users/auth0|bob/refresh-tokens") - before; n != 2 {
			t.Errorf("the deletion was sent %d times, want 2 (429, then success)", n)
		}
	})
	t.Run("every admin action left one audit line", func(t *testing.T) {
		entries := s.checkAudit(t)
		wantAudit(t, entries, "revoke_user", "auth0|alice", "accepted")
		wantAudit(t, entries, "revoke_user", "carol@example.com", "accepted")
		wantAudit(t, entries, "revoke_user", "auth0|nobody", "user not found")
		if en := wantAudit(t, entries, "revoke_user", "auth0|bob", "failed"); !strings.Contains(field(en, "detail"), "401") {
			t.Errorf("the failure does not say why: %v", en)
		}
		wantAudit(t, entries, "set_expiry", "payroll", "applied")
		wantAudit(t, entries, "set_expiry", "payroll", "failed")
		if n := len(auditFind(entries, "rotate_key", "rotated")); n != 2 {
			t.Errorf("%d rotations recorded, want 2", n)
		}
		noneIn(t, "the audit log", auditLogFile(t, s.e), []string{f.ClientSecret()})
	})
}

func TestOracleAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := oraclefake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "oracle", f.Errors)
	alice := f.AddUser("alice", true)
	bob := f.AddUser("bob", true)
	carol := f.AddUser("carol", true)
	const appSecret = "e2e-oracle-app-client-secret-0123456789"
	payroll := f.AddApp(oraclefake.App{DisplayName: "Payroll", Name: "payroll-client", IsOAuthClient: true, IsOAuthResource: true,
		AllowOffline: true, AccessTokenExpiry: 3600, ClientSecret: appSecret, RedirectURIs: []string{"https://payroll.example.com/cb"}})
	wiki := f.AddApp(oraclefake.App{DisplayName: "Wiki", Name: "wiki-client", IsOAuthClient: true})
	bobPayroll := f.AddGrant(bob, payroll, "ADMINISTRATOR_TO_USER")
	bobWiki := f.AddGrant(bob, wiki, "ADMINISTRATOR_TO_USER")
	s := &adminSession{provider: "oracle", e: adminEnv(t, "oracle", f.URL, f.ClientSecret, viaStdin, "url="+f.URL, "client_id="+f.ClientID)}
	s.e.Secret(appSecret)
	requests := func() int { return len(f.Requests()) }
	writes := func() int {
		n := 0
		for _, r := range f.AdminRequests() {
			if r.Method != http.MethodGet {
				n++
			}
		}
		return n
	}
	sentence := `choose a method: "deactivate"`

	t.Run("without --method the revocation is not supported, with the alternatives", func(t *testing.T) {
		before := requests()
		for _, args := range [][]string{
			{"token", "revoke", "--user", "alice", "--dry-run"},
			{"token", "revoke", "--user", "alice", "--yes", "-o", "json"},
		} {
			if r := s.run(t, 7, args...); !strings.Contains(r.Stderr, sentence) {
				t.Errorf("exit 7 without the sentence naming the methods\n%s", r)
			}
		}
		if n := requests() - before; n != 0 {
			t.Errorf("%d requests were sent", n)
		}
	})
	t.Run("a dry run prints the calls and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "alice", []string{"--method", "deactivate"},
			`GET /admin/v1/Users?filter=userName eq "alice"`,
			"PUT /admin/v1/UserStatusChanger/{id}")
	})
	t.Run("without a terminal and without --yes nothing is sent", func(t *testing.T) {
		before := requests()
		if r := s.run(t, 2, "token", "revoke", "--user", "alice", "--method", "deactivate"); !strings.Contains(r.Stderr, "--yes") {
			t.Errorf("the refusal does not name --yes\n%s", r)
		}
		if requests() != before {
			t.Error("an unconfirmed revocation sent requests")
		}
	})
	t.Run("--method deactivate makes the user inactive", func(t *testing.T) {
		res := s.revoke(t, "alice", "--method", "deactivate")
		wantResult(t, res, "revoked")
		if !strings.HasPrefix(field(res, "request_id"), "fake-req-") {
			t.Errorf("request id %q is not the opc-request-id", field(res, "request_id"))
		}
		if active, ok := f.UserActive(alice); !ok || active {
			t.Error("alice is still active")
		}
		if active, _ := f.UserActive(bob); !active {
			t.Error("bob was deactivated")
		}
		wantResult(t, s.revoke(t, "alice", "--method", "deactivate"), "nothing to revoke")
	})
	t.Run("the result says once how long issued access tokens stay valid", func(t *testing.T) {
		stillValidOnce(t, s.last)
	})
	t.Run("an unknown user is user not found", func(t *testing.T) {
		wantResult(t, s.revokeUnknown(t, "nobody", "--method", "deactivate"), "user not found")
	})
	t.Run("--method grants --client deletes that app's grant only", func(t *testing.T) {
		wantResult(t, s.revoke(t, "bob", "--method", "grants", "--client", "payroll-client"), "revoked")
		if got := f.Grants(); hasString(got, bobPayroll) || !hasString(got, bobWiki) {
			t.Errorf("grants left: %v; want %s gone and %s kept", got, bobPayroll, bobWiki)
		}
	})
	t.Run("--method grants keeps and names app-role grants unless --include-app-roles", func(t *testing.T) {
		domain := f.AddApp(oraclefake.App{DisplayName: "Identity Domain", Name: "IDCSAppId"})
		role := f.AddAppRoleGrant(carol, domain, "role-domain-admin", "ADMINISTRATOR_TO_USER")
		access := f.AddGrant(carol, wiki, "ADMINISTRATOR_TO_USER")
		res := s.revoke(t, "carol", "--method", "grants")
		wantResult(t, res, "revoked")
		if got := f.Grants(); hasString(got, access) || !hasString(got, role) {
			t.Errorf("grants left: %v; want %s gone and the app-role grant %s kept", got, access, role)
		}
		if d := field(res, "detail"); !strings.Contains(d, "role-domain-admin of Identity Domain") || !strings.Contains(d, "--include-app-roles") {
			t.Errorf("detail %q does not name the kept app-role grant", d)
		}
		wantResult(t, s.revoke(t, "carol", "--method", "grants", "--include-app-roles"), "revoked")
		if got := f.Grants(); hasString(got, role) {
			t.Errorf("the app-role grant %s survived --include-app-roles", role)
		}
	})
	t.Run("expiry get shows the app's seconds and the domain default as inherited", func(t *testing.T) {
		r := s.run(t, 0, "app", "expiry", "get", "payroll-client", "-o", "json", "--debug")
		got := jsonObject(t, r)
		if field(got, "access_token", "seconds") != "3600" || field(got, "access_token", "source") != "app" {
			t.Errorf("access token %v, want 3600 seconds on the app", object(got, "access_token"))
		}
		if field(got, "refresh_token", "source") != "inherited" || field(got, "refresh_token", "known") != "false" {
			t.Errorf("refresh token %v, want the unknown domain default, inherited", object(got, "refresh_token"))
		}
		noneIn(t, "expiry get --debug", r.Stdout+r.Stderr, []string{appSecret})
	})
	t.Run("an out-of-range value is refused before any request", func(t *testing.T) {
		before := requests()
		s.run(t, 2, "app", "expiry", "set", "payroll-client", "--access-token", "0s", "--yes")
		if n := requests() - before; n != 0 {
			t.Errorf("%d requests were sent for a value the command refuses", n)
		}
	})
	t.Run("expiry set with --dry-run sends no write", func(t *testing.T) {
		before := writes()
		s.run(t, 0, "app", "expiry", "set", "payroll-client", "--access-token", "30m", "--dry-run")
		if writes() != before {
			t.Error("the dry run wrote")
		}
	})
	t.Run("expiry set patches seconds and leaves the other attributes", func(t *testing.T) {
		attrs := []string{"displayName", "name", "isOAuthClient", "isOAuthResource", "allowOffline", "active", "clientSecret", "redirectUris", "basedOnTemplate"}
		before := map[string]any{}
		for _, a := range attrs {
			before[a] = f.AppAttr(payroll, a)
		}
		r := s.act(t, 0, "app", "expiry", "set", "payroll-client", "--access-token", "30m", "--refresh-token", "7d", "--yes", "-o", "json", "--debug")
		got := jsonObject(t, r)
		if at, rt := f.AppAttr(payroll, "accessTokenExpiry"), f.AppAttr(payroll, "refreshTokenExpiry"); normalJSON(at) != 1800.0 || normalJSON(rt) != 604800.0 {
			t.Errorf("accessTokenExpiry %v and refreshTokenExpiry %v, want 1800 and 604800", at, rt)
		}
		after := map[string]any{}
		for _, a := range attrs {
			after[a] = f.AppAttr(payroll, a)
		}
		sameExcept(t, "app", before, after)
		if field(got, "applied") != "true" || field(got, "mismatch") != "" || field(got, "read_back", "refresh_token", "seconds") != "604800" {
			t.Errorf("applied %s, mismatch %s, read back %v", field(got, "applied"), field(got, "mismatch"), object(got, "read_back"))
		}
		noneIn(t, "expiry set --debug", r.Stdout+r.Stderr, []string{appSecret})
	})
	t.Run("key list reads the signing certificates; rotation is not supported", func(t *testing.T) {
		if r := s.run(t, 0, "key", "list", "-o", "json"); !strings.Contains(r.Stdout, "SIGNING_KEY") {
			t.Errorf("key list\n%s", r)
		}
		for _, use := range []string{"signing", "encryption"} {
			if r := s.run(t, 7, "key", "regen", "authz", use, "--yes"); !strings.Contains(r.Stderr, "no rotation API") {
				t.Errorf("exit 7 without the sentence\n%s", r)
			}
		}
	})
	t.Run("a 401 that persists after a fresh admin token is exit 4", func(t *testing.T) {
		tokens := f.TokensIssued()
		f.FailNext("", oraclefake.Fail401, 2)
		wantResult(t, jsonObject(t, s.act(t, 4, "token", "revoke", "--user", "carol", "--method", "deactivate", "--yes", "-o", "json")), "failed")
		if n := f.TokensIssued() - tokens; n != 2 {
			t.Errorf("%d admin tokens issued, want 2: after a 401 the token is fetched again once", n)
		}
	})
	t.Run("an HTML error page on the deactivation is exit 5 and changes nothing", func(t *testing.T) {
		f.FailNext(http.MethodPut, oraclefake.FailHTML, 1)
		r := s.act(t, 5, "token", "revoke", "--user", "carol", "--method", "deactivate", "--yes", "-o", "json")
		wantResult(t, jsonObject(t, r), "failed")
		if active, _ := f.UserActive(carol); !active {
			t.Error("carol was deactivated although the call failed")
		}
	})
	t.Run("a 429 is waited out as Retry-After says, then the call succeeds", func(t *testing.T) {
		f.FailNext(http.MethodGet, oraclefake.Fail429, 1)
		s.actions++
		r, took := timed(t, s.e, "token", "revoke", "--user", "carol", "--method", "deactivate", "--yes", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		wantResult(t, jsonObject(t, r), "revoked")
		if took < 2*time.Second {
			t.Errorf("finished in %s: Retry-After: 2 was not honoured", took)
		}
		if active, _ := f.UserActive(carol); active {
			t.Error("carol is still active")
		}
	})
	t.Run("every admin action left one audit line", func(t *testing.T) {
		entries := s.checkAudit(t)
		if en := wantAudit(t, entries, "revoke_user", "alice", "revoked"); !strings.HasPrefix(field(en, "request_id"), "fake-req-") {
			t.Errorf("no opc-request-id in %v", en)
		}
		wantAudit(t, entries, "revoke_user", "alice", "nothing to revoke")
		wantAudit(t, entries, "revoke_user", "nobody", "user not found")
		if en := wantAudit(t, entries, "revoke_user", "bob", "revoked"); field(en, "client") != "payroll-client" {
			t.Errorf("the grants revocation does not name the app: %v", en)
		}
		wantAudit(t, entries, "revoke_user", "carol", "failed")
		wantAudit(t, entries, "revoke_user", "carol", "revoked")
		wantAudit(t, entries, "set_expiry", "payroll-client", "applied")
		noneIn(t, "the audit log", auditLogFile(t, s.e), []string{f.ClientSecret, appSecret})
	})
}

func TestCiscoUCMAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	f := ucmfake.New(t)
	t.Cleanup(f.Close)
	noViolations(t, "cisco-ucm HTTP", f.Errors)
	// The publisher's platform CLI, pinned by fingerprint, and an IM and
	// Presence node, known from a known_hosts file; both take the AXL
	// user's password, which is the profile's admin secret.
	newCLI := func(name string) *ucmfake.CLI {
		c, err := ucmfake.NewCLI(ucmfake.CLIConfig{User: f.User, Password: f.Password})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		noViolations(t, name, c.Errors)
		return c
	}
	pub, imp := newCLI("publisher CLI"), newCLI("IM and Presence CLI")
	f.AddUser("bob")
	for _, c := range []string{"jabber", "jabber", "webex"} {
		f.IssueRefreshToken("alice", c)
		f.IssueRefreshToken("carol", c)
	}
	e := newEnv(t)
	knownHosts := e.WriteFile(t, "known_hosts", imp.KnownHostsLine()+"\n", false)
	s := &adminSession{provider: "cisco-ucm", e: adminEnv(t, "cisco-ucm", f.URL, f.Password, viaFile,
		"url="+f.URL, "user="+f.User, "ssh_host="+pub.Addr, "ssh_host_key_sha256="+pub.Fingerprint(),
		"imp_nodes="+imp.Addr, "ssh_known_hosts="+knownHosts)}
	requests := func() int { return len(f.Requests()) }
	// leaks checks that no refresh token the UCM handed back shows.
	leaks := func(t *testing.T, where, text string) {
		t.Helper()
		s.e.Secret(f.IssuedTokens()...)
		noneIn(t, where, text, f.IssuedTokens())
	}

	t.Run("a dry run prints the call and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "alice", nil, "GET /ssosp/token/revoke?user_id=alice")
	})
	t.Run("without a terminal and without --yes nothing is sent", func(t *testing.T) {
		s.needsYes(t, requests, "alice")
	})
	t.Run("--client revokes that client's refresh tokens and shows none of them", func(t *testing.T) {
		r := s.act(t, 0, "token", "revoke", "--user", "alice", "--client", "jabber", "--yes", "-o", "json", "--debug")
		res := jsonObject(t, r)
		wantResult(t, res, "revoked")
		if !strings.Contains(field(res, "detail"), "2 refresh tokens") || f.TokenCount("alice") != 1 {
			t.Errorf("detail %q; alice keeps %d tokens, want the webex one", field(res, "detail"), f.TokenCount("alice"))
		}
		if reqs := f.Requests(); len(reqs) == 0 || reqs[len(reqs)-1].Query.Get("client_id") != "jabber" {
			t.Errorf("the revoke call did not name client_id=jabber")
		}
		leaks(t, "revoke --debug", r.Stdout+r.Stderr)
	})
	t.Run("--yes revokes the rest, and a second run has nothing to revoke", func(t *testing.T) {
		r := s.act(t, 0, "token", "revoke", "--user", "alice", "--yes", "-o", "json", "--debug")
		wantResult(t, jsonObject(t, r), "revoked")
		leaks(t, "revoke --debug", r.Stdout+r.Stderr)
		if f.TokenCount("alice") != 0 || f.TokenCount("carol") != 3 {
			t.Errorf("alice keeps %d tokens, carol %d; want 0 and 3", f.TokenCount("alice"), f.TokenCount("carol"))
		}
		wantResult(t, s.revoke(t, "alice"), "nothing to revoke")
	})
	t.Run("the result says once how long issued access tokens stay valid", func(t *testing.T) {
		stillValidOnce(t, s.last)
	})
	t.Run("an unknown user is user not found", func(t *testing.T) {
		wantResult(t, s.revokeUnknown(t, "nobody"), "user not found")
	})
	t.Run("a failure that quotes a refresh token shows none of it", func(t *testing.T) {
		f.FailNext(ucmfake.FailStatus, 1)
		r := s.act(t, 1, "token", "revoke", "--user", "carol", "--yes", "--debug")
		leaks(t, "a failed revoke --debug", r.Stdout+r.Stderr)
		if f.TokenCount("carol") != 3 {
			t.Error("carol's tokens changed")
		}
	})
	t.Run("expiry get describes the cluster-wide timers; set is not supported", func(t *testing.T) {
		got := jsonObject(t, s.run(t, 0, "app", "expiry", "get", "cluster", "-o", "json"))
		if field(got, "access_token", "source") != "inherited" || !strings.Contains(field(got, "access_token", "set_where"), "Enterprise Parameters") {
			t.Errorf("access token %v, want the enterprise parameter, inherited", object(got, "access_token"))
		}
		before := requests()
		if r := s.run(t, 7, "app", "expiry", "set", "cluster", "--access-token", "30m", "--yes"); !strings.Contains(r.Stderr, "Enterprise Parameters") {
			t.Errorf("exit 7 without saying where the timers are set\n%s", r)
		}
		if requests() != before {
			t.Error("requests were sent")
		}
	})
	t.Run("key regen over SSH reports the new key and restarts the IM and Presence service", func(t *testing.T) {
		list := s.run(t, 0, "key", "list", "-o", "json")
		if !strings.Contains(list.Stdout, pub.KeyID("signing")) || !strings.Contains(list.Stdout, pub.KeyID("encryption")) {
			t.Errorf("key list does not show the CLI's keys\n%s", list)
		}
		old := pub.KeyID("signing")
		r := s.act(t, 0, "key", "regen", "authz", "signing", "--restart-services", "--yes", "-o", "json", "--debug")
		got := jsonObject(t, r)
		if now := pub.KeyID("signing"); now == old || field(got, "new_kid") != now {
			t.Errorf("new_kid %q, the CLI's key is %q (was %q)", field(got, "new_kid"), now, old)
		}
		if a := pub.Answers(); len(a) != 1 || a[0] != "yes" {
			t.Errorf("answers to the CLI's question: %q", a)
		}
		if got := imp.Restarts(); len(got) != 1 || got[0] != "Cisco XCP Authentication Service" {
			t.Errorf("IM and Presence restarts: %q", got)
		}
		if len(pub.Restarts()) != 0 {
			t.Error("the publisher's services were restarted")
		}
		noneIn(t, "key regen --debug", r.Stdout+r.Stderr, []string{f.Password})
	})
	t.Run("a publisher whose host key is not the pinned one gets nothing typed", func(t *testing.T) {
		other := newCLI("impostor CLI")
		e := adminEnv(t, "cisco-ucm", f.URL, f.Password, viaFile, "url="+f.URL, "user="+f.User,
			"ssh_host="+other.Addr, "ssh_host_key_sha256="+pub.Fingerprint())
		r := run(t, e, "", "key", "regen", "authz", "signing", "--yes")
		if r.Code == 0 || !strings.Contains(r.Stderr, "pinned") {
			t.Errorf("want a refusal naming the pinned key\n%s", r)
		}
		if len(other.Logins()) != 0 || len(other.Commands()) != 0 {
			t.Errorf("the impostor saw logins %q and commands %q", other.Logins(), other.Commands())
		}
	})
	t.Run("a 401 is exit 4", func(t *testing.T) {
		f.FailNext(ucmfake.Fail401, 1)
		wantResult(t, jsonObject(t, s.act(t, 4, "token", "revoke", "--user", "carol", "--yes", "-o", "json")), "failed")
	})
	t.Run("a 429 is waited out as Retry-After says, then the call succeeds", func(t *testing.T) {
		f.FailNext(ucmfake.Fail429, 1)
		s.actions++
		r, took := timed(t, s.e, "token", "revoke", "--user", "carol", "--client", "webex", "--yes", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		wantResult(t, jsonObject(t, r), "revoked")
		if took < time.Second {
			t.Errorf("finished in %s: Retry-After: 1 was not honoured", took)
		}
	})
	t.Run("HTML error pages that outlast the retries are exit 5", func(t *testing.T) {
		// The revoke call is a GET, retried on 502 with back-off: only a
		// page that keeps coming fails it.
		f.FailNext(ucmfake.FailHTML, 5)
		r := s.act(t, 5, "token", "revoke", "--user", "carol", "--yes", "-o", "json")
		wantResult(t, jsonObject(t, r), "failed")
		if !strings.Contains(r.Stderr, "HTML") {
			t.Errorf("the error does not say an HTML page came back\n%s", r)
		}
		if f.TokenCount("carol") != 2 {
			t.Errorf("carol keeps %d tokens, want the 2 jabber ones", f.TokenCount("carol"))
		}
	})
	t.Run("every admin action left one audit line, with no refresh token in it", func(t *testing.T) {
		entries := s.checkAudit(t)
		var jabber int
		for _, en := range auditFind(entries, "revoke_user", "revoked") {
			if field(en, "user") == "alice" && field(en, "client") == "jabber" {
				jabber++
			}
		}
		if jabber != 1 {
			t.Errorf("%d entries of alice's jabber revocation, want 1", jabber)
		}
		wantAudit(t, entries, "revoke_user", "alice", "nothing to revoke")
		wantAudit(t, entries, "revoke_user", "nobody", "user not found")
		wantAudit(t, entries, "revoke_user", "carol", "failed")
		wantAudit(t, entries, "revoke_user", "carol", "revoked")
		if en := wantAudit(t, entries, "rotate_key", "", "rotated"); !strings.Contains(field(en, "detail"), pub.KeyID("signing")) {
			t.Errorf("the rotation entry does not name the new key: %v", en)
		}
		log := auditLogFile(t, s.e)
		leaks(t, "the audit log", log)
		noneIn(t, "the audit log", log, []string{f.Password})
	})
}

// A bad gateway is not a rate limit. Okta and Auth0 send their
// X-Rate-Limit(-)Reset header on every answer, 5xx included, naming when
// the current one-minute window ends; an idempotent call that met a 502
// must be repeated after a short back-off, not when that window resets.
func TestABadGatewayIsRetriedSoonNotAtTheRateLimitWindowReset(t *testing.T) {
	t.Parallel()
	const deadline = 10 * time.Second
	t.Run("okta", func(t *testing.T) {
		t.Parallel()
		f := oktafake.New(t, oktafake.Options{})
		t.Cleanup(f.Close)
		noViolations(t, "okta", f.Violations)
		f.AddUser(oktafake.User{ID: "00u1alice", Login: "alice@example.com"})
		f.AddAuthorizationServer("default")
		e := adminEnv(t, "okta", f.URL+"/oauth2/default", f.Token(), viaFile, "url="+f.URL)
		f.Inject(oktafake.Injection{Method: http.MethodGet, PathPrefix: "/api/v1/users/", Fault: oktafake.FaultHTML})
		r := start(t, e, "", "token", "revoke", "--user", "alice@example.com", "--yes", "-o", "json").waitResult(deadline)
		if r.Code != 0 {
			t.Fatalf("want exit 0 after one 502 and a retry\n%s", r)
		}
		if n := requestsTo(f.Requests(), oktaReq, http.MethodGet, "/api/v1/users/alice@example.com"); n != 2 {
			t.Errorf("the user was read %d times, want 2 (502, then success)", n)
		}
	})
	t.Run("auth0", func(t *testing.T) {
		t.Parallel()
		f := auth0fake.New(t, auth0fake.Options{})
		t.Cleanup(f.Close)
		noViolations(t, "auth0", f.Violations)
		f.AddUser(auth0fake.User{ID: "auth0|alice", Email: "alice@example.com"})
		e := adminEnv(t, "auth0", f.URL+"/", f.ClientSecret(), viaFile, "url="+f.URL, "client_id="+f.ClientID())
		f.Inject(auth0fake.Injection{Method: http.MethodDelete, PathPrefix: "/api/v2/users/auth0|alice/refresh-tokens", Fault: auth0fake.FaultHTML})
		r := start(t, e, "", "token", "revoke", "--user", "auth0|alice", "--yes", "-o", "json").waitResult(deadline)
		if r.Code != 0 {
			t.Fatalf("want exit 0 after one 502 and a retry\n%s", r)
		}
		if n := requestsTo(f.Requests(), auth0Req, http.MethodDelete, "/api/v2/users/auth0|alice/refresh-tokens"); n != 2 {
			t.Errorf("the deletion was sent %d times, want 2 (502, then success)", n)
		}
	})
}
