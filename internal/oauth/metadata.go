// Package oauth implements the standards idpctl speaks to any IdP: metadata
// discovery (OIDC Discovery 1.0, RFC 8414), client authentication (RFC 6749
// §2.3, RFC 7523, RFC 8705), the grants, revocation (RFC 7009) and
// introspection (RFC 7662). It talks HTTP only through httpx.
package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/atomicfile"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/redact"
)

// Metadata is an authorization server's metadata (RFC 8414 §2, OIDC
// Discovery §3). Only the members idpctl uses are named; Raw keeps the rest
// for `idp discover -o json`.
type Metadata struct {
	Issuer                                     string            `json:"issuer"`
	AuthorizationEndpoint                      string            `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string            `json:"token_endpoint,omitempty"`
	DeviceAuthorizationEndpoint                string            `json:"device_authorization_endpoint,omitempty"`
	RevocationEndpoint                         string            `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint                      string            `json:"introspection_endpoint,omitempty"`
	JWKSURI                                    string            `json:"jwks_uri,omitempty"`
	UserinfoEndpoint                           string            `json:"userinfo_endpoint,omitempty"`
	EndSessionEndpoint                         string            `json:"end_session_endpoint,omitempty"`
	PushedAuthorizationRequestEndpoint         string            `json:"pushed_authorization_request_endpoint,omitempty"`
	GrantTypesSupported                        []string          `json:"grant_types_supported,omitempty"`
	ResponseTypesSupported                     []string          `json:"response_types_supported,omitempty"`
	ScopesSupported                            []string          `json:"scopes_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string          `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string          `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	CodeChallengeMethodsSupported              []string          `json:"code_challenge_methods_supported,omitempty"`
	IDTokenSigningAlgValuesSupported           []string          `json:"id_token_signing_alg_values_supported,omitempty"`
	DPoPSigningAlgValuesSupported              []string          `json:"dpop_signing_alg_values_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool              `json:"authorization_response_iss_parameter_supported,omitempty"`
	TLSClientCertificateBoundAccessTokens      bool              `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	MTLSEndpointAliases                        map[string]string `json:"mtls_endpoint_aliases,omitempty"`
	// RequirePushedAuthorizationRequests is RFC 9126 §5.
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// RequireSignedRequestObject is RFC 9101 §10.5.
	RequireSignedRequestObject             bool     `json:"require_signed_request_object,omitempty"`
	RequestObjectSigningAlgValuesSupported []string `json:"request_object_signing_alg_values_supported,omitempty"`
	// AuthorizationDetailsTypesSupported is RFC 9396 §10.
	AuthorizationDetailsTypesSupported []string `json:"authorization_details_types_supported,omitempty"`

	Raw json.RawMessage `json:"-"`
	// Source is the URL the document came from; empty for a profile that
	// names its endpoints without discovery.
	Source string `json:"-"`
	// ServerDate is the IdP's clock when it served the document (its Date
	// header), for measuring clock skew; zero when unknown or cached.
	ServerDate time.Time `json:"-"`
}

// wellKnownURLs lists where the metadata may be, in the order tried. OIDC
// Discovery §4 appends to the issuer; RFC 8414 §3.1 inserts the well-known
// segment between host and path.
func wellKnownURLs(issuer string) ([]string, error) {
	if err := CheckIssuer(issuer); err != nil {
		return nil, err
	}
	u, _ := url.Parse(issuer)
	trimmed := strings.TrimSuffix(issuer, "/")
	path := strings.TrimSuffix(u.Path, "/")
	origin := u.Scheme + "://" + u.Host
	urls := []string{trimmed + "/.well-known/openid-configuration"}
	if path == "" {
		urls = append(urls, origin+"/.well-known/oauth-authorization-server")
	} else {
		urls = append(urls, origin+"/.well-known/oauth-authorization-server"+path)
	}
	return urls, nil
}

// CheckIssuer refuses what cannot be an issuer identifier (RFC 8414 §2):
// an http(s) URL with a host and no query, fragment or user information,
// https unless the host is loopback. The issuer is quoted with anything
// secret-looking masked: a mistaken one may carry a password.
func CheckIssuer(issuer string) error {
	shown := redact.URL(issuer)
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errs.New(errs.KindUsage, "the issuer %q is not an http(s) URL", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		// RFC 8414 §2: the issuer has no query or fragment.
		return errs.New(errs.KindUsage, "the issuer %q must not have a query or fragment", shown)
	}
	if u.User != nil {
		return errs.New(errs.KindUsage, "the issuer %q must not carry a user or password", shown)
	}
	if u.Scheme == "http" && !httpx.IsLoopbackHost(u.Hostname()) {
		return errs.New(errs.KindUsage, "the issuer %q must use https: plain http is only for loopback", shown)
	}
	return nil
}

// Discover fetches and validates the issuer's metadata. The issuer in the
// document must equal the configured one exactly (OIDC Discovery §4.3,
// RFC 8414 §3.3): a mismatch is how mix-up attacks start.
func Discover(ctx context.Context, hc *httpx.Client, issuer string) (*Metadata, error) {
	urls, err := wellKnownURLs(issuer)
	if err != nil {
		return nil, err
	}
	var lastStatus int
	for _, u := range urls {
		resp, err := hc.Do(ctx, httpx.Request{Method: http.MethodGet, URL: u, Idempotent: true, FollowRedirects: true})
		if err != nil {
			return nil, fmt.Errorf("discovering %s: %w", redact.URL(issuer), err)
		}
		if resp.Status == http.StatusNotFound {
			lastStatus = resp.Status
			continue
		}
		if resp.Status != http.StatusOK {
			return nil, discoveryStatusError(issuer, resp)
		}
		md, err := ParseMetadata(resp, issuer)
		if err != nil {
			return nil, err
		}
		md.Source = u
		md.ServerDate, _ = resp.ServerDate()
		return md, nil
	}
	return nil, errs.New(errs.KindUsage, "%s publishes no metadata (HTTP %d at %s); check the issuer URL, or set the endpoints in the profile", issuer, lastStatus, urls[0])
}

func discoveryStatusError(issuer string, resp *httpx.Response) error {
	kind := errs.KindNetwork
	if resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden {
		kind = errs.KindRefused
	}
	return errs.New(kind, "discovering %s: HTTP %d from %s", issuer, resp.Status, httpx.Host(resp.URL))
}

// ParseMetadata decodes and validates a metadata document.
func ParseMetadata(resp *httpx.Response, issuer string) (*Metadata, error) {
	var md Metadata
	if err := httpx.DecodeJSON(resp, &md); err != nil {
		return nil, fmt.Errorf("discovering %s: %w", issuer, err)
	}
	md.Raw = append(json.RawMessage(nil), resp.Body...)
	if md.Issuer != issuer {
		return nil, errs.New(errs.KindRefused, "the IdP's metadata names the issuer %q, not the configured %q; refusing it (OIDC Discovery §4.3): fix the issuer in the profile if the IdP's is right", md.Issuer, issuer)
	}
	if err := md.checkEndpoints(); err != nil {
		return nil, err
	}
	return &md, nil
}

// checkEndpoints refuses plain-http endpoints off loopback: a document that
// points the token endpoint at http would send secrets in the clear.
func (m *Metadata) checkEndpoints() error {
	for name, e := range map[string]string{
		"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint,
		"device_authorization_endpoint": m.DeviceAuthorizationEndpoint, "revocation_endpoint": m.RevocationEndpoint,
		"introspection_endpoint": m.IntrospectionEndpoint, "jwks_uri": m.JWKSURI, "userinfo_endpoint": m.UserinfoEndpoint,
	} {
		if e == "" {
			continue
		}
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			return errs.New(errs.KindRefused, "the IdP's metadata has an invalid %s", name)
		}
		if u.Scheme == "https" || (u.Scheme == "http" && httpx.IsLoopbackHost(u.Hostname())) {
			continue
		}
		return errs.New(errs.KindRefused, "the IdP's metadata gives a non-https %s (%s); refusing to send credentials there", name, u.Host)
	}
	return nil
}

// Supports reports whether a list in the metadata contains v. An absent list
// is "unknown", reported as true so that sparse documents do not block.
func Supports(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// MetadataCache keeps discovery documents on disk so a warm `token get`
// makes no discovery request. Entries are keyed by issuer and expire after TTL.
type MetadataCache struct {
	Dir string
	TTL time.Duration
	Now func() time.Time
}

type cachedMetadata struct {
	Issuer    string          `json:"issuer"`
	Source    string          `json:"source"`
	FetchedAt time.Time       `json:"fetched_at"`
	Document  json.RawMessage `json:"document"`
}

func (c *MetadataCache) path(issuer string) string {
	sum := sha256.Sum256([]byte(issuer))
	return filepath.Join(c.Dir, "discovery", hex.EncodeToString(sum[:12])+".json")
}

// Load returns a fresh cached document or nil.
func (c *MetadataCache) Load(issuer string) *Metadata {
	if c == nil || c.Dir == "" {
		return nil
	}
	raw, err := os.ReadFile(c.path(issuer))
	if err != nil {
		return nil
	}
	var e cachedMetadata
	if json.Unmarshal(raw, &e) != nil || e.Issuer != issuer {
		return nil
	}
	if age := c.Now().Sub(e.FetchedAt); age < 0 || age > c.TTL {
		return nil
	}
	var md Metadata
	if json.Unmarshal(e.Document, &md) != nil || md.Issuer != issuer || md.checkEndpoints() != nil {
		return nil
	}
	md.Raw = e.Document
	md.Source = e.Source
	return &md
}

// Save stores a document; failures only cost a later request, so they are
// returned for the caller to ignore or report under --debug.
func (c *MetadataCache) Save(md *Metadata) error {
	if c == nil || c.Dir == "" || len(md.Raw) == 0 {
		return nil
	}
	raw, err := json.Marshal(cachedMetadata{Issuer: md.Issuer, Source: md.Source, FetchedAt: c.Now().UTC(), Document: md.Raw})
	if err != nil {
		return err
	}
	p := c.path(md.Issuer)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(p, raw, 0o600)
}

// Forget drops the cached document, e.g. after the IdP rejected an endpoint.
func (c *MetadataCache) Forget(issuer string) {
	if c != nil && c.Dir != "" {
		_ = os.Remove(c.path(issuer))
	}
}

// ErrNoEndpoint is wrapped when the IdP offers no endpoint for an operation.
var ErrNoEndpoint = errors.New("no such endpoint")
