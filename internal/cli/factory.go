// Package cli is the composition root: the Factory gives commands lazy
// access to configuration, the credential store, HTTP and the OAuth client,
// so that `--help` and a cached `token get` touch only what they need.
package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/boundedfile"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
	"github.com/idpctl/idpctl/internal/xdg"
)

// GlobalFlags are the persistent flags of the root command.
type GlobalFlags struct {
	config.Overrides
	Debug   bool
	Timeout time.Duration
	// Deadline caps the retries of the whole command (see deadline.go).
	Deadline time.Duration
}

// Factory hands commands what they need, built on first use.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Getenv    func(string) string
	Now       func() time.Time
	Flags     *GlobalFlags
	Version   string

	// Seams, replaced in tests.
	Config      func() (*config.Config, string, error)
	Profile     func() (*config.Resolved, error)
	Store       func() (credstore.Store, error)
	HTTPClient  func(p *config.Resolved) (*httpx.Client, error)
	OAuthClient func(ctx context.Context, p *config.Resolved) (*oauth.Client, error)
	Metadata    func(ctx context.Context, p *config.Resolved) (*oauth.Metadata, error)
	Browser     func(url string) error

	storeOnce sync.Once
	store     credstore.Store
	storeErr  error

	deadlineOnce sync.Once
	deadline     time.Time
}

// New returns a Factory wired to the real world.
func New(ios *iostreams.IOStreams, getenv func(string) string, version string) *Factory {
	f := &Factory{IOStreams: ios, Getenv: getenv, Now: time.Now, Flags: &GlobalFlags{}, Version: version}
	var cfgOnce sync.Once
	var cfg *config.Config
	var cfgPath string
	var cfgErr error
	f.Config = func() (*config.Config, string, error) {
		cfgOnce.Do(func() {
			cfgPath, cfgErr = config.Path(f.Getenv)
			if cfgErr == nil {
				f.warnUnsafeDirs(filepath.Dir(cfgPath))
				cfg, cfgErr = config.Load(cfgPath)
			}
		})
		return cfg, cfgPath, cfgErr
	}
	f.Profile = func() (*config.Resolved, error) {
		c, _, err := f.Config()
		if err != nil {
			return nil, err
		}
		return config.Resolve(c, f.Getenv, f.Flags.Overrides)
	}
	f.Store = f.openStore
	f.HTTPClient = f.newHTTP
	f.Metadata = f.metadata
	f.OAuthClient = f.newOAuthClient
	f.Browser = OpenBrowser
	return f
}

// warnUnsafeDirs warns, once per run, about a configuration or state
// directory that other users can write to or that is not the user's own.
func (f *Factory) warnUnsafeDirs(configDir string) {
	dirs := []string{configDir}
	if d, err := xdg.StateDir(); err == nil {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if why := xdg.Unsafe(d); why != "" {
			fmt.Fprintf(f.IOStreams.ErrOut, "warning: %s; other users could change what idpctl reads and writes there\n", ui.SanitizeLine(why))
		}
	}
}

// StoreBackend is the backend in force: flag, environment, profile, keychain.
func (f *Factory) StoreBackend() string {
	if f.Flags.Store != "" {
		return f.Flags.Store
	}
	if v := f.Getenv("IDPCTL_STORE"); v != "" {
		return v
	}
	// The profile may name a store; reading it costs the config file,
	// which a token command reads anyway.
	if p, err := f.Profile(); err == nil && p.Store != "" {
		return p.Store
	}
	return credstore.BackendKeychain
}

func (f *Factory) openStore() (credstore.Store, error) {
	f.storeOnce.Do(func() {
		stateDir, _ := xdg.StateDir()
		var warn io.Writer = f.IOStreams.ErrOut
		if FileStoreWarningOff(f.Getenv) {
			warn = nil
		}
		f.store, f.storeErr = credstore.Open(credstore.OpenOptions{
			Backend:  f.StoreBackend(),
			StateDir: stateDir,
			Warn:     warn,
		})
	})
	return f.store, f.storeErr
}

// BackendFor is the store backend of a named profile: the flag or
// environment override, else the profile's own, else the keychain.
func (f *Factory) BackendFor(p *config.Profile) string {
	if f.Flags.Store != "" {
		return f.Flags.Store
	}
	if v := f.Getenv("IDPCTL_STORE"); v != "" {
		return v
	}
	if p != nil && p.Store != "" {
		return p.Store
	}
	return credstore.BackendKeychain
}

// StoreFor opens the store of a backend, for commands that look at every
// profile (each may keep its items in another store). The store of the
// current profile is the one Store returns.
func (f *Factory) StoreFor(backend string) (credstore.Store, error) {
	if backend == f.StoreBackend() {
		return f.Store()
	}
	stateDir, _ := xdg.StateDir()
	// Reading only: no plaintext warning for a file store opened to list.
	return credstore.Open(credstore.OpenOptions{Backend: backend, StateDir: stateDir})
}

// FileStoreWarningOff tells whether IDPCTL_FILE_STORE_WARNING silences the
// file store's plaintext warning (off, false, 0 or no). doctor reports the
// plaintext file regardless.
func FileStoreWarningOff(getenv func(string) string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv("IDPCTL_FILE_STORE_WARNING"))) {
	case "off", "false", "0", "no":
		return true
	}
	return false
}

// LockProfile takes the refresh lock of a profile, for commands that
// change what the store holds for it outside a refresh (logout, profile
// remove): a refresh in flight could otherwise put tokens back.
func (f *Factory) LockProfile(ctx context.Context, name string) (unlock func(), err error) {
	locker, err := f.Locker()
	if err != nil {
		return nil, err
	}
	unlock, err = locker.Lock(ctx, name)
	if err != nil {
		return nil, errs.Wrap(errs.KindStore, err)
	}
	return unlock, nil
}

// Locker returns the refresh lock that goes with the store.
func (f *Factory) Locker() (credstore.Locker, error) {
	s, err := f.Store()
	if err != nil {
		return nil, err
	}
	if l, ok := s.(credstore.Locker); ok {
		return l, nil
	}
	dir, err := xdg.StateDir()
	if err != nil {
		return nil, errs.Wrap(errs.KindStore, err)
	}
	// The wait for another process is bounded like the command's retries
	// (--deadline), and announced once it is longer than a refresh takes.
	return credstore.FileLocker{Dir: dir, Notify: f.IOStreams.ErrOut, NotifyAfter: 5 * time.Second, MaxWait: f.DeadlineBudget()}, nil
}

// Debug is where the redacted HTTP trace goes, or nil.
func (f *Factory) Debug() io.Writer {
	if f.Flags.Debug || config.IsTrue(f.Getenv("IDPCTL_DEBUG")) {
		return f.IOStreams.ErrOut
	}
	return nil
}

func (f *Factory) newHTTP(p *config.Resolved) (*httpx.Client, error) {
	// A negative duration is a mistake, not "the default".
	if f.Flags.Timeout < 0 || f.Flags.Deadline < 0 {
		return nil, errs.New(errs.KindUsage, "--timeout and --deadline must not be negative (got %s and %s)", f.Flags.Timeout, f.Flags.Deadline)
	}
	opts := httpx.Options{Timeout: f.Flags.Timeout, Debug: f.Debug(), UserAgent: "idpctl/" + f.Version,
		Notify: f.IOStreams.ErrOut, Deadline: f.CommandDeadline()}
	if p != nil {
		opts.CAFile = p.CAFile
		opts.Proxy = p.Proxy
		opts.ProxyLoopback = f.Getenv("IDPCTL_PROXY_LOOPBACK") == "1"
		if p.ClientAuthMethod == oauth.AuthTLSClient || (p.ClientCertFile != "" && p.ClientKeyFile != "") {
			if p.ClientCertFile == "" || p.ClientKeyFile == "" {
				return nil, errs.New(errs.KindUsage, "tls_client_auth needs --client-cert-file and --client-key-file (or IDPCTL_CLIENT_CERT_FILE and IDPCTL_CLIENT_KEY_FILE)")
			}
			cert, err := tls.LoadX509KeyPair(p.ClientCertFile, p.ClientKeyFile)
			if err != nil {
				return nil, errs.New(errs.KindUsage, "loading the client certificate: %s", certErrorSummary(err))
			}
			opts.ClientCert = &cert
		}
	}
	return httpx.New(opts)
}

func certErrorSummary(err error) string {
	msg := err.Error()
	// tls errors can quote PEM block types but never key bytes; keep them short.
	if len(msg) > 160 {
		msg = msg[:160]
	}
	return msg
}

// MetadataCache is the on-disk discovery cache.
func (f *Factory) MetadataCache() *oauth.MetadataCache {
	dir, err := xdg.CacheDir()
	if err != nil {
		return nil
	}
	ttl := time.Hour
	if v := f.Getenv("IDPCTL_DISCOVERY_TTL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			ttl = d
		}
	}
	return &oauth.MetadataCache{Dir: dir, TTL: ttl, Now: f.Now}
}

// metadata returns the IdP's metadata: cached, discovered, or built from
// the profile's explicit endpoints (which also override discovered ones).
func (f *Factory) metadata(ctx context.Context, p *config.Resolved) (*oauth.Metadata, error) {
	var md *oauth.Metadata
	if p.Issuer != "" {
		cache := f.MetadataCache()
		md = cache.Load(p.Issuer)
		if md == nil {
			hc, err := f.HTTPClient(p)
			if err != nil {
				return nil, err
			}
			md, err = oauth.Discover(ctx, hc, p.Issuer)
			if err != nil {
				if p.Endpoints.Token == "" {
					return nil, err
				}
				// Explicit endpoints let the profile work without discovery.
				md = nil
			} else {
				_ = cache.Save(md)
			}
		}
	} else if p.Endpoints.Token == "" {
		return nil, errs.New(errs.KindUsage, "profile %q has no issuer: set one with 'idpctl profile add %s --issuer URL' or IDPCTL_ISSUER", p.Name, p.Name)
	}
	if md == nil {
		md = &oauth.Metadata{Issuer: p.Issuer}
	} else {
		cp := *md
		md = &cp
	}
	e := p.Endpoints
	override := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	override(&md.AuthorizationEndpoint, e.Authorization)
	override(&md.TokenEndpoint, e.Token)
	override(&md.DeviceAuthorizationEndpoint, e.DeviceAuthorization)
	override(&md.RevocationEndpoint, e.Revocation)
	override(&md.IntrospectionEndpoint, e.Introspection)
	override(&md.JWKSURI, e.JWKS)
	override(&md.UserinfoEndpoint, e.Userinfo)
	return md, nil
}

// ClientSecret finds the client secret: a file (flag, env or profile), the
// IDPCTL_CLIENT_SECRET variable, then the credential store. Never argv.
func (f *Factory) ClientSecret(ctx context.Context, p *config.Resolved) (string, error) {
	if p.ClientSecretFile != "" {
		raw, err := boundedfile.Read(p.ClientSecretFile, boundedfile.Secret, "the client secret file")
		if err != nil {
			return "", err
		}
		s := strings.TrimRight(string(raw), "\r\n")
		if s == "" {
			return "", errs.New(errs.KindUsage, "the client secret file %s is empty", p.ClientSecretFile)
		}
		return s, nil
	}
	if p.ClientSecretFromEnv != "" {
		return p.ClientSecretFromEnv, nil
	}
	if !p.InFile {
		return "", nil
	}
	store, err := f.Store()
	if err != nil {
		return "", err
	}
	raw, err := store.Get(ctx, p.Name, credstore.KindClientSecret)
	if err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", err
	}
	return string(raw), nil
}

// AuthMethod is the client authentication method in force: the profile's,
// else inferred from what credentials exist.
func AuthMethod(p *config.Resolved, haveSecret bool) string {
	switch {
	case p.ClientAuthMethod != "":
		return p.ClientAuthMethod
	case p.PrivateKeyFile != "":
		return oauth.AuthPrivateJWT
	case p.ClientCertFile != "":
		return oauth.AuthTLSClient
	case haveSecret:
		return oauth.AuthSecretBasic
	default:
		return oauth.AuthNone
	}
}

func (f *Factory) newOAuthClient(ctx context.Context, p *config.Resolved) (*oauth.Client, error) {
	if p.ClientID == "" {
		return nil, errs.New(errs.KindUsage, "profile %q has no client id: set --client-id or IDPCTL_CLIENT_ID", p.Name)
	}
	md, err := f.Metadata(ctx, p)
	if err != nil {
		return nil, err
	}
	hc, err := f.HTTPClient(p)
	if err != nil {
		return nil, err
	}
	if tokens.HasClientAssertion(p) {
		auth, err := f.federatedAuth(ctx, p, hc, md)
		if err != nil {
			return nil, err
		}
		// Secretless CI is where sender-constrained tokens matter most: a
		// federated assertion authenticates the client, DPoP binds the
		// token, and the two are independent (RFC 9449 §5).
		return &oauth.Client{HTTP: hc, Metadata: md, ClientID: p.ClientID, Auth: auth, Now: f.Now, DPoP: f.dpopFor(p, md)}, nil
	}
	secret := ""
	if p.ClientAuthMethod == "" || strings.HasPrefix(p.ClientAuthMethod, "client_secret") {
		if secret, err = f.ClientSecret(ctx, p); err != nil {
			return nil, err
		}
	}
	auth, err := f.clientAuth(p, secret)
	if err != nil {
		return nil, err
	}
	return &oauth.Client{HTTP: hc, Metadata: md, ClientID: p.ClientID, Auth: auth, Now: f.Now, DPoP: f.dpopFor(p, md)}, nil
}

func (f *Factory) clientAuth(p *config.Resolved, secret string) (oauth.ClientAuth, error) {
	method := AuthMethod(p, secret != "")
	needSecret := func() error {
		if secret == "" {
			// A missing setting, not a login: exit 2 (docs/exit-codes.md).
			return missingSecret(p, method)
		}
		return nil
	}
	switch method {
	case oauth.AuthSecretBasic:
		if err := needSecret(); err != nil {
			return nil, err
		}
		return oauth.SecretBasic{Secret: secret}, nil
	case oauth.AuthSecretPost:
		if err := needSecret(); err != nil {
			return nil, err
		}
		return oauth.SecretPost{Secret: secret}, nil
	case oauth.AuthSecretJWT:
		if err := needSecret(); err != nil {
			return nil, err
		}
		signer, err := jose.NewSecretSigner([]byte(secret), "HS256")
		if err != nil {
			return nil, errs.Wrap(errs.KindUsage, err)
		}
		return oauth.Assertion{AuthMethod: method, Signer: assertionSigner{signer}}, nil
	case oauth.AuthPrivateJWT:
		if p.PrivateKeyFile == "" {
			return nil, errs.New(errs.KindUsage, "private_key_jwt needs --private-key-file or IDPCTL_PRIVATE_KEY_FILE")
		}
		signer, warning, err := jose.LoadSigningKey(p.PrivateKeyFile)
		if err != nil {
			return nil, errs.Wrap(errs.KindUsage, err)
		}
		if warning != nil {
			fmt.Fprintf(f.IOStreams.ErrOut, "warning: %s\n", warning)
		}
		return oauth.Assertion{AuthMethod: method, Signer: assertionSigner{signer}}, nil
	case oauth.AuthNone:
		return oauth.None{}, nil
	case oauth.AuthTLSClient:
		return oauth.TLSClient{}, nil
	default:
		return nil, errs.New(errs.KindUsage, "unknown client authentication method %q: choose one of %s", method, strings.Join(oauth.AuthMethods, ", "))
	}
}

// assertionLifetime is short on purpose: an assertion is used once, at
// once, and a stolen one should be worthless soon (RFC 7523 §3 item 4).
const assertionLifetime = 60 * time.Second

type assertionSigner struct{ s *jose.Signer }

func (a assertionSigner) ClientAssertion(clientID, audience string, now time.Time) (string, error) {
	return jose.ClientAssertion(a.s, clientID, audience, now, assertionLifetime)
}
