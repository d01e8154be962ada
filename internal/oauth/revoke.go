package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// Token type hints of RFC 7009 §2.1 and RFC 7662 §2.1.
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// Revoke asks the IdP to revoke a token (RFC 7009 §2.1). Success means the
// token is no longer valid OR was never valid: §2.2 has the server answer
// 200 for unknown tokens too, so callers must not claim more.
func (c *Client) Revoke(ctx context.Context, token, hint string) error {
	endpoint, err := c.endpoint("revocation_endpoint", c.Metadata.RevocationEndpoint)
	if err != nil {
		return err
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	// RFC 9449 defines no proof for revocation, but an IdP that binds
	// tokens may want one there too; it costs nothing to send.
	s, err := c.send(ctx, endpoint, form, []string{token}, c.DPoP.Active())
	if err != nil {
		return fmt.Errorf("revoking: %w", err)
	}
	resp := s.resp
	if resp.Status == http.StatusOK {
		return nil
	}
	// §2.2.1: 503 with Retry-After asks to try later.
	if resp.Status == http.StatusServiceUnavailable {
		if d, ok := httpx.RetryAfter(resp.Header, c.now()); ok {
			return errs.New(errs.KindNetwork, "the revocation endpoint is busy: try again in %s", d.Round(time.Second))
		}
	}
	return fmt.Errorf("revoking: %w", responseError("revocation", resp))
}

// Introspection is an RFC 7662 §2.2 response.
type Introspection struct {
	Active    bool            `json:"active"`
	Scope     string          `json:"scope,omitempty"`
	ClientID  string          `json:"client_id,omitempty"`
	Username  string          `json:"username,omitempty"`
	TokenType string          `json:"token_type,omitempty"`
	Exp       int64           `json:"exp,omitempty"`
	Iat       int64           `json:"iat,omitempty"`
	Nbf       int64           `json:"nbf,omitempty"`
	Sub       string          `json:"sub,omitempty"`
	Aud       json.RawMessage `json:"aud,omitempty"`
	Iss       string          `json:"iss,omitempty"`
	Jti       string          `json:"jti,omitempty"`
	Raw       map[string]any  `json:"-"`
}

// Introspect asks whether a token is active (RFC 7662 §2.1).
func (c *Client) Introspect(ctx context.Context, token, hint string) (*Introspection, error) {
	endpoint, err := c.endpoint("introspection_endpoint", c.Metadata.IntrospectionEndpoint)
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	s, err := c.send(ctx, endpoint, form, []string{token}, c.DPoP.Active())
	if err != nil {
		return nil, fmt.Errorf("introspecting: %w", err)
	}
	resp := s.resp
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("introspecting: %w", responseError("introspection", resp))
	}
	return parseIntrospection(resp)
}

// parseIntrospection validates an RFC 7662 §2.2 response.
func parseIntrospection(resp *httpx.Response) (*Introspection, error) {
	var in Introspection
	if err := httpx.DecodeJSON(resp, &in); err != nil {
		return nil, fmt.Errorf("introspecting: %w", err)
	}
	var raw map[string]any
	if err := httpx.DecodeJSON(resp, &raw); err != nil {
		return nil, fmt.Errorf("introspecting: %w", err)
	}
	if _, ok := raw["active"].(bool); !ok {
		// §2.2: active is REQUIRED and boolean; anything else is not an answer.
		return nil, errs.New(errs.KindNetwork, "the introspection response has no boolean \"active\"")
	}
	in.Raw = raw
	return &in, nil
}
