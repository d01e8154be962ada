package oauth

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// Token is a successful token response (RFC 6749 §5.1, RFC 8693 §2.2.1).
type Token struct {
	AccessToken     string
	TokenType       string
	RefreshToken    string
	IDToken         string
	Scope           string
	IssuedTokenType string
	// ExpiresAt is zero when the IdP did not say (expires_in is only
	// RECOMMENDED in RFC 6749 §5.1).
	ExpiresAt time.Time
	// RefreshExpiresAt comes from refresh_token_expires_in (Webex, Entra)
	// or refresh_expires_in (Keycloak); zero when not sent.
	RefreshExpiresAt time.Time
	ReceivedAt       time.Time
	// DPoPJkt is the thumbprint of the key a DPoP-bound token is bound to
	// (RFC 9449 §5); "" for a Bearer token.
	DPoPJkt string
	// AuthorizationDetails is the RFC 9396 §7 authorization_details the IdP
	// granted, as JSON; empty when it sent none.
	AuthorizationDetails json.RawMessage
}

// maxLifetime bounds expires_in: a larger value is nonsense or an attempt to
// overflow time arithmetic; ten years is beyond any real token.
const maxLifetime = 10 * 365 * 24 * time.Hour

type tokenWire struct {
	AccessToken           string          `json:"access_token"`
	TokenType             string          `json:"token_type"`
	RefreshToken          string          `json:"refresh_token"`
	IDToken               string          `json:"id_token"`
	Scope                 json.RawMessage `json:"scope"`
	IssuedTokenType       string          `json:"issued_token_type"`
	ExpiresIn             json.RawMessage `json:"expires_in"`
	RefreshTokenExpiresIn json.RawMessage `json:"refresh_token_expires_in"`
	RefreshExpiresIn      json.RawMessage `json:"refresh_expires_in"`
	AuthorizationDetails  json.RawMessage `json:"authorization_details"`
}

// parseToken validates a 200 response of the token endpoint; jkt is the
// thumbprint of the key whose proof the request carried, "" for none.
func parseToken(resp *httpx.Response, now time.Time, jkt string) (*Token, error) {
	var w tokenWire
	if err := httpx.DecodeJSON(resp, &w); err != nil {
		return nil, fmt.Errorf("reading the token response: %w", err)
	}
	if w.AccessToken == "" {
		return nil, errs.New(errs.KindNetwork, "the token response from %s has no access_token", httpx.Host(resp.URL))
	}
	if !ValidTokenChars(w.AccessToken) {
		// The token goes into Authorization headers, shell exports and
		// kubeconfig: a CR/LF or space in it would inject a header or a
		// command downstream. The value is never echoed.
		return nil, errs.New(errs.KindNetwork, "the IdP at %s answered a malformed access token (%d characters, not all of them RFC 6750 token characters); refusing to use it", httpx.Host(resp.URL), len(w.AccessToken))
	}
	t := &Token{
		AccessToken:     w.AccessToken,
		RefreshToken:    w.RefreshToken,
		IDToken:         w.IDToken,
		IssuedTokenType: w.IssuedTokenType,
		ReceivedAt:      now,
	}
	// RFC 6750 §1 and RFC 6749 §7.1: the type is case-insensitive. RFC
	// 8693 §2.2.1 allows N_A for issued tokens that are not access tokens.
	// RFC 9449 §5: DPoP only in answer to a proof; an IdP may ignore the
	// proof and issue a Bearer token, which is then reported as such.
	switch tt := strings.TrimSpace(w.TokenType); {
	case tt == "" || strings.EqualFold(tt, "bearer"):
		t.TokenType = "Bearer"
	case tt == "N_A" && w.IssuedTokenType != "":
		t.TokenType = "N_A"
	case strings.EqualFold(tt, TokenTypeDPoP):
		if jkt == "" {
			return nil, errs.New(errs.KindRefused, "the IdP issued a DPoP-bound token (RFC 9449) to a request without a DPoP proof; turn DPoP on for this profile (--dpop, or dpop: true in the profile)")
		}
		t.TokenType = TokenTypeDPoP
		t.DPoPJkt = jkt
	default:
		return nil, errs.New(errs.KindRefused, "the IdP issued a token of type %q; only Bearer tokens are supported", clean(tt, 40))
	}
	scope, err := parseScope(w.Scope)
	if err != nil {
		return nil, errs.New(errs.KindNetwork, "the token response has an invalid scope: %v", err)
	}
	t.Scope = scope
	if ad := strings.TrimSpace(string(w.AuthorizationDetails)); ad != "" && ad != "null" {
		if !strings.HasPrefix(ad, "[") {
			return nil, errs.New(errs.KindNetwork, "the token response has authorization_details that are not a JSON array (RFC 9396 §7)")
		}
		t.AuthorizationDetails = json.RawMessage(ad)
	}
	if d, ok, err := parseSeconds(w.ExpiresIn); err != nil {
		return nil, errs.New(errs.KindNetwork, "the token response has an invalid expires_in: %v", err)
	} else if ok {
		t.ExpiresAt = now.Add(d)
	}
	for _, raw := range []json.RawMessage{w.RefreshTokenExpiresIn, w.RefreshExpiresIn} {
		if d, ok, err := parseSeconds(raw); err == nil && ok && d > 0 {
			t.RefreshExpiresAt = now.Add(d)
			break
		}
	}
	return t, nil
}

// ValidTokenChars tells whether s is an RFC 6750 §2.1 b64token, the only
// form a bearer token can take in an Authorization header:
//
//	b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func ValidTokenChars(s string) bool {
	i := 0
	for i < len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// parseSeconds reads a lifetime sent as a JSON number or, as some IdPs do, a
// numeric string. Negative values are refused; absurdly large ones capped.
func parseSeconds(raw json.RawMessage) (time.Duration, bool, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, false, nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return 0, false, err
		}
		s = strings.TrimSpace(str)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("not a number of seconds")
	}
	if f < 0 {
		return 0, false, fmt.Errorf("negative (%g)", f)
	}
	if f > maxLifetime.Seconds() {
		return maxLifetime, true, nil
	}
	return time.Duration(f * float64(time.Second)), true, nil
}

// parseScope accepts the RFC 6749 space-separated string and, leniently,
// an array of strings (seen from some IdPs).
func parseScope(raw json.RawMessage) (string, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return str, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return strings.Join(list, " "), nil
	}
	return "", fmt.Errorf("neither a string nor a list")
}
