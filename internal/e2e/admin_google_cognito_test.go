package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/cognito/cognitofake"
	"github.com/idpctl/idpctl/internal/provider/google/googlefake"
)

func TestGoogleAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	const admin = "admin@example.com"
	f := googlefake.New(t, admin)
	t.Cleanup(f.Close)
	noViolations(t, "google", f.Violations)
	f.AddUser(googlefake.User{ID: "110001", Email: "alice@example.com"})
	f.AddUser(googlefake.User{ID: "110002", Email: "bob@example.com"})
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "1111.apps.googleusercontent.com", DisplayText: "Slack"})
	f.Grant(googlefake.Grant{UserID: "110001", ClientID: "2222.apps.googleusercontent.com", DisplayText: "Zoom"})
	key := f.KeyFile()
	var doc struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal([]byte(key), &doc); err != nil {
		t.Fatal(err)
	}
	// The key file is the admin secret, in IDPCTL_ADMIN_SECRET_FILE.
	e := adminEnv(t, "google", "https://accounts.google.com", key, viaFile,
		"url="+f.URL, "token_url="+f.URL+"/token", "subject="+admin)
	e.SecretPEM([]byte(doc.PrivateKey))
	s := &adminSession{provider: "google", e: e}
	requests := func() int { return len(f.Requests()) }

	t.Run("a dry run names the Directory API calls and the scope, and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "alice@example.com", nil,
			"POST /admin/directory/v1/users/alice@example.com/signOut",
			"GET /admin/directory/v1/users/alice@example.com/tokens",
			"DELETE /admin/directory/v1/users/alice@example.com/tokens/{clientId}",
			"https://www.googleapis.com/auth/admin.directory.user.security")
	})
	t.Run("a revocation signs the user out and deletes every application's tokens", func(t *testing.T) {
		res := s.revoke(t, "alice@example.com", "--debug")
		wantResult(t, res, "revoked")
		for _, app := range []string{"Slack", "Zoom"} {
			if !strings.Contains(field(res, "detail"), app) {
				t.Errorf("detail %q does not name %s", field(res, "detail"), app)
			}
		}
		if f.SignOuts("110001") != 1 || len(f.Grants("110001")) != 0 {
			t.Fatalf("sign-outs %d, grants left %v", f.SignOuts("110001"), f.Grants("110001"))
		}
		stillValidOnce(t, s.last)
		// The debug trace shows the token exchange with the assertion
		// and the issued token blanked.
		if !strings.Contains(s.last.Stderr, "POST "+f.URL+"/token") || strings.Contains(s.last.Stderr, "ya29.fake-access-token") {
			t.Errorf("the trace does not show the token request, or shows the admin token\n%s", s.last.Stderr)
		}
	})
	t.Run("an unknown user is not found", func(t *testing.T) {
		wantResult(t, s.revokeUnknown(t, "gone@example.com"), "user not found")
	})
	t.Run("lifetimes and key rotation exit 7 naming the console settings", func(t *testing.T) {
		r := s.run(t, 7, "app", "expiry", "get", "1111.apps.googleusercontent.com")
		if !strings.Contains(r.Stderr, "Google Cloud session control") {
			t.Errorf("%s", r)
		}
		r = s.run(t, 7, "key", "regen", "authz", "signing", "--yes")
		if !strings.Contains(r.Stderr, "Google manages") {
			t.Errorf("%s", r)
		}
	})
	s.checkAudit(t)
}

func TestCognitoAdminCommandsThroughTheBinary(t *testing.T) {
	t.Parallel()
	const (
		pool   = "eu-west-1_AbCdEf123"
		akid   = "AKIAE2ECOGNITOEXAMPL"
		secret = "e2eSecretAccessKey/0123456789abcdefEXAMPLE"
	)
	f := cognitofake.New(t, pool, "eu-west-1", akid, secret)
	t.Cleanup(f.Close)
	noViolations(t, "cognito", f.Violations)
	f.AddUser(cognitofake.User{Username: "alice", Sub: "sub-alice", Email: "alice@example.com"})
	f.AddClient("3n4b5urk1ft4fl3mg5e62d9ado", map[string]any{"ClientName": "web", "AccessTokenValidity": 20,
		"TokenValidityUnits": map[string]any{"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "days"},
		"CallbackURLs":       []any{"https://app.example.com/cb"}, "AllowedOAuthFlows": []any{"code"}})
	e := adminEnv(t, "cognito", "https://cognito-idp.eu-west-1.amazonaws.com/"+pool, "", viaFile,
		"user_pool_id="+pool, "url="+f.URL, "jwks_url="+f.URL+"/"+pool+"/.well-known/jwks.json")
	// The SDK's default chain: static keys in the environment, nothing else.
	e.Set("AWS_ACCESS_KEY_ID", akid).Set("AWS_SECRET_ACCESS_KEY", secret).Set("AWS_EC2_METADATA_DISABLED", "true")
	e.Secret(secret)
	s := &adminSession{provider: "cognito", e: e}
	requests := func() int { return len(f.Requests()) }

	t.Run("a dry run names the operations and IAM actions, and sends nothing", func(t *testing.T) {
		s.dryRun(t, requests, "alice@example.com", []string{"--client", "3n4b5urk1ft4fl3mg5e62d9ado"},
			"X-Amz-Target: AWSCognitoIdentityProviderService.AdminGetUser",
			"AWSCognitoIdentityProviderService.ListUsers",
			"AWSCognitoIdentityProviderService.AdminUserGlobalSignOut",
			"cognito-idp:AdminUserGlobalSignOut", "cognito-idp:DescribeUserPoolClient")
	})
	t.Run("a revocation signs the user out, signed with SigV4", func(t *testing.T) {
		res := s.revoke(t, "alice@example.com", "--client", "3n4b5urk1ft4fl3mg5e62d9ado")
		wantResult(t, res, "revoked")
		if f.SignOuts("alice") != 1 {
			t.Fatalf("sign-outs %d", f.SignOuts("alice"))
		}
		if !strings.Contains(field(res, "still_valid"), "20m for access tokens") {
			t.Errorf("still valid %q", field(res, "still_valid"))
		}
		stillValidOnce(t, s.last)
	})
	t.Run("an unknown user is not found", func(t *testing.T) {
		wantResult(t, s.revokeUnknown(t, "nobody"), "user not found")
	})
	t.Run("expiry set sends every attribute of the app client back", func(t *testing.T) {
		const client = "3n4b5urk1ft4fl3mg5e62d9ado"
		before := f.Client(client)
		r := s.run(t, 0, "app", "expiry", "set", client, "--access-token", "15m", "--dry-run")
		if !strings.Contains(r.Stdout, "15m") || !strings.Contains(r.Stderr, "Dry run") {
			t.Errorf("the dry run shows no diff\n%s", r)
		}
		got := jsonObject(t, s.act(t, 0, "app", "expiry", "set", client, "--access-token", "15m", "--refresh-token", "7d", "--yes", "-o", "json"))
		after := f.Client(client)
		// UpdateUserPoolClient resets what it is not sent: the callback
		// URLs and OAuth flows survive only if they were sent back.
		sameExcept(t, "app client "+client, before, after, "AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "LastModifiedDate")
		if field(got, "applied") != "true" || field(got, "read_back", "access_token", "seconds") != "900" || field(got, "read_back", "refresh_token", "seconds") != "604800" {
			t.Errorf("not applied as planned: %v", got)
		}
		s.run(t, 2, "app", "expiry", "set", client, "--access-token", "4m", "--yes")
	})
	t.Run("key list reads the pool's JWKS and regen exits 7", func(t *testing.T) {
		r := s.run(t, 0, "key", "list", "-o", "json")
		if !strings.Contains(r.Stdout, "cognito-kid-1") {
			t.Errorf("%s", r)
		}
		r = s.run(t, 7, "key", "regen", "authz", "signing", "--yes")
		if !strings.Contains(r.Stderr, "Cognito does not rotate") {
			t.Errorf("%s", r)
		}
	})
	s.checkAudit(t)
}
