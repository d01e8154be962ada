package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
)

// adminNeeds says, per provider, what the admin credential must be
// allowed, as docs/providers.md lists it; doctor prints it with a failed
// or unverifiable permission check.
var adminNeeds = map[string]string{
	"hydra":     "network access to the admin port (open source, auth none) or an Ory Network project API key (auth bearer)",
	"keycloak":  "service-account roles of realm-management: manage-users and view-users (token revoke), view-clients and view-realm (app list), manage-clients (app expiry set), manage-realm (key regen)",
	"okta":      "an API token of an admin with a user administrator role such as Org Administrator (token revoke) and API Access Management Administrator (authorization servers), or a bearer token with okta.users.manage, okta.apps.read, okta.authorizationServers.read and .manage",
	"auth0":     "Management API scopes delete:refresh_tokens, delete:sessions and read:users (token revoke; read:clients too with --client), read:clients and read:resource_servers (app list)",
	"oracle":    "the admin application's role Identity Domain Administrator, or User Administrator with Application Administrator",
	"cisco-ucm": "an application user with AXL API access (a role such as Standard AXL API Access)",
	"sandbox":   "the sandbox's admin credential ('idpctl sandbox -o env' prints it)",
}

// needsOf says what the provider's admin credential must be allowed: the
// adapter's own list where it has one, else the table above.
func needsOf(name string, prov provider.Provider) string {
	if pl, ok := prov.(provider.PermissionLister); ok {
		if perms := pl.Permissions(); len(perms) > 0 {
			return strings.Join(perms, ", ")
		}
	}
	if n := adminNeeds[name]; n != "" {
		return n
	}
	return "the permissions docs/providers.md lists for " + name
}

// checkAdmin checks the admin API of a profile that names a provider:
// reachable, the credential obtains a token or is accepted, and the
// credential may read what the provider's commands read. Nothing is
// changed at the IdP.
func checkAdmin(ctx context.Context, f *cli.Factory, p *config.Resolved, add func(Check)) {
	if p.Provider == "" || p.Provider == "generic" {
		return
	}
	fixProfile := fmt.Sprintf("idpctl profile add %s --overwrite --provider %s --admin KEY=VALUE", p.Name, p.Provider)
	env, err := f.ProviderEnv(ctx, p)
	if err != nil {
		add(Check{Name: "admin API", Status: "fail", Detail: err.Error(), err: err})
		return
	}
	prov, err := registry.New(p.Provider, env)
	if err != nil {
		add(Check{Name: "admin API", Status: "fail", Detail: fmt.Sprintf("%v; fix: %s", err, fixProfile), err: err})
		return
	}

	// Reachability shows in the first calls themselves (the token
	// request, then a listing): a separate probe would hit a URL no admin
	// API documents.
	base := env.BaseURL
	if base == "" {
		base = p.Issuer
	}
	unreachable := func(err error) {
		add(Check{Name: "admin API", Status: "fail", Detail: fmt.Sprintf("%v; fix: check the admin url and token_url (%s), the network, the proxy and --ca-file", err, fixProfile), err: err})
		add(Check{Name: "admin credential", Status: "skip", Detail: "the admin API cannot be reached"})
		add(Check{Name: "admin permissions", Status: "skip", Detail: "the admin API cannot be reached"})
	}
	start := time.Now()
	var cred Check
	var ok bool
	if d, isSDK := prov.(provider.CredentialDescriber); isSDK {
		// The profile's admin auth is not used: the adapter's own chain is.
		cred, ok = Check{Name: "admin credential", Status: "ok", Detail: d.DescribeCredential() + "; whether they are accepted is the next check"}, true
	} else {
		cred, ok = checkAdminCredential(ctx, p, env)
	}
	if errs.KindOf(cred.err) == errs.KindNetwork {
		unreachable(cred.err)
		return
	}
	var perms Check
	if ok {
		perms = checkAdminPermissions(ctx, p, prov)
		if errs.KindOf(perms.err) == errs.KindNetwork {
			unreachable(perms.err)
			return
		}
	} else {
		perms = Check{Name: "admin permissions", Status: "skip", Detail: "no usable admin credential"}
	}
	api := Check{Name: "admin API", Status: "ok", Detail: fmt.Sprintf("%s (%s) answered in %s", base, prov.Name(), time.Since(start).Round(time.Millisecond))}
	switch {
	case !ok && cred.Status == "fail" && env.Auth != nil && env.Auth.Scheme != provider.AuthClientCredentials:
		api = Check{Name: "admin API", Status: "skip", Detail: "not tried without a credential"}
	case perms.Status == "skip":
		// Nothing reached the admin API: say so rather than "answered".
		api = Check{Name: "admin API", Status: "skip", Detail: fmt.Sprintf("%s (%s) was not called: %s", base, prov.Name(), perms.Detail)}
	}
	add(api)
	add(cred)
	add(perms)
}

// checkAdminCredential reports whether there is a credential worth
// trying; with client credentials it asks for a token.
func checkAdminCredential(ctx context.Context, p *config.Resolved, env *provider.Env) (Check, bool) {
	fixSecret := fmt.Sprintf("store it with 'idpctl profile add %s --overwrite --admin-secret-stdin', or set IDPCTL_ADMIN_SECRET_FILE", p.Name)
	a := env.Auth
	if a == nil || a.Scheme == provider.AuthNone || a.Scheme == "" {
		return Check{Name: "admin credential", Status: "ok", Detail: "none sent (auth none): the admin API must be protected by the network"}, true
	}
	secret, err := a.SecretValue(ctx)
	if err != nil {
		return Check{Name: "admin credential", Status: "fail", Detail: err.Error(), err: err}, false
	}
	if secret == "" {
		err := errs.New(errs.KindUsage, "no admin credential for %s authentication", a.Scheme)
		return Check{Name: "admin credential", Status: "fail", Detail: fmt.Sprintf("%v; fix: %s", err, fixSecret), err: err}, false
	}
	if a.Scheme != provider.AuthClientCredentials {
		return Check{Name: "admin credential", Status: "ok", Detail: fmt.Sprintf("%s credential present; whether the IdP accepts it is the next check", a.Scheme)}, true
	}
	req := httpx.Request{}
	if err := a.Apply(ctx, &req); err != nil {
		fix := "check admin client_id, token_url and the secret (" + fixSecret + ")"
		if errs.KindOf(err) == errs.KindNetwork {
			fix = "check admin token_url and the network"
		}
		return Check{Name: "admin credential", Status: "fail", Detail: fmt.Sprintf("%v; fix: %s", err, fix), err: err}, false
	}
	return Check{Name: "admin credential", Status: "ok", Detail: fmt.Sprintf("client %s obtained an admin token from %s", a.ClientID, a.TokenURL)}, true
}

// checkAdminPermissions makes one read the provider's commands need: the
// adapter's own access probe where it has one (its listing makes no call),
// else listing the applications. It proves the credential is accepted;
// write permissions (revoking) cannot be proved without writing, so the
// line names what they need.
func checkAdminPermissions(ctx context.Context, p *config.Resolved, prov provider.Provider) Check {
	needs := needsOf(p.Provider, prov)
	var accepted string
	var err error
	if probe, ok := prov.(provider.AccessProber); ok {
		var learnt string
		learnt, err = probe.ProbeAccess(ctx)
		accepted = fmt.Sprintf("the credential was accepted (%s)", learnt)
	} else {
		var em provider.AppExpiryManager
		em, err = registry.ExpiryManager(prov)
		if err != nil {
			return Check{Name: "admin permissions", Status: "skip", Detail: "no read-only call to try with this provider; it needs " + needs}
		}
		var apps []provider.App
		apps, err = em.ListApps(ctx)
		accepted = fmt.Sprintf("the credential was accepted and may list applications (%d)", len(apps))
	}
	switch {
	case err == nil:
		return Check{Name: "admin permissions", Status: "ok", Detail: accepted + "; revoking also needs " + needs}
	case errs.KindOf(err) == errs.KindRefused:
		fix := "grant " + needs
		if httpStatusIs(err, 401) {
			fix = fmt.Sprintf("the IdP does not accept the credential: replace it with 'idpctl profile add %s --overwrite --admin-secret-stdin'", p.Name)
		}
		return Check{Name: "admin permissions", Status: "fail", Detail: fmt.Sprintf("%v; fix: %s", err, fix), err: err}
	case errs.KindOf(err) == errs.KindUnsupported:
		return Check{Name: "admin permissions", Status: "skip", Detail: "no read-only call to try with this provider; it needs " + needs}
	default:
		return Check{Name: "admin permissions", Status: "fail", Detail: err.Error(), err: err}
	}
}

// httpStatusIs recognises the status provider.StatusError names.
func httpStatusIs(err error, status int) bool {
	return err != nil && strings.Contains(err.Error(), fmt.Sprintf("(HTTP %d)", status))
}
