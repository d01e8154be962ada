package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/boundedfile"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
)

// Admin settings of a profile's admin: map that configure the admin
// credential; every key, these and the vendor ones (realm, tenant,
// authorization_server...), is also passed to the adapter as is.
const (
	AdminURL        = "url"
	AdminAuthScheme = "auth"
	AdminUser       = "user"
	AdminClientID   = "client_id"
	AdminTokenURL   = "token_url"
	AdminScope      = "scope"
	AdminAudience   = "audience"
	AdminClientAuth = "client_auth"
)

// secretSettingNames are admin: keys that would put a secret in the
// configuration file, which is never a place for one.
var secretSettingNames = []string{"secret", "password", "token", "api_token", "client_secret", "admin_secret"}

// ProviderEnv builds the admin environment of a profile: its admin
// settings, the admin credential, and the factory's HTTP client, so that
// --ca-file, --proxy, --debug and --timeout apply to admin calls too.
func (f *Factory) ProviderEnv(ctx context.Context, p *config.Resolved) (*provider.Env, error) {
	settings := map[string]string{}
	for k, v := range p.Admin {
		settings[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	for _, k := range secretSettingNames {
		if _, ok := settings[k]; ok {
			return nil, errs.New(errs.KindUsage, "profile %q has admin.%s in the configuration file; secrets do not belong there: remove it and use IDPCTL_ADMIN_SECRET_FILE or 'idpctl profile add %s --overwrite --admin-secret-stdin'", p.Name, k, p.Name)
		}
	}
	scheme := strings.ToLower(settings[AdminAuthScheme])
	if scheme == "" {
		// Infer only what is unambiguous; otherwise the adapter picks its
		// vendor's default (Okta: SSWS, Hydra: none).
		switch {
		case settings[AdminClientID] != "":
			scheme = provider.AuthClientCredentials
		case settings[AdminUser] != "":
			scheme = provider.AuthBasic
		}
	}
	switch scheme {
	case "", provider.AuthNone, provider.AuthBearer, provider.AuthSSWS, provider.AuthBasic, provider.AuthClientCredentials:
	default:
		return nil, errs.New(errs.KindUsage, "profile %q: unknown admin auth %q: use none, bearer, ssws, basic or client_credentials", p.Name, scheme)
	}
	clientAuth := settings[AdminClientAuth]
	if clientAuth != "" && clientAuth != oauth.AuthSecretBasic && clientAuth != oauth.AuthSecretPost && clientAuth != oauth.AuthPrivateJWT {
		return nil, errs.New(errs.KindUsage, "profile %q: admin client_auth %q: use client_secret_basic, client_secret_post or private_key_jwt", p.Name, clientAuth)
	}
	hc, err := f.HTTPClient(p)
	if err != nil {
		return nil, err
	}
	if f.Flags.Deadline <= 0 {
		// A bulk admin run lasts as long as the IdP's rate limits make it;
		// only an explicit --deadline caps its retries.
		hc = hc.WithDeadline(time.Time{})
	}
	// The secret is read when the first request needs it: a dry run or a
	// plan sends nothing and must not need the keychain.
	var load func(context.Context) (string, error)
	if scheme != provider.AuthNone {
		load = func(ctx context.Context) (string, error) { return f.AdminSecret(ctx, p) }
	}
	now := f.Now
	if now == nil {
		now = time.Now
	}
	return &provider.Env{
		Profile:  p.Name,
		Issuer:   p.Issuer,
		BaseURL:  strings.TrimRight(settings[AdminURL], "/"),
		Settings: settings,
		HTTP:     hc,
		Auth: &provider.AdminAuth{
			Scheme: scheme, Load: load, User: settings[AdminUser],
			ClientID: settings[AdminClientID], TokenURL: settings[AdminTokenURL],
			Scope: settings[AdminScope], Audience: settings[AdminAudience],
			ClientAuthMethod: clientAuth, HTTP: hc, Now: now,
		},
		Now:    now,
		Sleep:  sleepCtx,
		Log:    f.IOStreams.ErrOut,
		CAFile: p.CAFile,
	}, nil
}

// AdminSecret finds the admin credential: IDPCTL_ADMIN_SECRET, the file
// named by IDPCTL_ADMIN_SECRET_FILE, then the profile's item in the
// credential store. Never argv. An absent secret is "", not an error: the
// adapter says what it needs when it needs it.
func (f *Factory) AdminSecret(ctx context.Context, p *config.Resolved) (string, error) {
	if v := strings.TrimRight(f.Getenv("IDPCTL_ADMIN_SECRET"), "\r\n"); v != "" {
		return v, nil
	}
	if path := f.Getenv("IDPCTL_ADMIN_SECRET_FILE"); path != "" {
		raw, err := boundedfile.Read(path, boundedfile.Secret, "the admin secret file")
		if err != nil {
			return "", err
		}
		s := strings.TrimRight(string(raw), "\r\n")
		if s == "" {
			return "", errs.New(errs.KindUsage, "the admin secret file %s is empty", path)
		}
		return s, nil
	}
	if !p.InFile {
		return "", nil
	}
	store, err := f.Store()
	if err != nil {
		return "", err
	}
	raw, err := store.Get(ctx, p.Name, credstore.KindAdminCredential)
	if err != nil {
		if errors.Is(err, credstore.ErrNotFound) {
			return "", nil
		}
		return "", fmt.Errorf("reading the admin credential of profile %q: %w", p.Name, err)
	}
	return string(raw), nil
}

// Provider builds the admin adapter of the profile in force.
func (f *Factory) Provider(ctx context.Context) (provider.Provider, *config.Resolved, error) {
	return f.ProviderObserved(ctx, nil)
}

// ProviderObserved builds the admin adapter of the profile in force and
// hands the headers of its every answer to observe, when set: a bulk run
// passes its limiter's, so a spent rate-limit budget pauses every worker
// before they collect 429s.
func (f *Factory) ProviderObserved(ctx context.Context, observe func(http.Header)) (provider.Provider, *config.Resolved, error) {
	p, err := f.Profile()
	if err != nil {
		return nil, nil, err
	}
	env, err := f.ProviderEnv(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	if observe != nil {
		env.Observe = func(_ context.Context, h http.Header) { observe(h) }
	}
	prov, err := registry.New(p.Provider, env)
	if err != nil {
		return nil, nil, err
	}
	return prov, p, nil
}

// AuditLog is the admin action log in the state directory.
func (f *Factory) AuditLog() (*audit.Log, error) {
	l, err := audit.Open()
	if err != nil {
		return nil, err
	}
	if f.Now != nil {
		l.Now = f.Now
	}
	return l, nil
}

// Confirm asks before an admin action that changes the IdP. --yes answers
// for the user; without a terminal and without --yes nothing is done
// (exit 2), since a script must not change an IdP by accident. A
// destructive plan needs --yes even at a terminal: a reflexive "y" is too
// cheap for a change whose effects reach beyond what was named.
func Confirm(ios *iostreams.IOStreams, yes, destructive bool, question string) error {
	if yes {
		return nil
	}
	if destructive {
		return errs.New(errs.KindUsage, "this change is destructive (see the warnings above): nothing was sent; run again with --yes to apply it")
	}
	ok, err := ios.Confirm(question)
	if errors.Is(err, iostreams.ErrNoTTY) {
		return errs.New(errs.KindUsage, "refusing to go on without confirmation: there is no terminal to ask on; nothing was sent; pass --yes to confirm")
	}
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if !ok {
		return ErrNotConfirmed
	}
	return nil
}

// ErrNotConfirmed is the answer "no" at the prompt.
var ErrNotConfirmed = errors.New("not confirmed: nothing was sent")
