package oauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// TokenTypeDPoP is the token_type of a DPoP-bound access token (RFC 9449 §5).
const TokenTypeDPoP = "DPoP"

// DPoPSigner signs DPoP proofs (RFC 9449 §4) with one key.
type DPoPSigner interface {
	// Thumbprint is the key's RFC 7638 SHA-256 thumbprint (the jkt).
	Thumbprint() string
	// Proof signs a proof for one request; accessToken, when set, is bound
	// by its hash (ath), nonce is the server's DPoP-Nonce or "".
	Proof(method, url, accessToken, nonce string, now time.Time) (string, error)
}

// DPoP is a client's sender-constraining state (RFC 9449): the key, when
// proofs are sent, and the last nonce each server gave.
type DPoP struct {
	// Key returns the profile's key, creating and storing it on first use.
	Key func(ctx context.Context) (DPoPSigner, error)
	// Always sends a proof with every token, revocation and introspection
	// request. Otherwise proofs start once the IdP demands one (an IdP can
	// require DPoP per client; discovery only says it is supported).
	Always bool

	mu     sync.Mutex
	signer DPoPSigner
	on     bool
	nonces map[string]string
}

// Active tells whether proofs are being sent.
func (d *DPoP) Active() bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Always || d.on
}

func (d *DPoP) turnOn() {
	d.mu.Lock()
	d.on = true
	d.mu.Unlock()
}

func (d *DPoP) key(ctx context.Context) (DPoPSigner, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.signer != nil {
		return d.signer, nil
	}
	if d.Key == nil {
		return nil, errs.New(errs.KindUsage, "no DPoP key is available")
	}
	s, err := d.Key(ctx)
	if err != nil {
		return nil, err
	}
	d.signer = s
	return s, nil
}

// origin keys nonces: RFC 9449 §8 has each server issue its own.
func origin(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	return u.Scheme + "://" + u.Host
}

func (d *DPoP) nonce(endpoint string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonces[origin(endpoint)]
}

func (d *DPoP) remember(endpoint string, h http.Header) {
	n := h.Get("DPoP-Nonce")
	if n == "" || len(n) > 512 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nonces == nil {
		d.nonces = map[string]string{}
	}
	d.nonces[origin(endpoint)] = n
}

// sent is a response and the thumbprint of the key that proved the request,
// "" when no proof was sent.
type sent struct {
	resp *httpx.Response
	jkt  string
}

// send posts a form with client authentication and, when proof is set, a
// DPoP proof. A use_dpop_nonce answer (RFC 9449 §8) is retried once with
// the nonce the server gave; a second demand is an error, never a loop.
func (c *Client) send(ctx context.Context, endpoint string, form url.Values, secrets []string, proof bool) (sent, error) {
	if !proof {
		resp, err := c.post(ctx, endpoint, form, secrets, nil)
		return sent{resp: resp}, err
	}
	signer, err := c.DPoP.key(ctx)
	if err != nil {
		return sent{}, err
	}
	for attempt := 0; ; attempt++ {
		nonce := c.DPoP.nonce(endpoint)
		p, err := signer.Proof(http.MethodPost, endpoint, "", nonce, c.now())
		if err != nil {
			return sent{}, errs.New(errs.KindUsage, "signing the DPoP proof: %w", err)
		}
		resp, err := c.post(ctx, endpoint, cloneForm(form), secrets, http.Header{"DPoP": {p}})
		if err != nil {
			return sent{}, err
		}
		c.DPoP.remember(endpoint, resp.Header)
		if !isNonceDemand(resp) {
			return sent{resp: resp, jkt: signer.Thumbprint()}, nil
		}
		if attempt == 0 && resp.Header.Get("DPoP-Nonce") == "" {
			// RFC 9449 §8: the demand carries the nonce to use; without
			// one there is nothing to retry with.
			return sent{}, errs.New(errs.KindRefused, "%s demanded a DPoP nonce (use_dpop_nonce, RFC 9449 §8) but sent no DPoP-Nonce header to use: check the IdP's DPoP nonce settings", httpx.Host(endpoint))
		}
		if attempt > 0 || c.DPoP.nonce(endpoint) == nonce {
			// The server asked again for a nonce after getting the one it
			// gave: retrying would never end.
			return sent{}, errs.New(errs.KindRefused, "%s demanded a new DPoP nonce again after the retry with the nonce it had given (use_dpop_nonce, RFC 9449 §8); giving up instead of looping: check the IdP's DPoP nonce settings and the clocks", httpx.Host(endpoint))
		}
	}
}

// cloneForm keeps each attempt's client authentication (a fresh client
// assertion has a fresh jti) from leaking into the next.
func cloneForm(form url.Values) url.Values {
	out := make(url.Values, len(form))
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// isNonceDemand recognises RFC 9449 §8 (authorization server: 400 with
// error use_dpop_nonce) and §9 (401 with a WWW-Authenticate DPoP challenge
// naming the same error).
func isNonceDemand(resp *httpx.Response) bool {
	if resp.Status != http.StatusBadRequest && resp.Status != http.StatusUnauthorized {
		return false
	}
	if strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
		return true
	}
	return oauthErrorCode(resp) == "use_dpop_nonce"
}

func oauthErrorCode(resp *httpx.Response) string {
	code, _ := oauthErrorOf(resp)
	return code
}

func oauthErrorOf(resp *httpx.Response) (code, description string) {
	if !httpx.IsJSON(resp.Body) {
		return "", ""
	}
	var oe Error
	if err := httpx.DecodeJSON(resp, &oe); err != nil {
		return "", ""
	}
	return oe.Code, oe.Description
}

// isDPoPDemand recognises a refusal because a request carried no DPoP
// proof, where the IdP requires one for this client: Keycloak answers
// invalid_request "DPoP proof is missing", others invalid_dpop_proof or a
// DPoP WWW-Authenticate challenge. oidc-provider (dpop_bound_access_tokens)
// answers a bare invalid_grant, its reason only in its log; for the two
// grants where that answer cannot mean a dead refresh token, and from an IdP
// that supports DPoP, it counts too. Resending is safe: the IdP refused the
// request, so it consumed nothing a second request could replay.
func isDPoPDemand(resp *httpx.Response, grantType string, advertised bool) bool {
	if resp.Status != http.StatusBadRequest && resp.Status != http.StatusUnauthorized {
		return false
	}
	if strings.HasPrefix(strings.TrimSpace(resp.Header.Get("WWW-Authenticate")), "DPoP") {
		return true
	}
	code, desc := oauthErrorOf(resp)
	if code == "invalid_dpop_proof" || code == "use_dpop_nonce" {
		return true
	}
	if code == "invalid_grant" && advertised && (grantType == "client_credentials" || grantType == "authorization_code") {
		return true
	}
	d := strings.ToLower(desc)
	return strings.Contains(d, "dpop") && (strings.Contains(d, "not provided") || strings.Contains(d, "missing") || strings.Contains(d, "required"))
}
