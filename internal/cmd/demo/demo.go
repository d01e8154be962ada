// Package demo implements `idpctl demo`: the token lifecycle, step by step,
// against an in-process sandbox IdP.
package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
	"github.com/idpctl/idpctl/internal/sandbox"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
)

// DemoOptions are the inputs of demo.
type DemoOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
}

// NewCmdDemo builds the command.
func NewCmdDemo(f *cli.Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		Use:   "demo",
		Short: "Walk through the whole token lifecycle against a built-in IdP",
		Long: `Start the sandbox IdP in this process (loopback only, in memory) and run the
token lifecycle against it with idpctl's own code, explaining each step:
discovery, a client credentials token and its caching, signature
verification against the JWKS, a browser-style login with PKCE (the sandbox
approves it), a refresh with rotation, revocation, and introspection showing
the revoked token inactive.

Then the admin half, as a short offboarding through the sandbox's admin API
and the same provider adapter the admin commands use: a user logs in, their
tokens are revoked (a dry run first), their refresh token stops working, an
application's access-token lifetime is shortened and the next token shows it,
and the signing key is rotated and a token signed by the new key verifies.

Nothing is read from or written to your configuration or keychain. The exit
status is 0 only if every step behaved as the standards say.`,
		Example: "  idpctl demo",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
}

type runner struct {
	pr     *ui.Printer
	n      int
	failed int
}

func (r *runner) step(title string, fn func() (string, error)) bool {
	r.n++
	r.pr.Printf("%s %s\n", r.pr.Heading(fmt.Sprintf("%d.", r.n)), title)
	detail, err := fn()
	if err != nil {
		r.failed++
		r.pr.Printf("   %s %s\n", r.pr.Failure("✗"), err.Error())
		return false
	}
	for _, line := range strings.Split(detail, "\n") {
		r.pr.Printf("   %s\n", line)
	}
	r.pr.Printf("   %s\n", r.pr.Success("✓"))
	return true
}

func demoRun(ctx context.Context, opts *DemoOptions) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	srv, err := sandbox.Start(ctx, sandbox.Options{Users: 1})
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	defer srv.Close()
	service, _ := srv.Client(sandbox.ServiceClientID)

	// A factory of its own: memory store, no configuration file, no
	// discovery cache, and the sandbox playing the browser.
	quiet := &iostreams.IOStreams{In: opts.IO.In, Out: opts.IO.Out, ErrOut: io.Discard}
	// The admin credential reaches the factory as it would from a shell,
	// in IDPCTL_ADMIN_SECRET; nothing else is read from the environment.
	df := cli.New(quiet, func(k string) string {
		if k == "IDPCTL_ADMIN_SECRET" {
			return srv.AdminSecret()
		}
		return ""
	}, opts.Factory.Version)
	df.Flags.Store = "memory"
	df.Flags.Debug = opts.Factory.Flags.Debug
	if df.Flags.Debug {
		quiet.ErrOut = opts.IO.ErrOut
	}
	profile := &config.Resolved{Name: "demo", ClientSecretFromEnv: service.Secret, Profile: config.Profile{
		Issuer: srv.Issuer(), ClientID: service.ID, ClientAuthMethod: oauth.AuthSecretBasic, Provider: "generic",
	}}
	df.Profile = func() (*config.Resolved, error) { return profile, nil }
	df.Metadata = func(ctx context.Context, p *config.Resolved) (*oauth.Metadata, error) {
		hc, err := df.HTTPClient(p)
		if err != nil {
			return nil, err
		}
		return oauth.Discover(ctx, hc, p.Issuer)
	}
	df.Browser = func(u string) error {
		go func() { _ = srv.FollowAuthorization(ctx, u) }()
		return nil
	}

	r := &runner{pr: ui.New(opts.IO.Out, opts.IO.ColorEnabled())}
	r.pr.Println(r.pr.Heading("idpctl demo") + " " + r.pr.Dim("against the sandbox at "+srv.Issuer()))
	r.pr.Println()

	var md *oauth.Metadata
	var client *oauth.Client
	if !r.step("Discover the IdP (OpenID Connect Discovery; the issuer must match exactly)", func() (string, error) {
		var err error
		if md, err = df.Metadata(ctx, profile); err != nil {
			return "", err
		}
		if client, err = df.OAuthClient(ctx, profile); err != nil {
			return "", err
		}
		return fmt.Sprintf("token endpoint %s\ngrants: %s", md.TokenEndpoint, strings.Join(md.GrantTypesSupported, ", ")), nil
	}) {
		return errs.New(errs.KindNetwork, "the demo could not reach its own sandbox")
	}

	ccGrant := tokens.GrantOptions{Flow: tokens.FlowClientCredentials, Options: oauth.TokenOptions{Scopes: []string{"api:read"}}}
	var ccToken string
	r.step("token get: client credentials grant (RFC 6749 §4.4), then the same request again", func() (string, error) {
		svc, err := df.TokenService(ctx, profile, ccGrant)
		if err != nil {
			return "", err
		}
		before := srv.Requests(sandbox.PathToken)
		first, err := svc.Get(ctx, tokens.Request{Options: ccGrant.Options, MinTTL: time.Minute})
		if err != nil {
			return "", err
		}
		second, err := svc.Get(ctx, tokens.Request{Options: ccGrant.Options, MinTTL: time.Minute})
		if err != nil {
			return "", err
		}
		calls := srv.Requests(sandbox.PathToken) - before
		if first.Source != tokens.FromGrant || second.Source != tokens.FromCache || calls != 1 || first.Token.AccessToken != second.Token.AccessToken {
			return "", fmt.Errorf("expected one token request and a cache hit, saw %d requests (%s, then %s)", calls, first.Source, second.Source)
		}
		ccToken = first.Token.AccessToken
		return fmt.Sprintf("access token %s (expires in %s)\nsecond call served from the cache: 1 request reached the IdP", preview(ccToken), time.Until(first.Token.ExpiresAt).Round(time.Second)), nil
	})

	r.step("token inspect: verify the JWT's signature against the IdP's JWKS", func() (string, error) {
		if ccToken == "" {
			return "", fmt.Errorf("no token from the previous step")
		}
		v, err := jose.Verify(ctx, ccToken, oauth.JWKS(client.HTTP, md.JWKSURI), jose.VerifyOptions{Issuer: md.Issuer})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("signature verified with kid %s (%s); iss %s, sub %s", v.KeyID, v.Algorithm, v.Issuer, v.Subject), nil
	})

	loginGrant := tokens.GrantOptions{Flow: tokens.FlowAuthCode, AllowInteractiveOnNoTTY: true, Options: oauth.TokenOptions{Scopes: []string{"openid", "offline_access", "api:read"}}}
	var loginSvc *tokens.Service
	var firstRefresh string
	r.step("login: authorization code with PKCE S256 on a 127.0.0.1 redirect (the sandbox approves)", func() (string, error) {
		var err error
		if loginSvc, err = df.TokenService(ctx, profile, loginGrant); err != nil {
			return "", err
		}
		res, err := loginSvc.Obtain(ctx, tokens.Request{Options: loginGrant.Options})
		if err != nil {
			return "", err
		}
		if res.Refresh == nil {
			return "", fmt.Errorf("no refresh token came back with offline_access")
		}
		if res.Token.IDToken == "" {
			return "", fmt.Errorf("no ID token came back with openid")
		}
		firstRefresh = res.Refresh.RefreshToken
		return "state, iss (RFC 9207) and the ID token's signature and nonce checked\naccess, refresh and ID tokens cached", nil
	})

	r.step("token refresh: refresh_token grant (RFC 6749 §6) with rotation", func() (string, error) {
		if loginSvc == nil || firstRefresh == "" {
			return "", fmt.Errorf("no login from the previous step")
		}
		res, err := loginSvc.Get(ctx, tokens.Request{Options: loginGrant.Options, Refresh: true, NoGrant: true})
		if err != nil {
			return "", err
		}
		if !res.Rotated {
			return "", fmt.Errorf("the sandbox rotates refresh tokens, but the refresh token did not change")
		}
		return fmt.Sprintf("new access token %s; the refresh token rotated and the new one is stored", preview(res.Token.AccessToken)), nil
	})

	var revokedAccess string
	r.step("token revoke: revoke the cached refresh and access tokens (RFC 7009)", func() (string, error) {
		at, err := loadAccess(ctx, df, profile)
		if err != nil {
			return "", err
		}
		revokedAccess = at
		cache, err := df.CachedTokens(profile)
		if err != nil {
			return "", err
		}
		results, err := cache.RevokeCached(ctx, client)
		if err != nil {
			return "", err
		}
		var lines []string
		for _, o := range results {
			lines = append(lines, fmt.Sprintf("%s: %s", strings.ReplaceAll(o.Kind, "_", " "), o.Result))
		}
		return strings.Join(lines, "\n") + "\nlocal copies removed after the IdP confirmed", nil
	})

	r.step("token inspect --introspect: the IdP now reports the token inactive (RFC 7662)", func() (string, error) {
		if revokedAccess == "" {
			return "", fmt.Errorf("no revoked token from the previous step")
		}
		in, err := client.Introspect(ctx, revokedAccess, oauth.HintAccessToken)
		if err != nil {
			return "", err
		}
		if in.Active {
			return "", fmt.Errorf("the IdP still reports the revoked token active")
		}
		note := "active: false"
		if _, err := jose.Verify(ctx, revokedAccess, oauth.JWKS(client.HTTP, md.JWKSURI), jose.VerifyOptions{Issuer: md.Issuer}); err == nil {
			note += "\nnote: its signature still verifies; an API that only checks JWTs locally\naccepts it until it expires, which is why access tokens should be short-lived"
		}
		return note, nil
	})

	offboard(ctx, r, df, srv, profile, md, client)

	r.pr.Println()
	if r.failed > 0 {
		return errs.New(errs.KindUnknown, "%d of %d demo steps did not behave as the standards say", r.failed, r.n)
	}
	r.pr.Println(r.pr.Success(fmt.Sprintf("All %d steps behaved as the standards say.", r.n)))
	return nil
}

func loadAccess(ctx context.Context, f *cli.Factory, p *config.Resolved) (string, error) {
	store, err := f.Store()
	if err != nil {
		return "", err
	}
	var at credstore.AccessToken
	if err := credstore.LoadJSON(ctx, store, p.Name, credstore.KindAccessToken, &at); err != nil {
		return "", err
	}
	return at.AccessToken, nil
}

// preview shows the start of a token so the demo reads naturally without
// printing a usable credential in full.
func preview(token string) string {
	if len(token) <= 16 {
		return "(" + fmt.Sprint(len(token)) + " characters)"
	}
	return token[:12] + "… (" + fmt.Sprint(len(token)) + " characters)"
}

// offboard is the admin half: one user's offboarding against the sandbox's
// admin API, through the adapter the admin commands use. No audit record is
// written: the demo changes nothing outside its own sandbox.
func offboard(ctx context.Context, r *runner, df *cli.Factory, srv *sandbox.Server, base *config.Resolved, md *oauth.Metadata, client *oauth.Client) {
	leaver := sandbox.SeededUser(1)
	p := &config.Resolved{Name: "demo-admin", ClientSecretFromEnv: base.ClientSecretFromEnv, Profile: base.Profile}
	p.Provider = "sandbox"
	r.pr.Println()
	r.pr.Println(r.pr.Heading("Offboarding:") + " " + r.pr.Dim(leaver+" leaves; the sandbox's admin API, through the provider adapter the admin commands use"))
	r.pr.Println()

	var prov provider.Provider
	var leaverSvc *tokens.Service
	leaverGrant := tokens.GrantOptions{Flow: tokens.FlowAuthCode, AllowInteractiveOnNoTTY: true, Options: oauth.TokenOptions{Scopes: []string{"openid", "offline_access", "api:read"}}}
	r.step("login as "+leaver+" (a seeded user with a live grant already)", func() (string, error) {
		env, err := df.ProviderEnv(ctx, p)
		if err != nil {
			return "", err
		}
		if prov, err = registry.New(p.Provider, env); err != nil {
			return "", err
		}
		df.Browser = func(u string) error {
			go func() { _ = srv.FollowAuthorizationAs(ctx, u, leaver) }()
			return nil
		}
		if leaverSvc, err = df.TokenService(ctx, p, leaverGrant); err != nil {
			return "", err
		}
		if _, err := leaverSvc.Obtain(ctx, tokens.Request{Options: leaverGrant.Options}); err != nil {
			return "", err
		}
		g, _ := srv.Grants(leaver)
		return fmt.Sprintf("%s now holds %d refresh tokens and %d sessions", leaver, g.RefreshTokens, g.Sessions), nil
	})

	req := provider.RevokeUserRequest{User: leaver}
	r.step("token revoke --user "+leaver+" --dry-run: the plan, and nothing sent", func() (string, error) {
		rv, err := registry.Revoker(prov)
		if err != nil {
			return "", err
		}
		before, _ := srv.Grants(leaver)
		calls, err := rv.PlanRevokeUser(req)
		if err != nil {
			return "", err
		}
		if after, _ := srv.Grants(leaver); after != before {
			return "", fmt.Errorf("the dry run changed the sandbox")
		}
		var lines []string
		for _, c := range provider.Placeholders(calls) {
			lines = append(lines, c.String())
		}
		return strings.Join(lines, "\n"), nil
	})

	r.step("token revoke --user "+leaver+": the IdP ends the user's tokens and sessions", func() (string, error) {
		rv, err := registry.Revoker(prov)
		if err != nil {
			return "", err
		}
		res, err := rv.RevokeUser(ctx, req)
		if err != nil {
			return "", err
		}
		if res.Outcome != provider.OutcomeRevoked {
			return "", fmt.Errorf("result %q, want %q", res.Outcome, provider.OutcomeRevoked)
		}
		out := string(res.Outcome) + ": " + res.Detail
		if res.StillValid != "" {
			out += "\naccess tokens already issued stay valid " + res.StillValid
		}
		return out, nil
	})

	r.step("token refresh as "+leaver+": the refresh token is dead", func() (string, error) {
		if leaverSvc == nil {
			return "", fmt.Errorf("no login from the previous steps")
		}
		_, err := leaverSvc.Get(ctx, tokens.Request{Options: leaverGrant.Options, Refresh: true, NoGrant: true})
		if err == nil {
			return "", fmt.Errorf("the refresh succeeded after the revocation")
		}
		if !errs.Is(err, errs.KindLoginRequired) || !strings.Contains(err.Error(), "invalid_grant") {
			return "", fmt.Errorf("the refresh failed, but not with invalid_grant: %w", err)
		}
		return "invalid_grant (exit code 3): what was cached for " + leaver + " is of no use; only a new login would do", nil
	})

	ccGrant := tokens.GrantOptions{Flow: tokens.FlowClientCredentials, Options: oauth.TokenOptions{Scopes: []string{"api:read"}}}
	// freshToken gets a new client-credentials token from the sandbox,
	// past the cache, and verifies it against the JWKS as published now.
	freshToken := func() (*jose.Verified, error) {
		svc, err := df.TokenService(ctx, base, ccGrant)
		if err != nil {
			return nil, err
		}
		res, err := svc.Get(ctx, tokens.Request{Options: ccGrant.Options, NoCache: true})
		if err != nil {
			return nil, err
		}
		return jose.Verify(ctx, res.Token.AccessToken, oauth.JWKS(client.HTTP, md.JWKSURI), jose.VerifyOptions{Issuer: md.Issuer})
	}

	r.step("app expiry set "+sandbox.ServiceClientID+" --access-token 2m: the next token shows it", func() (string, error) {
		m, err := registry.ExpiryManager(prov)
		if err != nil {
			return "", err
		}
		d := 2 * time.Minute
		plan, err := m.PlanExpiry(ctx, sandbox.ServiceClientID, provider.LifetimeChange{AccessToken: &d})
		if err != nil {
			return "", err
		}
		after, err := m.ApplyExpiry(ctx, plan)
		if err != nil {
			return "", err
		}
		v, err := freshToken()
		if err != nil {
			return "", err
		}
		if life := v.ExpiresAt.Sub(v.IssuedAt); life != d {
			return "", fmt.Errorf("the new token lives %s, want %s", life, d)
		}
		return fmt.Sprintf("access token lifetime %s -> %s\na new token's exp - iat = %s", plan.Before.AccessToken.Native, after.AccessToken.Native, durations.Format(d)), nil
	})

	r.step("key regen authz signing, then token inspect: the new key signs and verifies", func() (string, error) {
		kr, err := registry.KeyRotator(prov)
		if err != nil {
			return "", err
		}
		plan, err := kr.PlanRotate(ctx, provider.KeySigning, provider.RotateOptions{})
		if err != nil {
			return "", err
		}
		rotated, err := kr.Rotate(ctx, plan)
		if err != nil {
			return "", err
		}
		v, err := freshToken()
		if err != nil {
			return "", err
		}
		if v.KeyID != rotated.NewKID {
			return "", fmt.Errorf("the new token is signed by %s, not the new key %s", v.KeyID, rotated.NewKID)
		}
		return fmt.Sprintf("new key %s in %s\na new token verifies with it (%s); the previous key stays published until retired", rotated.NewKID, rotated.JWKSURL, v.Algorithm), nil
	})
}
