// Package sandbox is an embedded, loopback-only, in-memory OAuth 2.0 / OpenID Connect
// identity provider for trying idpctl and testing scripts against it.
//
// The protocol work (client authentication, grants, PKCE, token and ID-token minting,
// refresh, revocation, introspection, userinfo, discovery and the JWKS) is done by
// github.com/zitadel/oidc/v3/pkg/op. This package adds what op leaves to the host: an
// in-memory storage with the two demo clients and refresh-token rotation with reuse
// detection, a login step that approves a fixed demo user without a page, the sandbox's
// policy (PKCE S256 for every client, allowed scopes and audiences), and the RFC 9207
// iss parameter and RFC 6749/6750 challenge headers op does not write.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults applied by Start to zero-valued Options fields.
const (
	DefaultAddr                 = "127.0.0.1:0"
	DefaultAccessTokenLifetime  = 5 * time.Minute
	DefaultRefreshTokenLifetime = 24 * time.Hour
)

// Names of the demo principals. They are fixed so that scripts and documentation can
// refer to them.
const (
	ServiceClientID = "demo-service"
	CLIClientID     = "demo-cli"
	DemoSubject     = "demo-user"
	// DemoAudience is the one audience (the "audience" request parameter) the demo
	// clients may ask for; without it an access token's "aud" is the client ID.
	DemoAudience = "https://api.sandbox.idpctl.test"
	// LoopbackRedirectURI is registered for both demo clients; any port is accepted
	// (RFC 8252 §7.3), and so are the other loopback hosts, [::1] and localhost.
	LoopbackRedirectURI = "http://127.0.0.1/callback"
)

// maxClientSecretLen is bcrypt's input limit. The sandbox compares secrets directly,
// but keeps the limit so that a secret it accepts also works with IdPs that store
// client secrets as bcrypt hashes, such as Ory Hydra.
const maxClientSecretLen = 72

// maxSeededUsers bounds --users: the sandbox keeps everything in memory.
const maxSeededUsers = 100000

// Options configures Start. The zero value is usable.
type Options struct {
	// Addr is the listen address; DefaultAddr when empty. The host must be a loopback
	// IP literal or "localhost": the sandbox has no login and approves everything.
	Addr string
	// AccessTokenLifetime defaults to DefaultAccessTokenLifetime.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime defaults to DefaultRefreshTokenLifetime.
	RefreshTokenLifetime time.Duration
	// ClientSecret is the secret of the confidential client demo-service; a random one
	// (crypto/rand) when empty. At most 72 bytes (bcrypt's limit).
	ClientSecret string
	// AdminSecret is the bearer token of the admin API (PathAdmin); a random
	// one when empty.
	AdminSecret string
	// Users seeds that many users (user-0001, ...) besides the demo user,
	// each with a login session and a live grant (a refresh token) at
	// demo-cli, so that revoking users in bulk can be tried.
	Users int
	// AdminRateLimit is the admin API's budget per ten seconds;
	// DefaultAdminRateLimit when zero.
	AdminRateLimit int
	// Log, when set, receives one line per request: method, path and status. Query
	// strings, headers and bodies are never logged.
	Log io.Writer
}

// Client describes a registered demo client.
type Client struct {
	ID     string
	Secret string // empty for a public client
	// AuthMethod is the RFC 8414 token_endpoint_auth_method: "client_secret_basic"
	// (client_secret_post is accepted as well) or "none".
	AuthMethod   string
	GrantTypes   []string
	RedirectURIs []string
	Scopes       []string
	// Audiences lists the values the client may request with the "audience" parameter.
	Audiences []string
}

// Server is a running sandbox identity provider.
type Server struct {
	issuer  string
	clients []Client
	store   *storage
	op      *opServer
	opHTTP  http.Handler

	httpServer *http.Server
	serveDone  chan struct{}
	stopOnCtx  func() bool

	log   io.Writer
	logMu sync.Mutex

	adminSecret string
	limiter     adminLimiter

	countMu sync.Mutex
	counts  map[string]int

	closeOnce sync.Once
	closeErr  error
}

// Start builds the provider and starts serving. The server is listening when Start
// returns. It stops when Close is called or when ctx is cancelled; call Close in either
// case to wait for in-flight requests.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	ln, err := listenLoopback(ctx, opts.Addr)
	if err != nil {
		return nil, err
	}
	s, err := newServer(opts, "http://"+ln.Addr().String())
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.httpServer = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
	}
	s.serveDone = make(chan struct{})
	go func() {
		defer close(s.serveDone)
		// Serve returns http.ErrServerClosed after Shutdown; any other error ends the
		// sandbox early and shows up as failing requests, which is all a caller can act on.
		_ = s.httpServer.Serve(ln)
	}()
	s.stopOnCtx = context.AfterFunc(ctx, func() { _ = s.Close() })
	return s, nil
}

func withDefaults(opts Options) (Options, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.AccessTokenLifetime == 0 {
		opts.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if opts.RefreshTokenLifetime == 0 {
		opts.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	}
	if opts.AccessTokenLifetime < time.Second {
		return opts, fmt.Errorf("sandbox: access token lifetime %s is shorter than one second", opts.AccessTokenLifetime)
	}
	if opts.RefreshTokenLifetime < time.Second {
		return opts, fmt.Errorf("sandbox: refresh token lifetime %s is shorter than one second", opts.RefreshTokenLifetime)
	}
	if len(opts.ClientSecret) > maxClientSecretLen {
		return opts, fmt.Errorf("sandbox: client secret is longer than %d bytes", maxClientSecretLen)
	}
	if opts.Users < 0 || opts.Users > maxSeededUsers {
		return opts, fmt.Errorf("sandbox: --users must be 0 to %d", maxSeededUsers)
	}
	if opts.AdminRateLimit <= 0 {
		opts.AdminRateLimit = DefaultAdminRateLimit
	}
	if opts.AdminSecret == "" {
		secret, err := randomString(32)
		if err != nil {
			return opts, fmt.Errorf("sandbox: generate admin secret: %w", err)
		}
		opts.AdminSecret = secret
	}
	if opts.ClientSecret == "" {
		secret, err := randomString(32)
		if err != nil {
			return opts, fmt.Errorf("sandbox: generate client secret: %w", err)
		}
		opts.ClientSecret = secret
	}
	return opts, nil
}

// listenLoopback refuses any address that could be reached from another machine: the
// sandbox approves every authorization request without asking anyone.
func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: parse listen address %q: %w", addr, err)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("sandbox: listen address %q is not loopback; use 127.0.0.1, [::1] or localhost", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	// "localhost" is resolved by the system; make sure it did not resolve elsewhere.
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		_ = ln.Close()
		return nil, fmt.Errorf("sandbox: listen address %q resolved to non-loopback %s", addr, ln.Addr())
	}
	return ln, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Issuer is the issuer identifier, e.g. "http://127.0.0.1:43121", without a trailing
// slash. Endpoints live directly below it.
func (s *Server) Issuer() string { return s.issuer }

// Clients returns the demo clients, secrets included.
func (s *Server) Clients() []Client {
	out := make([]Client, len(s.clients))
	for i, c := range s.clients {
		out[i] = c
		out[i].GrantTypes = append([]string(nil), c.GrantTypes...)
		out[i].RedirectURIs = append([]string(nil), c.RedirectURIs...)
		out[i].Scopes = append([]string(nil), c.Scopes...)
		out[i].Audiences = append([]string(nil), c.Audiences...)
	}
	return out
}

// Client returns the demo client with the given ID.
func (s *Server) Client(id string) (Client, bool) {
	for _, c := range s.Clients() {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}

// AdminURL is the base of the admin API.
func (s *Server) AdminURL() string { return s.issuer + PathAdmin }

// AdminSecret is the admin API's bearer token. It is a secret: print it only
// where the user asked for credentials.
func (s *Server) AdminSecret() string { return s.adminSecret }

// Users lists the users a login may be approved for, sorted: the demo user
// and the seeded ones.
func (s *Server) Users() []string {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	out := make([]string, 0, len(s.store.users))
	for u := range s.store.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Grants reports what a user holds now: sessions and live tokens.
func (s *Server) Grants(user string) (UserGrants, bool) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	return s.store.userGrantsLocked(user, time.Now()), s.store.users[user]
}

// DemoUser is the subject of the user every authorization request is approved for.
func (s *Server) DemoUser() string { return DemoSubject }

// Requests reports how many requests reached path (e.g. "/token"), whatever their
// outcome. Tests use it to assert that a client cached discovery or a token.
func (s *Server) Requests(path string) int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	return s.counts[path]
}

// Close stops listening and waits for in-flight requests to finish. It is safe to call
// more than once and after ctx of Start was cancelled.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopOnCtx != nil {
			s.stopOnCtx()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.httpServer.Shutdown(ctx); err != nil {
			// A handler did not finish in time; cut the connections rather than hang.
			s.closeErr = errors.Join(fmt.Errorf("sandbox: shut down: %w", err), s.httpServer.Close())
		}
		<-s.serveDone
	})
	return s.closeErr
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
