package oauth

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/redact"
)

// Error is an error response of RFC 6749 §5.2 (and of RFC 7009 §2.2.1,
// RFC 8628 §3.5, RFC 8693 §2.2.2, which reuse it).
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	Status      int    `json:"-"`
	Endpoint    string `json:"-"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s answered %s", e.Endpoint, e.Code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	switch e.Code {
	case "invalid_grant":
		msg += " (the grant or refresh token is no longer valid: log in again)"
	case "invalid_client":
		msg += " (check the client id, secret or key, and the client authentication method)"
	case "unauthorized_client":
		msg += " (this client may not use that grant: enable it at the IdP)"
	case "unsupported_grant_type":
		msg += " (the IdP does not offer this grant)"
	case "invalid_request":
		// A client registered to require PAR or JAR, at an IdP whose
		// discovery does not say so, is refused a plain request (RFC 9126
		// §5, RFC 9101 §10.5); the description names what is missing.
		d := strings.ToLower(e.Description)
		switch {
		case strings.Contains(d, "pushed authorization request"):
			msg += " (the client requires pushed authorization requests: add --par)"
		case strings.Contains(d, "request object"):
			msg += " (the client requires a signed request object: add --request-object)"
		}
	}
	return msg
}

// Kind classifies the error for the exit code: a dead grant means logging
// in again (3); anything else the IdP refuses is 4.
func (e *Error) Kind() errs.Kind {
	switch e.Code {
	case "invalid_grant", "expired_token", "login_required", "interaction_required", "consent_required":
		return errs.KindLoginRequired
	default:
		return errs.KindRefused
	}
}

// responseError turns a non-success response into a classified error.
// The status decides first: a 429 or 5xx is the IdP being unable to answer
// now (exit 5) even when its body is shaped like an OAuth error, and says
// when to try again if the IdP said. Otherwise an RFC 6749 error body
// becomes *Error, and anything else a status sentence.
func responseError(what string, resp *httpx.Response) error {
	endpoint := what + " endpoint"
	var oe Error
	if e := errorObject(what, resp); e != nil {
		oe = *e
	}
	said := ""
	if oe.Code != "" {
		said = " (" + oe.Code
		if oe.Description != "" {
			said += ": " + oe.Description
		}
		said += ")"
	}
	when := "try again later"
	if d, ok := httpx.RetryAfter(resp.Header, time.Now()); ok {
		when = "try again in " + d.Round(time.Second).String()
	}
	switch {
	case resp.Status == http.StatusTooManyRequests:
		return errs.New(errs.KindNetwork, "the %s is rate limiting us (HTTP 429)%s; %s", endpoint, said, when)
	case resp.Status >= 500:
		if oe.Code == "" && len(resp.Body) > 0 && !httpx.IsJSON(resp.Body) {
			if err := httpx.DecodeJSON(resp, new(map[string]any)); err != nil {
				return errs.New(errs.KindNetwork, "the %s failed: %s; %s", endpoint, strings.TrimPrefix(err.Error(), httpx.Host(resp.URL)+" "), when)
			}
		}
		return errs.New(errs.KindNetwork, "the %s failed: HTTP %d%s; %s", endpoint, resp.Status, said, when)
	case oe.Code != "":
		return errs.Wrap(oe.Kind(), &oe)
	case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		return errs.New(errs.KindRefused, "the %s refused the request: HTTP %d", endpoint, resp.Status)
	default:
		if err := httpx.DecodeJSON(resp, new(map[string]any)); err != nil {
			return fmt.Errorf("the %s answered HTTP %d: %w", endpoint, resp.Status, err)
		}
		return errs.New(errs.KindRefused, "the %s answered HTTP %d without an OAuth error", endpoint, resp.Status)
	}
}

// errorObject reads an RFC 6749 §5.2 error object from a response of any
// status, or returns nil when the body is not one. Some IdPs and gateways
// send it with 200 OK; it is still an error, never a token.
func errorObject(what string, resp *httpx.Response) *Error {
	if !httpx.IsJSON(resp.Body) {
		return nil
	}
	var oe Error
	if err := httpx.DecodeJSON(resp, &oe); err != nil || strings.TrimSpace(oe.Code) == "" {
		return nil
	}
	// The request's credentials are blanked too: an IdP may quote the
	// client secret or the refresh token it refused.
	oe.Code = clean(oe.Code, 64, resp.Secrets...)
	oe.Description = clean(oe.Description, 300, resp.Secrets...)
	oe.URI = clean(oe.URI, 200, resp.Secrets...)
	oe.Status = resp.Status
	oe.Endpoint = "the " + what + " endpoint"
	return &oe
}

// okError is the error object of a 200 answer, classified like one sent
// with a 4xx status, or nil.
func okError(what string, resp *httpx.Response) error {
	if oe := errorObject(what, resp); oe != nil {
		return errs.Wrap(oe.Kind(), oe)
	}
	return nil
}

// clean makes IdP-supplied text safe to print: no control characters (a
// hostile server could move the cursor or forge lines), no JWT, bounded.
func clean(s string, limit int, secrets ...string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = redact.Text(strings.TrimSpace(s), secrets...)
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}
