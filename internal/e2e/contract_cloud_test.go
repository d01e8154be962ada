package e2e

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/cognito/cognitofake"
	"github.com/idpctl/idpctl/internal/provider/entra/entrafake"
	"github.com/idpctl/idpctl/internal/provider/fakekit"
	"github.com/idpctl/idpctl/internal/provider/google/googlefake"
	"github.com/idpctl/idpctl/internal/provider/webex/webexfake"
)

// The cloud directories' rows of the admin contract.

func countRequests(reqs []fakekit.Request, method, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func entraContract(t *testing.T) *contractIdP {
	const tenant, secret = "contoso.onmicrosoft.com", "contract-entra-admin-secret-0123456789"
	f := entrafake.New(t, tenant, "admin-app", secret)
	t.Cleanup(f.Close)
	noViolations(t, "entra", f.Violations)
	ids := map[string]string{"alice@contoso.com": "u-alice", "bob@contoso.com": "u-bob"}
	for upn, id := range ids {
		f.AddUser(entrafake.User{ID: id, UPN: upn, Mail: upn})
	}
	profile := func(t *testing.T, s string) *Env {
		return adminEnv(t, "entra", f.URL+"/"+tenant+"/v2.0", s, viaFile, "tenant="+tenant, "authority="+f.URL, "url="+f.URL, "client_id=admin-app")
	}
	return &contractIdP{
		session:     &adminSession{provider: "entra", e: profile(t, secret)},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "contract-entra-wrong-secret-0123456789") },
		requests:    func() int { return len(f.Requests()) + f.TokenRequests() },
		users:       []string{"alice@contoso.com", "bob@contoso.com"},
		// Entra keeps one sign-in session state per user; a revocation
		// resets it.
		tokens: func(u string) int {
			if f.Revocations(ids[u]) > 0 {
				return 0
			}
			return 1
		},
		dryRun:  []string{"GET /v1.0/users/alice@contoso.com", "POST /v1.0/users/{id}/revokeSignInSessions"},
		unknown: "nobody-at-all@contoso.com", unknownResult: "user not found", unknownSays: "no user",
		rateLimitNext: func(*testing.T) {
			f.Faults.Inject(fakekit.Injection{Method: http.MethodGet, Path: "/v1.0/users/bob@contoso.com", Fault: fakekit.RateLimited})
		},
		hits:        func() int { return countRequests(f.Requests(), http.MethodGet, "/v1.0/users/bob@contoso.com") },
		unsupported: []string{"key", "regen", "authz", "signing", "--yes"},
		insteadSays: "custom signing key",
	}
}

func webexContract(t *testing.T) *contractIdP {
	const token = "contract-webex-admin-token-0123456789"
	f := webexfake.New(t, token)
	t.Cleanup(f.Close)
	noViolations(t, "webex", f.Violations)
	ids := map[string]string{"alice@example.com": "p-alice", "bob@example.com": "p-bob"}
	for email, id := range ids {
		f.AddPerson(webexfake.Person{ID: id, Email: email})
		f.Grant(id, "C1", "Jira Cloud", "refresh")
		f.Grant(id, "C2", "Developer Portal", "refresh")
	}
	profile := func(t *testing.T, s string) *Env {
		return adminEnv(t, "webex", "https://webexapis.com/v1", s, viaFile, "url="+f.URL+"/v1")
	}
	return &contractIdP{
		session:     &adminSession{provider: "webex", e: profile(t, token)},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "contract-webex-wrong-token-0123456789") },
		requests:    func() int { return len(f.Requests()) },
		users:       []string{"alice@example.com", "bob@example.com"},
		tokens:      func(u string) int { return len(f.Authorizations(ids[u])) },
		dryRun:      []string{"GET /v1/people?email=alice%40example.com", "DELETE /v1/authorizations/{authorizationId}"},
		unknown:     "nobody-at-all@example.com", unknownResult: "user not found", unknownSays: "no person",
		rateLimitNext: func(*testing.T) {
			f.Faults.Inject(fakekit.Injection{Method: http.MethodGet, Path: "/v1/people", Fault: fakekit.RateLimited})
		},
		hits:        func() int { return countRequests(f.Requests(), http.MethodGet, "/v1/people") },
		unsupported: []string{"app", "expiry", "get", "C1"},
		insteadSays: "Webex sets token lifetimes",
	}
}

func googleContract(t *testing.T) *contractIdP {
	const admin = "admin@example.com"
	f := googlefake.New(t, admin)
	t.Cleanup(f.Close)
	noViolations(t, "google", f.Violations)
	// The admin the service account acts as is a user of the domain too.
	f.AddUser(googlefake.User{ID: "100000", Email: admin})
	ids := map[string]string{"alice@example.com": "110001", "bob@example.com": "110002"}
	for email, id := range ids {
		f.AddUser(googlefake.User{ID: id, Email: email})
		f.Grant(googlefake.Grant{UserID: id, ClientID: "1111.apps.googleusercontent.com", DisplayText: "Slack"})
	}
	key := f.KeyFile()
	// A key file of the same service account with a key Google does not
	// hold: the assertion it signs is refused.
	var doc map[string]any
	if err := json.Unmarshal([]byte(key), &doc); err != nil {
		t.Fatal(err)
	}
	realPEM, _ := doc["private_key"].(string)
	doc["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(fakekit.NewRSAKey())}))
	wrong, _ := json.Marshal(doc)
	profile := func(t *testing.T, keyFile string) *Env {
		e := adminEnv(t, "google", "https://accounts.google.com", keyFile, viaFile, "url="+f.URL, "token_url="+f.URL+"/token", "subject="+admin)
		e.SecretPEM([]byte(realPEM))
		var d map[string]any
		_ = json.Unmarshal([]byte(keyFile), &d)
		if p, _ := d["private_key"].(string); p != "" {
			e.SecretPEM([]byte(p))
		}
		return e
	}
	return &contractIdP{
		session:     &adminSession{provider: "google", e: profile(t, key)},
		wrongSecret: func(t *testing.T) *Env { return profile(t, string(wrong)) },
		requests:    func() int { return len(f.Requests()) },
		users:       []string{"alice@example.com", "bob@example.com"},
		// A user holds their application grants and their sign-in
		// session until the first sign-out.
		tokens: func(u string) int {
			n := len(f.Grants(ids[u]))
			if f.SignOuts(ids[u]) == 0 {
				n++
			}
			return n
		},
		dryRun:  []string{"POST /admin/directory/v1/users/alice@example.com/signOut", "/admin/directory/v1/users/alice@example.com/tokens"},
		unknown: "nobody-at-all@example.com", unknownResult: "user not found", unknownSays: "nobody-at-all@example.com",
		rateLimitNext: func(*testing.T) {
			f.Faults.Inject(fakekit.Injection{Method: http.MethodGet, Path: "/admin/directory/v1/users/bob@example.com/tokens", Fault: fakekit.RateLimited})
		},
		hits: func() int {
			return countRequests(f.Requests(), http.MethodGet, "/admin/directory/v1/users/bob@example.com/tokens")
		},
		unsupported: []string{"app", "expiry", "get", "1111.apps.googleusercontent.com"},
		insteadSays: "Google Cloud session control",
	}
}

func cognitoContract(t *testing.T) *contractIdP {
	const (
		pool   = "eu-west-1_AbCdEf123"
		akid   = "AKIACONTRACTCOGNITO1"
		secret = "contractSecretAccessKey/0123456789abcdefEXAMPLE"
	)
	f := cognitofake.New(t, pool, "eu-west-1", akid, secret)
	t.Cleanup(f.Close)
	noViolations(t, "cognito", f.Violations)
	for _, u := range []string{"alice", "bob"} {
		f.AddUser(cognitofake.User{Username: u, Sub: "sub-" + u, Email: u + "@example.com"})
	}
	profile := func(t *testing.T, key string) *Env {
		e := adminEnv(t, "cognito", "https://cognito-idp.eu-west-1.amazonaws.com/"+pool, "", viaFile,
			"user_pool_id="+pool, "url="+f.URL, "jwks_url="+f.URL+"/"+pool+"/.well-known/jwks.json")
		// The SDK's default chain: static keys in the environment.
		e.Set("AWS_ACCESS_KEY_ID", akid).Set("AWS_SECRET_ACCESS_KEY", key).Set("AWS_EC2_METADATA_DISABLED", "true")
		e.Secret(key, secret)
		return e
	}
	isGetUser := func(r fakekit.Request, user string) bool {
		return r.Path == "/AdminGetUser" && strings.Contains(string(r.Body), `"`+user+`"`)
	}
	return &contractIdP{
		session:     &adminSession{provider: "cognito", e: profile(t, secret)},
		wrongSecret: func(t *testing.T) *Env { return profile(t, "contractWrongSecretKey/0123456789abcdefEXAMPLE") },
		requests:    func() int { return len(f.Requests()) },
		users:       []string{"alice", "bob"},
		// A global sign-out ends every refresh token of the user.
		tokens: func(u string) int {
			if f.SignOuts(u) > 0 {
				return 0
			}
			return 1
		},
		dryRun:  []string{"AdminUserGlobalSignOut", "cognito-idp:AdminUserGlobalSignOut"},
		unknown: "nobody-at-all", unknownResult: "user not found", unknownSays: "nobody-at-all",
		// Cognito throttles with 400 TooManyRequestsException; the SDK
		// backs off and repeats.
		rateLimitNext: func(*testing.T) {
			f.Faults.Inject(fakekit.Injection{Path: "/AdminGetUser", Fault: cognitofake.Throttled})
		},
		hits: func() int {
			n := 0
			for _, r := range f.Requests() {
				if isGetUser(r, "bob") {
					n++
				}
			}
			return n
		},
		unsupported: []string{"key", "regen", "authz", "signing", "--yes"},
		insteadSays: "Cognito does not rotate",
	}
}
