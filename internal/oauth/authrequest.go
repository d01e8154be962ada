package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// RequestSigner signs an authorization request as a request object (RFC
// 9101 §4) with the client's key: iss the client, aud the issuer.
type RequestSigner func(params map[string]any) (string, error)

// authorizationURL is where the browser goes: the plain request (RFC 6749
// §4.1.1), the request as a signed request object (RFC 9101 §5) when the
// IdP requires it or the caller asks, and pushed first (RFC 9126) when the
// IdP requires it or the caller asks.
func (c *Client) authorizationURL(ctx context.Context, authEndpoint string, q url.Values, o AuthCodeOptions) (string, error) {
	useJAR := o.RequestObject || c.Metadata.RequireSignedRequestObject
	usePAR := o.PAR || c.Metadata.RequirePushedAuthorizationRequests
	if useJAR && o.SignRequest == nil {
		return "", errs.New(errs.KindUsage, "signed request objects (RFC 9101) need the client's private key: set --private-key-file or IDPCTL_PRIVATE_KEY_FILE")
	}
	if !usePAR {
		if useJAR {
			jwt, err := c.signRequest(q, o.SignRequest)
			if err != nil {
				return "", err
			}
			// RFC 9101 §5: client_id stays outside the object; OIDC Core
			// §6.1 wants response_type and scope there too, with the same
			// values as inside.
			outer := url.Values{"client_id": {c.ClientID}, "response_type": q["response_type"], "request": {jwt}}
			if sc := q.Get("scope"); sc != "" {
				outer.Set("scope", sc)
			}
			q = outer
		}
		return joinQuery(authEndpoint, q), nil
	}

	parEndpoint, err := c.endpoint("pushed_authorization_request_endpoint", c.Metadata.PushedAuthorizationRequestEndpoint)
	if err != nil {
		return "", err
	}
	requestURI, err := c.push(ctx, parEndpoint, q, useJAR, o.SignRequest)
	if err != nil {
		var oe *Error
		// A client registered to require request objects says so only when
		// asked without one (oidc-provider: "Request Object must be used by
		// this client"). Nothing was consumed, so push again, signed.
		if useJAR || o.SignRequest == nil || !errors.As(err, &oe) || !strings.Contains(strings.ToLower(oe.Description), "request object must be used") {
			return "", err
		}
		if requestURI, err = c.push(ctx, parEndpoint, q, true, o.SignRequest); err != nil {
			return "", err
		}
	}
	// RFC 9126 §4: only client_id and request_uri go to the browser.
	return joinQuery(authEndpoint, url.Values{"client_id": {c.ClientID}, "request_uri": {requestURI}}), nil
}

// push sends the request to the PAR endpoint with client authentication
// (RFC 9126 §2.1) and returns its request_uri.
func (c *Client) push(ctx context.Context, endpoint string, q url.Values, signed bool, sign RequestSigner) (string, error) {
	form := cloneForm(q)
	if signed {
		jwt, err := c.signRequest(q, sign)
		if err != nil {
			return "", err
		}
		form = url.Values{"request": {jwt}}
	}
	// client_id is part of the request; client authentication adds its own.
	form.Del("client_id")
	s, err := c.send(ctx, endpoint, form, nil, false)
	if err != nil {
		return "", fmt.Errorf("pushing the authorization request: %w", err)
	}
	resp := s.resp
	// §2.2: 201 Created; some servers answer 200.
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return "", fmt.Errorf("pushing the authorization request: %w", responseError("pushed authorization request", resp))
	}
	var out struct {
		RequestURI string          `json:"request_uri"`
		ExpiresIn  json.RawMessage `json:"expires_in"`
	}
	if err := httpx.DecodeJSON(resp, &out); err != nil {
		return "", fmt.Errorf("pushing the authorization request: %w", err)
	}
	if out.RequestURI == "" {
		return "", errs.New(errs.KindNetwork, "the pushed authorization request endpoint of %s answered without a request_uri", httpx.Host(endpoint))
	}
	return out.RequestURI, nil
}

// signRequest turns the request parameters into request object claims:
// repeated parameters (resource) become arrays, authorization_details its
// JSON array (RFC 9396 §3).
func (c *Client) signRequest(q url.Values, sign RequestSigner) (string, error) {
	params := make(map[string]any, len(q))
	for k, v := range q {
		switch {
		case k == "authorization_details" && len(v) == 1:
			params[k] = json.RawMessage(v[0])
		case len(v) == 1:
			params[k] = v[0]
		default:
			params[k] = v
		}
	}
	params["client_id"] = c.ClientID
	jwt, err := sign(params)
	if err != nil {
		return "", errs.New(errs.KindUsage, "signing the request object: %w", err)
	}
	return jwt, nil
}

func joinQuery(endpoint string, q url.Values) string {
	if strings.Contains(endpoint, "?") {
		return endpoint + "&" + q.Encode()
	}
	return endpoint + "?" + q.Encode()
}
