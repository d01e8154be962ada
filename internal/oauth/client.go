package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// Client talks to one IdP as one OAuth client.
type Client struct {
	HTTP     *httpx.Client
	Metadata *Metadata
	ClientID string
	Auth     ClientAuth
	Now      func() time.Time
	// DPoP, when set, sender-constrains tokens (RFC 9449); nil never sends
	// proofs.
	DPoP *DPoP
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// endpoint returns the named endpoint or a usage error saying the IdP has
// none. With tls_client_auth the RFC 8705 §5 mTLS alias is preferred.
func (c *Client) endpoint(name, value string) (string, error) {
	if c.Auth != nil && c.Auth.Method() == AuthTLSClient && c.Metadata.MTLSEndpointAliases != nil {
		if alias := c.Metadata.MTLSEndpointAliases[name]; alias != "" {
			return alias, nil
		}
	}
	if value == "" {
		return "", errs.New(errs.KindUnsupported, "the IdP publishes no %s: %w", name, ErrNoEndpoint)
	}
	return value, nil
}

// post sends a form to an endpoint with client authentication, once: a
// token request may consume a code or a refresh token. The only repeats are
// send's, after a definite refusal that consumed nothing.
func (c *Client) post(ctx context.Context, endpoint string, form url.Values, secrets []string, header http.Header) (*httpx.Response, error) {
	req := httpx.Request{Method: http.MethodPost, URL: endpoint, Form: form, Secrets: secrets, Header: header}
	if c.Auth == nil {
		return nil, errs.New(errs.KindUsage, "no client authentication configured")
	}
	if err := c.Auth.Apply(&req, c.ClientID, endpoint, c.now()); err != nil {
		return nil, err
	}
	return c.HTTP.Do(ctx, req)
}

// tokenRequest posts to the token endpoint and parses the answer. With
// DPoP active, or proof set (a refresh token bound to the key), the request
// carries a DPoP proof; without, an IdP that demands one gets the request
// again, once, with a proof.
func (c *Client) tokenRequest(ctx context.Context, form url.Values, proof bool, secrets ...string) (*Token, error) {
	endpoint, err := c.endpoint("token_endpoint", c.Metadata.TokenEndpoint)
	if err != nil {
		return nil, err
	}
	if proof && c.DPoP == nil {
		return nil, errs.New(errs.KindUsage, "this request needs a DPoP proof, but no DPoP key is configured")
	}
	s, err := c.send(ctx, endpoint, form, secrets, proof || c.DPoP.Active())
	if err != nil {
		return nil, err
	}
	if s.resp.Status != http.StatusOK && s.jkt == "" && c.DPoP != nil && c.DPoP.Key != nil && isDPoPDemand(s.resp, form.Get("grant_type"), len(c.Metadata.DPoPSigningAlgValuesSupported) > 0) {
		c.DPoP.turnOn()
		if s, err = c.send(ctx, endpoint, form, secrets, true); err != nil {
			return nil, err
		}
	}
	if s.resp.Status != http.StatusOK {
		return nil, responseError("token", s.resp)
	}
	if err := okError("token", s.resp); err != nil {
		return nil, err
	}
	return parseToken(s.resp, c.now(), s.jkt)
}

// TokenOptions are the parameters shared by grants that request a token.
type TokenOptions struct {
	Scopes []string
	// Audience is the RFC 8693 audience, also sent by IdPs that take an
	// audience parameter on client_credentials (Auth0).
	Audience string
	// Resources are RFC 8707 resource indicators.
	Resources []string
	// AuthorizationDetails is an RFC 9396 authorization_details JSON array,
	// already validated; empty when none.
	AuthorizationDetails string
	// DPoP sends a DPoP proof even when the client would not (the refresh
	// token to use is bound to the key).
	DPoP bool
}

func (o TokenOptions) apply(form url.Values) {
	if len(o.Scopes) > 0 {
		form.Set("scope", strings.Join(o.Scopes, " "))
	}
	if o.Audience != "" {
		form.Set("audience", o.Audience)
	}
	for _, r := range o.Resources {
		form.Add("resource", r)
	}
	if o.AuthorizationDetails != "" {
		form.Set("authorization_details", o.AuthorizationDetails)
	}
}

// ClientCredentials runs the RFC 6749 §4.4 grant.
func (c *Client) ClientCredentials(ctx context.Context, o TokenOptions) (*Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	o.apply(form)
	t, err := c.tokenRequest(ctx, form, o.DPoP)
	if err != nil {
		return nil, fmt.Errorf("client credentials grant: %w", err)
	}
	return t, nil
}

// Refresh runs the RFC 6749 §6 grant. Scopes, when given, must not exceed
// the original grant's.
func (c *Client) Refresh(ctx context.Context, refreshToken string, o TokenOptions) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	o.apply(form)
	t, err := c.tokenRequest(ctx, form, o.DPoP, refreshToken)
	if err != nil {
		return nil, fmt.Errorf("refresh token grant: %w", err)
	}
	return t, nil
}

// JWTBearer runs the RFC 7523 §2.1 grant with a signed user assertion.
func (c *Client) JWTBearer(ctx context.Context, assertion string, o TokenOptions) (*Token, error) {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	o.apply(form)
	t, err := c.tokenRequest(ctx, form, o.DPoP, assertion)
	if err != nil {
		return nil, fmt.Errorf("JWT bearer grant: %w", err)
	}
	return t, nil
}

// Token type identifiers of RFC 8693 §3.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// ExchangeRequest is an RFC 8693 §2.1 token exchange.
type ExchangeRequest struct {
	SubjectToken, SubjectTokenType string
	ActorToken, ActorTokenType     string
	RequestedTokenType             string
	TokenOptions
}

// TokenExchange runs the RFC 8693 grant.
func (c *Client) TokenExchange(ctx context.Context, r ExchangeRequest) (*Token, error) {
	if r.SubjectToken == "" {
		return nil, errs.New(errs.KindUsage, "token exchange needs a subject token")
	}
	if r.SubjectTokenType == "" {
		r.SubjectTokenType = TokenTypeAccessToken
	}
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {r.SubjectToken},
		"subject_token_type": {r.SubjectTokenType},
	}
	if r.ActorToken != "" {
		form.Set("actor_token", r.ActorToken)
		form.Set("actor_token_type", r.ActorTokenType)
	}
	if r.RequestedTokenType != "" {
		form.Set("requested_token_type", r.RequestedTokenType)
	}
	r.TokenOptions.apply(form)
	t, err := c.tokenRequest(ctx, form, r.DPoP, r.SubjectToken, r.ActorToken)
	if err != nil {
		return nil, fmt.Errorf("token exchange: %w", err)
	}
	return t, nil
}

// ExchangeCode redeems an authorization code (RFC 6749 §4.1.3) with its
// PKCE verifier (RFC 7636 §4.5).
func (c *Client) ExchangeCode(ctx context.Context, code, verifier, redirectURI string) (*Token, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {redirectURI},
	}
	t, err := c.tokenRequest(ctx, form, false, code, verifier)
	if err != nil {
		return nil, fmt.Errorf("authorization code grant: %w", err)
	}
	return t, nil
}
