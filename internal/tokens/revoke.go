package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// Revoker is the part of the OAuth client revocation needs (RFC 7009).
type Revoker interface {
	Revoke(ctx context.Context, token, hint string) error
}

// Outcome is the result of revoking one token.
type Outcome struct {
	Kind   string `json:"kind"`
	Result string `json:"result"`
	Note   string `json:"note,omitempty"`
}

// Outcome results.
const (
	Revoked      = "revoked"
	NotRevocable = "not revocable"
)

// RevokeCached revokes the profile's cached refresh token, then its access
// token, removing each local copy only after the IdP confirmed. It needs
// only Store, Profile, Issuer and ClientID of the Service.
func (s *Service) RevokeCached(ctx context.Context, client Revoker) ([]Outcome, error) {
	var results []Outcome
	rt, err := s.LoadRefresh(ctx)
	if err != nil {
		return nil, err
	}
	var at credstore.AccessToken
	atErr := credstore.LoadJSON(ctx, s.Store, s.Profile, credstore.KindAccessToken, &at)
	if rt == nil && atErr != nil {
		return nil, errs.New(errs.KindLoginRequired, "profile %q has no cached tokens to revoke", s.Profile)
	}
	// The refresh token first: at most IdPs it takes the grant's access
	// tokens with it (RFC 7009 §2.1).
	if rt != nil {
		if err := client.Revoke(ctx, rt.RefreshToken, oauth.HintRefreshToken); err != nil {
			return nil, fmt.Errorf("revoking the cached refresh token (kept locally): %w", err)
		}
		if err := s.Store.Delete(ctx, s.Profile, credstore.KindRefreshToken); err != nil {
			return nil, err
		}
		results = append(results, Outcome{Kind: oauth.HintRefreshToken, Result: Revoked})
	}
	if atErr == nil && at.AccessToken != "" {
		if err := client.Revoke(ctx, at.AccessToken, oauth.HintAccessToken); err != nil {
			if !isUnsupportedTokenType(err) {
				return results, fmt.Errorf("revoking the cached access token (kept locally): %w", err)
			}
			// RFC 7009 §2.2.1: this IdP does not revoke access tokens
			// (typically JWTs); forget it and say how long it lives.
			note := "the IdP does not revoke access tokens; it stays valid until it expires"
			if !at.ExpiresAt.IsZero() {
				note += " at " + at.ExpiresAt.Local().Format(time.RFC1123)
			}
			results = append(results, Outcome{Kind: oauth.HintAccessToken, Result: NotRevocable, Note: note})
		} else {
			results = append(results, Outcome{Kind: oauth.HintAccessToken, Result: Revoked})
		}
		if err := s.Store.Delete(ctx, s.Profile, credstore.KindAccessToken); err != nil {
			return results, err
		}
	}
	return results, nil
}

// isUnsupportedTokenType recognises the RFC 7009 §2.2.1 error.
func isUnsupportedTokenType(err error) bool {
	var oe *oauth.Error
	return errors.As(err, &oe) && oe.Code == "unsupported_token_type"
}
