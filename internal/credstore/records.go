package credstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AccessToken is the cached access token of a profile. Its JSON form is what
// the store holds; the field names are a stored format and must not change.
type AccessToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	IDToken     string    `json:"id_token,omitempty"`
	ObtainedAt  time.Time `json:"obtained_at"`
	// Issuer and ClientID record what the token was obtained from, so a
	// profile whose issuer or client changed does not serve a stale token.
	Issuer   string `json:"issuer,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// Request identifies the audience and resources asked for, so a
	// request for another API is not served this token.
	Request string `json:"request,omitempty"`
	// RequestedScope is what was asked for, space-separated; with Scope
	// (what was granted, when the IdP says) it decides whether a later
	// request for some scopes can be served this token.
	RequestedScope string `json:"requested_scope,omitempty"`
	// DPoPJkt is the thumbprint of the DPoP key a DPoP-bound token is bound
	// to (RFC 9449 §6); it is served only while the profile holds that key.
	DPoPJkt string `json:"dpop_jkt,omitempty"`
	// DPoPDeclined marks a Bearer token the IdP issued although DPoP was
	// asked for (an IdP without DPoP): a later request for DPoP may be
	// served it, since asking again would give the same.
	DPoPDeclined bool `json:"dpop_declined,omitempty"`
	// AuthorizationDetails are the RFC 9396 authorization details the IdP
	// granted, as JSON.
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// RefreshToken is the cached refresh token of a profile.
type RefreshToken struct {
	RefreshToken string `json:"refresh_token"`
	// IssuedAt is when this refresh token was received; with ExpiresAt it
	// gives the share of its life used, for early renewal.
	IssuedAt time.Time `json:"issued_at"`
	// ExpiresAt is known only when the IdP says (refresh_token_expires_in,
	// as Webex sends, or a JWT refresh token's exp).
	ExpiresAt time.Time `json:"expires_at,omitempty"`
	Scope     string    `json:"scope,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	// DPoPJkt is the thumbprint of the key whose proof obtained this
	// refresh token: refreshes must prove the same key (RFC 9449 §5).
	DPoPJkt string `json:"dpop_jkt,omitempty"`
}

// LoadJSON reads the item and decodes it into v. A missing item gives an
// error wrapping ErrNotFound; a corrupt one an error saying so.
func LoadJSON(ctx context.Context, s Store, profile string, kind Kind, v any) error {
	raw, err := s.Get(ctx, profile, kind)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("the cached %s of profile %q is unreadable (remove it with 'idpctl logout'): %w", kind, profile, errors.New(jsonErrorSummary(err)))
	}
	return nil
}

// SaveJSON encodes v and stores it as the item.
func SaveJSON(ctx context.Context, s Store, profile string, kind Kind, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Set(ctx, profile, kind, raw)
}

// jsonErrorSummary names the JSON problem without quoting the value, which
// may hold a secret.
func jsonErrorSummary(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	return "invalid JSON"
}
