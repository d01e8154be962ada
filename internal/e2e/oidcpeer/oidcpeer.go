// Package oidcpeer runs panva's oidc-provider (npm, pinned by
// node/package-lock.json) as a real identity provider for end-to-end tests.
//
// Start writes a configuration file, runs `node node/server.mjs` on
// 127.0.0.1 with an OS-chosen port, and stops the process by PID when the
// test ends. The peer serves discovery, JWKS, client_credentials,
// authorization_code with PKCE, refresh_token with rotation and reuse
// detection, the device flow (RFC 8628), revocation (RFC 7009),
// introspection (RFC 7662), resource indicators (RFC 8707) with a JWT access
// token resource server, the JWT bearer grant (RFC 7523) and token exchange
// (RFC 8693, with access_token subjects it issued and id_token or jwt
// subjects from AssertionIssuer), and optionally tls_client_auth (RFC 8705) over https.
// Interactions are approved automatically for the account AccountID.
//
// Behaviour tests should know about:
//   - Clients registered for refresh_token get a refresh token from the code
//     and device grants whether or not offline_access survived: oidc-provider
//     drops offline_access from an authorization request without
//     prompt=consent (OIDC Core §11).
//   - Reusing a rotated refresh token fails with invalid_grant and revokes
//     the whole grant (oidc-provider's refresh_token grant), counted in
//     Stats.GrantsRevoked.
//   - JWT access tokens (for Resource) are not stored by oidc-provider: the
//     introspection and revocation endpoints answer 400
//     unsupported_token_type for them; they stay valid until exp.
//   - In TLS mode the issuer is https; clients must trust CAFile (for a Go
//     binary, SSL_CERT_FILE=CAFile).
package oidcpeer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Client ids registered at every peer.
const (
	ClientCCBasic         = "cc-basic"         // client_secret_basic; client_credentials, refresh_token
	ClientCCPost          = "cc-post"          // client_secret_post; client_credentials
	ClientCCSecretJWT     = "cc-secret-jwt"    // client_secret_jwt (HS256); client_credentials
	ClientCCPrivateJWT    = "cc-private-jwt"   // private_key_jwt (RS256, ES256); client_credentials
	ClientCLIPublic       = "cli-public"       // native, none; authorization_code, refresh_token, device_code
	ClientCLIConfidential = "cli-confidential" // native, client_secret_basic; authorization_code, refresh_token, device_code
	ClientExchanger       = "exchanger"        // client_secret_basic; token-exchange, jwt-bearer
	ClientTLS             = "tls-client"       // tls_client_auth (TLS mode only); client_credentials
	// ClientCCDPoP and ClientCLIDPoP are registered with
	// dpop_bound_access_tokens: the peer refuses their token requests
	// without a DPoP proof (RFC 9449 §5.2).
	ClientCCDPoP  = "cc-dpop"  // client_secret_basic; client_credentials; DPoP required
	ClientCLIDPoP = "cli-dpop" // native, none; authorization_code, refresh_token; DPoP required
	// ClientCLIPAR must push its authorization requests (RFC 9126 §6,
	// require_pushed_authorization_requests).
	ClientCLIPAR = "cli-par" // native, none; authorization_code, refresh_token; PAR required
	// ClientCLIJAR authenticates with private_key_jwt and must sign its
	// authorization requests (RFC 9101, require_signed_request_object);
	// registered only with Config.RequestObjects. Its keys are those of
	// cc-private-jwt.
	ClientCLIJAR = "cli-jar"
)

// Protocol values the peer is configured with.
const (
	// Resource is the resource server whose access tokens are JWTs
	// (RFC 9068), verifiable at jwks_uri; tokens without a resource are opaque.
	Resource = "https://api.e2e.test"
	// AccountID is the user every interaction logs in.
	AccountID = "e2e-user"
	// AssertionIssuer is the issuer the jwt-bearer grant trusts, with the key
	// in Peer.AssertionKeyPEM.
	AssertionIssuer = "e2e-assertion-issuer"
	// RedirectURI is registered for the CLI clients. They are native clients,
	// so oidc-provider accepts any port on it (RFC 8252 §7.3); the path must
	// stay /callback.
	RedirectURI = "http://127.0.0.1/callback"

	GrantTypeDeviceCode    = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTypeJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
)

// ScopesSupported lists the scopes the peer knows, space separated. api:read
// and api:write are also the scopes of Resource.
const ScopesSupported = "openid offline_access profile api:read api:write"

const (
	startTimeout   = 20 * time.Second
	stopTimeout    = 5 * time.Second
	clockTolerance = 5 // seconds
	logLimit       = 64 << 10
)

// Config shapes one peer. The zero value is usable.
type Config struct {
	// AccessTokenTTL applies to every access token, client-credentials and
	// ID token (default 60s). RefreshTokenTTL defaults to 1h, DeviceCodeTTL
	// (the device_code and user_code lifetime) to 10m. Durations are rounded
	// up to whole seconds.
	AccessTokenTTL, RefreshTokenTTL, DeviceCodeTTL time.Duration
	// TLS serves https with a generated CA and registers tls-client.
	TLS bool
	// PrivateJWTKeys are registered for cc-private-jwt. Each key needs alg;
	// private keys are also returned in Peer.PrivateKeyPEM/JWK. When empty,
	// an RS256 and an ES256 key are generated.
	PrivateJWTKeys jose.JSONWebKeySet
	// ExtraClients are appended to the default clients as oidc-provider
	// client metadata (snake_case, e.g. "client_id", "grant_types").
	ExtraClients []map[string]any
	// DPoPNonce has the peer require a server nonce in every DPoP proof
	// (features.dPoP.nonceSecret with requireNonce, RFC 9449 §8).
	DPoPNonce bool
	// DPoPNonceLoop makes the token endpoint a broken IdP that answers every
	// request carrying a DPoP proof with use_dpop_nonce and a new nonce.
	DPoPNonceLoop bool
	// RequirePAR refuses authorization requests that were not pushed
	// (features.pushedAuthorizationRequests.requirePushedAuthorizationRequests).
	RequirePAR bool
	// RequestObjects enables RFC 9101 request objects
	// (features.requestObjects) and registers cli-jar.
	RequestObjects bool
	// AuthorizationDetailsTypes enables RFC 9396 rich authorization
	// requests (features.richAuthorizationRequests) for these types, and
	// allows them to every client (authorization_details_types).
	AuthorizationDetailsTypes []string
}

// Peer is a running oidc-provider.
type Peer struct {
	Issuer string
	PID    int
	// Secrets maps client id to client secret for the secret-based clients.
	Secrets map[string]string
	// PrivateKeyPEM and PrivateKeyJWK hold cc-private-jwt's private keys
	// keyed by alg ("RS256", "ES256"); PrivateKeyFile names the PEM files.
	PrivateKeyPEM  map[string][]byte
	PrivateKeyJWK  map[string][]byte
	PrivateKeyFile map[string]string
	// AssertionKeyPEM (PKCS#8) signs jwt-bearer assertions with
	// iss=AssertionIssuer and alg ES256; kid=AssertionKeyID is optional.
	AssertionKeyPEM  []byte
	AssertionKeyJWK  []byte
	AssertionKeyFile string
	AssertionKeyID   string
	// TLS mode only: the CA that signed the server and client certificates,
	// and the tls-client certificate with its subject DN as registered.
	CAFile, ClientCertFile, ClientKeyFile string
	ClientSubjectDN                       string

	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{}
	logs   *tailBuffer
	http   *http.Client
}

// Stats are the peer's test counters since start or the last Reset.
type Stats struct {
	// TokenRequests counts every POST to the token endpoint by grant_type,
	// whatever the outcome; "" counts requests without one.
	TokenRequests  map[string]int `json:"token_requests"`
	Revocations    int            `json:"revocations"`
	Introspections int            `json:"introspections"`
	// GrantsRevoked counts oidc-provider's grant.revoked events: refresh
	// token reuse, and revocation of a refresh token.
	GrantsRevoked int `json:"grants_revoked"`
}

// serverConfig is the JSON server.mjs reads.
type serverConfig struct {
	Port            int                       `json:"port"`
	ExitWithStdin   bool                      `json:"exitWithStdin"`
	TLS             *serverTLS                `json:"tls,omitempty"`
	ClockTolerance  int                       `json:"clockTolerance"`
	TTL             serverTTL                 `json:"ttl"`
	JWKS            jose.JSONWebKeySet        `json:"jwks"`
	Clients         []map[string]any          `json:"clients"`
	Scopes          []string                  `json:"scopes"`
	Claims          map[string][]string       `json:"claims"`
	ResourceServers map[string]resourceServer `json:"resourceServers"`
	Assertion       assertionTrust            `json:"assertion"`
	Account         account                   `json:"account"`
	DPoP            serverDPoP                `json:"dpop"`
	RequirePAR      bool                      `json:"requirePAR"`
	RequestObjects  bool                      `json:"requestObjects"`
	RARTypes        []string                  `json:"authorizationDetailsTypes,omitempty"`
}

type serverDPoP struct {
	NonceSecret string `json:"nonceSecret,omitempty"`
	NonceLoop   bool   `json:"nonceLoop,omitempty"`
}

type serverTLS struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
	CA   string `json:"ca"`
}

type serverTTL struct {
	AccessToken  int `json:"accessToken"`
	RefreshToken int `json:"refreshToken"`
	DeviceCode   int `json:"deviceCode"`
}

// resourceServer is what oidc-provider's
// features.resourceIndicators.getResourceServerInfo returns.
type resourceServer struct {
	Scope             string         `json:"scope"`
	Audience          string         `json:"audience"`
	AccessTokenFormat string         `json:"accessTokenFormat"`
	AccessTokenTTL    int            `json:"accessTokenTTL"`
	JWT               map[string]any `json:"jwt,omitempty"`
}

type assertionTrust struct {
	Issuer string             `json:"issuer"`
	JWKS   jose.JSONWebKeySet `json:"jwks"`
}

type account struct {
	ID     string            `json:"id"`
	Claims map[string]string `json:"claims"`
}

// Start runs a peer for the test and stops it in t.Cleanup. It skips the test
// when Node.js is missing, unless CI is set, where it fails instead.
func Start(t testing.TB, cfg Config) *Peer {
	t.Helper()
	node := requireTool(t, "node")
	dir, err := nodeDir()
	if err != nil {
		t.Fatalf("oidcpeer: %v", err)
	}
	ensureModules(t, dir)

	work := t.TempDir()
	p := &Peer{logs: &tailBuffer{limit: logLimit}, exited: make(chan struct{})}
	sc, err := p.prepare(cfg, work)
	if err != nil {
		t.Fatalf("oidcpeer: %v", err)
	}
	cfgFile := filepath.Join(work, "oidc-provider.json")
	raw, err := json.Marshal(sc)
	if err != nil {
		t.Fatalf("oidcpeer: encode config: %v", err)
	}
	if err := os.WriteFile(cfgFile, raw, 0o600); err != nil {
		t.Fatalf("oidcpeer: write config: %v", err)
	}

	if err := p.run(node, dir, cfgFile); err != nil {
		t.Fatalf("oidcpeer: %v\noidc-provider stderr:\n%s", err, p.logs.String())
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("oidcpeer: %v", err)
		}
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", p.logs.String())
		}
	})

	client := &http.Client{Timeout: 10 * time.Second}
	if p.CAFile != "" {
		tr, err := p.transport(false)
		if err != nil {
			t.Fatalf("oidcpeer: %v", err)
		}
		client.Transport = tr
	}
	p.http = client
	return p
}

// prepare generates keys, secrets and certificates into p and returns the
// matching server configuration.
func (p *Peer) prepare(cfg Config, dir string) (serverConfig, error) {
	accessTTL := seconds(cfg.AccessTokenTTL, time.Minute)
	sc := serverConfig{
		ExitWithStdin:  true,
		ClockTolerance: clockTolerance,
		TTL: serverTTL{
			AccessToken:  accessTTL,
			RefreshToken: seconds(cfg.RefreshTokenTTL, time.Hour),
			DeviceCode:   seconds(cfg.DeviceCodeTTL, 10*time.Minute),
		},
		Scopes: strings.Fields(ScopesSupported),
		Claims: map[string][]string{
			"openid":  {"sub"},
			"profile": {"name", "preferred_username"},
		},
		ResourceServers: map[string]resourceServer{
			Resource: {
				Scope:             "api:read api:write",
				Audience:          Resource,
				AccessTokenFormat: "jwt",
				AccessTokenTTL:    accessTTL,
				JWT:               map[string]any{"sign": map[string]string{"alg": "RS256"}},
			},
		},
		Account: account{
			ID:     AccountID,
			Claims: map[string]string{"name": "E2E User", "preferred_username": AccountID},
		},
	}

	// The provider's own signing keys: RS256 first, as oidc-provider's
	// default for ID tokens, and ES256 beside it.
	for _, alg := range []string{"RS256", "ES256"} {
		k, err := newSigningKey(alg)
		if err != nil {
			return serverConfig{}, err
		}
		sc.JWKS.Keys = append(sc.JWKS.Keys, k)
	}

	assertionKey, err := newSigningKey("ES256")
	if err != nil {
		return serverConfig{}, err
	}
	sc.Assertion = assertionTrust{Issuer: AssertionIssuer, JWKS: publicSet([]jose.JSONWebKey{assertionKey})}
	if p.AssertionKeyPEM, err = pkcs8PEM(assertionKey); err != nil {
		return serverConfig{}, err
	}
	if p.AssertionKeyJWK, err = json.Marshal(assertionKey); err != nil {
		return serverConfig{}, fmt.Errorf("marshal assertion key: %w", err)
	}
	p.AssertionKeyID = assertionKey.KeyID
	p.AssertionKeyFile = filepath.Join(dir, "assertion-key.pem")
	if err := os.WriteFile(p.AssertionKeyFile, p.AssertionKeyPEM, 0o600); err != nil {
		return serverConfig{}, fmt.Errorf("write assertion key: %w", err)
	}

	pub, pems, jwks, err := clientKeys(cfg.PrivateJWTKeys)
	if err != nil {
		return serverConfig{}, err
	}
	p.PrivateKeyPEM, p.PrivateKeyJWK, p.PrivateKeyFile = pems, jwks, map[string]string{}
	for alg, data := range pems {
		name := filepath.Join(dir, "private-jwt-"+alg+".pem")
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return serverConfig{}, fmt.Errorf("write %s private key: %w", alg, err)
		}
		p.PrivateKeyFile[alg] = name
	}

	p.Secrets = map[string]string{}
	for _, id := range []string{ClientCCBasic, ClientCCPost, ClientCCSecretJWT, ClientCLIConfidential, ClientExchanger, ClientCCDPoP} {
		s, err := randomSecret()
		if err != nil {
			return serverConfig{}, err
		}
		p.Secrets[id] = s
	}

	if cfg.TLS {
		m, err := writeTLSMaterial(dir)
		if err != nil {
			return serverConfig{}, err
		}
		sc.TLS = &serverTLS{Cert: m.serverCertFile, Key: m.serverKeyFile, CA: m.caFile}
		p.CAFile, p.ClientCertFile, p.ClientKeyFile = m.caFile, m.clientCertFile, m.clientKeyFile
		p.ClientSubjectDN = m.clientSubjectDN
	}

	if cfg.DPoPNonce {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return serverConfig{}, fmt.Errorf("generate DPoP nonce secret: %w", err)
		}
		sc.DPoP.NonceSecret = base64.RawURLEncoding.EncodeToString(secret)
	}
	sc.DPoP.NonceLoop = cfg.DPoPNonceLoop
	sc.RequirePAR = cfg.RequirePAR
	sc.RequestObjects = cfg.RequestObjects
	sc.RARTypes = cfg.AuthorizationDetailsTypes

	sc.Clients = append(p.defaultClients(pub), cfg.ExtraClients...)
	if len(cfg.AuthorizationDetailsTypes) > 0 {
		// oidc-provider allows a client only the types it is registered for.
		for _, c := range sc.Clients {
			if _, set := c["authorization_details_types"]; !set {
				c["authorization_details_types"] = cfg.AuthorizationDetailsTypes
			}
		}
	}
	if cfg.RequestObjects {
		sc.Clients = append(sc.Clients, map[string]any{
			"client_id":                     ClientCLIJAR,
			"application_type":              "native",
			"token_endpoint_auth_method":    "private_key_jwt",
			"jwks":                          pub,
			"grant_types":                   []string{"authorization_code", "refresh_token"},
			"response_types":                []string{"code"},
			"redirect_uris":                 []string{RedirectURI},
			"require_signed_request_object": true,
		})
	}
	return sc, nil
}

func (p *Peer) defaultClients(privateJWT jose.JSONWebKeySet) []map[string]any {
	noRedirect := func(m map[string]any) map[string]any {
		m["response_types"] = []string{}
		m["redirect_uris"] = []string{}
		return m
	}
	cliGrants := []string{"authorization_code", "refresh_token", GrantTypeDeviceCode}
	clients := []map[string]any{
		noRedirect(map[string]any{
			"client_id":                  ClientCCBasic,
			"client_secret":              p.Secrets[ClientCCBasic],
			"token_endpoint_auth_method": "client_secret_basic",
			"grant_types":                []string{"client_credentials", "refresh_token"},
		}),
		noRedirect(map[string]any{
			"client_id":                  ClientCCPost,
			"client_secret":              p.Secrets[ClientCCPost],
			"token_endpoint_auth_method": "client_secret_post",
			"grant_types":                []string{"client_credentials"},
		}),
		noRedirect(map[string]any{
			"client_id":                       ClientCCSecretJWT,
			"client_secret":                   p.Secrets[ClientCCSecretJWT],
			"token_endpoint_auth_method":      "client_secret_jwt",
			"token_endpoint_auth_signing_alg": "HS256",
			"grant_types":                     []string{"client_credentials"},
		}),
		noRedirect(map[string]any{
			"client_id":                  ClientCCPrivateJWT,
			"token_endpoint_auth_method": "private_key_jwt",
			"jwks":                       privateJWT,
			"grant_types":                []string{"client_credentials"},
		}),
		{
			"client_id":                  ClientCLIPublic,
			"application_type":           "native",
			"token_endpoint_auth_method": "none",
			"grant_types":                cliGrants,
			"response_types":             []string{"code"},
			"redirect_uris":              []string{RedirectURI},
		},
		{
			"client_id":                  ClientCLIConfidential,
			"client_secret":              p.Secrets[ClientCLIConfidential],
			"application_type":           "native",
			"token_endpoint_auth_method": "client_secret_basic",
			"grant_types":                cliGrants,
			"response_types":             []string{"code"},
			"redirect_uris":              []string{RedirectURI},
		},
		noRedirect(map[string]any{
			"client_id":                  ClientCCDPoP,
			"client_secret":              p.Secrets[ClientCCDPoP],
			"token_endpoint_auth_method": "client_secret_basic",
			"grant_types":                []string{"client_credentials"},
			"dpop_bound_access_tokens":   true,
		}),
		{
			"client_id":                  ClientCLIDPoP,
			"application_type":           "native",
			"token_endpoint_auth_method": "none",
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"redirect_uris":              []string{RedirectURI},
			"dpop_bound_access_tokens":   true,
		},
		{
			"client_id":                             ClientCLIPAR,
			"application_type":                      "native",
			"token_endpoint_auth_method":            "none",
			"grant_types":                           []string{"authorization_code", "refresh_token"},
			"response_types":                        []string{"code"},
			"redirect_uris":                         []string{RedirectURI},
			"require_pushed_authorization_requests": true,
		},
		noRedirect(map[string]any{
			"client_id":                  ClientExchanger,
			"client_secret":              p.Secrets[ClientExchanger],
			"token_endpoint_auth_method": "client_secret_basic",
			"grant_types":                []string{GrantTypeTokenExchange, GrantTypeJWTBearer},
		}),
	}
	if p.ClientSubjectDN != "" {
		clients = append(clients, noRedirect(map[string]any{
			"client_id":                  ClientTLS,
			"token_endpoint_auth_method": "tls_client_auth",
			"tls_client_auth_subject_dn": p.ClientSubjectDN,
			"grant_types":                []string{"client_credentials"},
		}))
	}
	return clients
}

// seconds converts a TTL to whole seconds, rounding up, with a default for 0.
func seconds(d, def time.Duration) int {
	if d <= 0 {
		d = def
	}
	return int(math.Ceil(d.Seconds()))
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate client secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// run starts node and waits for the one-line JSON announcement on stdout.
func (p *Peer) run(node, dir, cfgFile string) error {
	cmd := exec.Command(node, "server.mjs", cfgFile)
	cmd.Dir = dir
	cmd.Stderr = p.logs
	// server.mjs exits when its stdin closes, so a test binary that dies
	// without running cleanups leaves no orphaned peer behind.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("stdin pipe: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("stdout pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	p.cmd, p.stdin, p.PID = cmd, stdin, cmd.Process.Pid

	type announcement struct {
		Issuer string `json:"issuer"`
		PID    int    `json:"pid"`
	}
	lines := make(chan announcement, 1)
	readErr := make(chan error, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, err := r.ReadBytes('\n')
		if err != nil {
			readErr <- fmt.Errorf("read announcement: %w", err)
		} else {
			var a announcement
			if err := json.Unmarshal(line, &a); err != nil {
				readErr <- fmt.Errorf("parse announcement %q: %w", line, err)
			} else {
				lines <- a
			}
		}
		// Keep draining so a stray console.log never blocks the peer.
		_, _ = io.Copy(p.logs, r)
		_ = cmd.Wait()
		close(p.exited)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case a := <-lines:
		if a.PID != p.PID {
			_ = p.stop()
			return fmt.Errorf("peer announced pid %d, started %d", a.PID, p.PID)
		}
		p.Issuer = a.Issuer
		return nil
	case err := <-readErr:
		_ = p.stop()
		return fmt.Errorf("oidc-provider did not start: %w", err)
	case <-timer.C:
		_ = p.stop()
		return fmt.Errorf("oidc-provider did not announce its issuer within %s", startTimeout)
	}
}

// stop ends the peer by PID: SIGTERM, then SIGKILL after stopTimeout, and
// waits until the process is reaped.
func (p *Peer) stop() error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	_ = p.stdin.Close()
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill peer pid %d: %w", p.PID, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("peer pid %d did not exit after SIGKILL", p.PID)
	}
}

// Logs returns the tail of the peer's stderr.
func (p *Peer) Logs() string { return p.logs.String() }

// HTTPClient returns a client that trusts the peer's CA in TLS mode.
func (p *Peer) HTTPClient() *http.Client { return p.http }

// transport trusts the peer's CA and, with clientCert, presents the
// tls-client certificate.
func (p *Peer) transport(clientCert bool) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if p.CAFile == "" {
		return tr, nil
	}
	caPEM, err := os.ReadFile(p.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("ca file holds no certificate")
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if clientCert {
		cert, err := tls.LoadX509KeyPair(p.ClientCertFile, p.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	}
	return tr, nil
}

// TLSClientHTTPClient returns a client presenting the tls-client certificate
// (TLS mode only).
func (p *Peer) TLSClientHTTPClient(t testing.TB) *http.Client {
	t.Helper()
	if p.CAFile == "" {
		t.Fatal("oidcpeer: TLSClientHTTPClient needs a peer started with Config.TLS")
	}
	tr, err := p.transport(true)
	if err != nil {
		t.Fatalf("oidcpeer: %v", err)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// Stats reads the peer's counters.
func (p *Peer) Stats(t testing.TB) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Issuer+"/test/stats", nil)
	if err != nil {
		t.Fatalf("oidcpeer: stats request: %v", err)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		t.Fatalf("oidcpeer: get stats: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("oidcpeer: get stats: status %d", resp.StatusCode)
	}
	var s Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("oidcpeer: decode stats: %v", err)
	}
	return s
}

// Reset zeroes the peer's counters.
func (p *Peer) Reset(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+"/test/reset", nil)
	if err != nil {
		t.Fatalf("oidcpeer: reset request: %v", err)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		t.Fatalf("oidcpeer: reset stats: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("oidcpeer: reset stats: status %d", resp.StatusCode)
	}
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.limit; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
