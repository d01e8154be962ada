package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// jwtParts decodes a compact JWS's header and payload without verifying.
func jwtParts(t testing.TB, jwt string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

// checkPushed checks RFC 9126 §4: the browser gets only client_id and the
// request_uri the IdP returned.
func checkPushed(t testing.TB, q map[string][]string, clientID string) {
	t.Helper()
	if len(q) != 2 || len(q["client_id"]) != 1 || q["client_id"][0] != clientID || len(q["request_uri"]) != 1 || !strings.HasPrefix(q["request_uri"][0], "urn:ietf:params:oauth:request_uri:") {
		t.Errorf("the authorization URL is not a pushed request's: %v", q)
	}
}

func TestLoginPushesTheAuthorizationRequestWhenTheIdPRequiresIt(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{RequirePAR: true})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_SCOPES", loginScopes).Set("IDPCTL_CLIENT_AUTH_METHOD", "none")

	// The peer refuses any authorization request that was not pushed, and
	// says so in discovery (require_pushed_authorization_requests).
	authURL := login(t, e, p.FollowAuthorization, "--scope", loginScopes)
	checkPushed(t, authURL.Query(), oidcpeer.ClientCLIPublic)
	if tok := getToken(t, e); tok == "" {
		t.Fatal("no token after the login")
	}
}

func TestLoginPushesTheRequestWhenAskedForAClientThatRequiresIt(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCLIPAR).Set("IDPCTL_SCOPES", loginScopes).Set("IDPCTL_CLIENT_AUTH_METHOD", "none")
	authURL := login(t, e, p.FollowAuthorization, "--par", "--scope", loginScopes)
	checkPushed(t, authURL.Query(), oidcpeer.ClientCLIPAR)
}

func TestLoginSignsRequestObjectsForAClientThatRequiresThem(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{RequestObjects: true})
	env := func(t *testing.T) *Env {
		return peerEnv(t, p, oidcpeer.ClientCLIJAR).Set("IDPCTL_SCOPES", loginScopes).
			Set("IDPCTL_CLIENT_AUTH_METHOD", "private_key_jwt").Set("IDPCTL_PRIVATE_KEY_FILE", p.PrivateKeyFile["ES256"])
	}

	t.Run("--request-object sends a signed request in the URL", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		authURL := login(t, e, p.FollowAuthorization, "--request-object", "--scope", loginScopes)
		q := authURL.Query()
		if q.Get("client_id") != oidcpeer.ClientCLIJAR || q.Get("request") == "" || q.Get("state") != "" || q.Get("code_challenge") != "" {
			t.Fatalf("the authorization URL does not carry its parameters in a request object: %v", q)
		}
		h, c := jwtParts(t, q.Get("request"))
		if h["typ"] != "oauth-authz-req+jwt" || h["alg"] != "ES256" {
			t.Errorf("request object header %v", h)
		}
		if c["iss"] != oidcpeer.ClientCLIJAR || c["aud"] != p.Issuer || c["client_id"] != oidcpeer.ClientCLIJAR || c["code_challenge_method"] != "S256" || c["state"] == nil || c["exp"] == nil {
			t.Errorf("request object claims %v", c)
		}
	})

	t.Run("a pushed request is signed once the IdP says the client needs it", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		authURL := login(t, e, p.FollowAuthorization, "--par", "--scope", loginScopes)
		checkPushed(t, authURL.Query(), oidcpeer.ClientCLIJAR)
	})
}

// paymentDetails is an RFC 9396 §2 example shape of a configured type.
const paymentDetails = `[{"type":"payment_initiation","actions":["initiate"],"locations":["https://api.e2e.test"],"instructedAmount":{"currency":"EUR","amount":"12.34"}}]`

func TestAuthorizationDetailsAreRequestedAndShownAtOIDCProvider(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AuthorizationDetailsTypes: []string{"payment_initiation"}, AccessTokenTTL: 10 * time.Minute})

	wantDetail := func(t *testing.T, raw json.RawMessage, where string) {
		t.Helper()
		var got []map[string]any
		if err := json.Unmarshal(raw, &got); err != nil || len(got) != 1 || got[0]["type"] != "payment_initiation" {
			t.Fatalf("%s: authorization_details %s", where, raw)
		}
		amount, _ := got[0]["instructedAmount"].(map[string]any)
		if amount["amount"] != "12.34" {
			t.Errorf("%s: the details lost their content: %s", where, raw)
		}
	}

	t.Run("token get", func(t *testing.T) {
		t.Parallel()
		e := peerEnv(t, p, oidcpeer.ClientCCBasic)
		file := e.WriteFile(t, "details.json", paymentDetails, false)
		tj := getTokenJSON(t, e, "--resource", oidcpeer.Resource, "--authorization-details", "@"+file)
		wantDetail(t, tj.AuthorizationDetails, "token get -o json")
		wantDetail(t, jsonField(t, claims(t, tj.AccessToken), "authorization_details"), "the access token")

		r := mustRun(t, e, "", "token", "inspect", "-o", "json")
		var rep struct {
			AuthorizationDetails json.RawMessage `json:"authorization_details"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatal(err)
		}
		wantDetail(t, rep.AuthorizationDetails, "token inspect")
		if text := mustRun(t, e, "", "token", "inspect").Stdout; !strings.Contains(text, "Authorization details (RFC 9396)") || !strings.Contains(text, "payment_initiation") {
			t.Errorf("token inspect does not show the details:\n%s", text)
		}

		// Other details are another request: the cached token is not theirs.
		other := strings.Replace(paymentDetails, "12.34", "99.00", 1)
		r = mustRun(t, e, other, "token", "get", "-o", "json", "--resource", oidcpeer.Resource, "--authorization-details", "-")
		var tj2 tokenJSON
		if err := json.Unmarshal([]byte(r.Stdout), &tj2); err != nil {
			t.Fatal(err)
		}
		e.Secret(tj2.AccessToken)
		if tj2.Source == "cache" || !strings.Contains(string(tj2.AuthorizationDetails), "99.00") {
			t.Errorf("other details from stdin: source %s, details %s", tj2.Source, tj2.AuthorizationDetails)
		}
	})

	t.Run("login", func(t *testing.T) {
		t.Parallel()
		e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_SCOPES", loginScopes).Set("IDPCTL_CLIENT_AUTH_METHOD", "none")
		authURL := login(t, e, p.FollowAuthorization, "--scope", loginScopes, "--resource", oidcpeer.Resource, "--authorization-details", paymentDetails)
		wantDetail(t, json.RawMessage(authURL.Query().Get("authorization_details")), "the authorization request")
		tj := getTokenJSON(t, e, "--resource", oidcpeer.Resource, "--authorization-details", paymentDetails)
		if tj.Source != "cache" {
			t.Errorf("token get after the login came from %s, want the login's token", tj.Source)
		}
		wantDetail(t, tj.AuthorizationDetails, "the login's token")
	})

	t.Run("malformed details are a usage error before any request", func(t *testing.T) {
		t.Parallel()
		// An issuer nobody listens on: any request would end in exit 5.
		e := newEnv(t).Set("IDPCTL_ISSUER", "http://"+closedPort(t)).Set("IDPCTL_CLIENT_ID", "c").Set("IDPCTL_CLIENT_SECRET", "not-used-secret")
		for _, bad := range []string{`{"type":"payment_initiation"}`, `[{"actions":["x"]}]`, `[{"type":"payment_initiation","actions":"initiate"}]`, `[`, `[]`} {
			r := wantExit(t, e, 2, "", "token", "get", "--authorization-details", bad)
			if !strings.Contains(r.Stderr, "authorization details") {
				t.Errorf("%s: the error does not name the problem:\n%s", bad, r.Stderr)
			}
		}
	})
}

func jsonField(t testing.TB, m map[string]any, name string) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(m[name])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
