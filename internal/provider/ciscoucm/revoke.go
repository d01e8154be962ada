package ciscoucm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/redact"
)

const revokePath = "/ssosp/token/revoke"

// StillValid completes "Access tokens already issued stay valid ...":
// what a refresh-token revocation leaves valid.
const StillValid = "until they expire (OAuth Access Token Expiry Timer, default 60 minutes): they are signed and encrypted JWTs that cannot be revoked one by one; regenerating the keys invalidates all of them"

// revokeAnswer is the documented answer of the revoke call. Unknown
// members that might carry an explanation are read as well.
type revokeAnswer struct {
	RevokedTokens *struct {
		Status         string `json:"status"`
		UserID         string `json:"user_id"`
		ClientIDTokens []struct {
			ClientID     string `json:"client_id"`
			RefreshToken string `json:"refresh_token"`
		} `json:"clientID_tokens"`
		explanation
	} `json:"revoked_tokens"`
	explanation
}

type explanation struct {
	Message          string `json:"message"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Description      string `json:"description"`
	Reason           string `json:"reason"`
}

func (e explanation) text() string {
	var parts []string
	for _, s := range []string{e.Error, e.ErrorDescription, e.Message, e.Description, e.Reason} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// PlanRevokeUser lists the calls RevokeUser makes: the revoke, and the AXL
// check that follows only an empty answer. The user is the end
// user's user id; the client, when given, is a client id.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if err := p.checkRevoke(req); err != nil {
		return nil, err
	}
	purpose := "revoke the user's refresh tokens in every client"
	if req.Client != "" {
		purpose = "revoke the user's refresh tokens in that client"
	}
	check, err := p.planUserCheck()
	if err != nil {
		return nil, err
	}
	return []provider.Call{{Method: http.MethodGet, Path: revokePath + "?" + revokeQuery(req).Encode(), Purpose: purpose}, check}, nil
}

func (p *Provider) checkRevoke(req provider.RevokeUserRequest) error {
	if strings.TrimSpace(req.User) == "" {
		return errs.New(errs.KindUsage, "cisco-ucm: no user given")
	}
	if req.Method != "" {
		return errs.New(errs.KindUsage, "cisco-ucm: there is only one way to revoke here (the refresh-token revoke API); drop the method %q", req.Method)
	}
	return p.needHTTP("revoking refresh tokens")
}

func revokeQuery(req provider.RevokeUserRequest) url.Values {
	q := url.Values{"user_id": {req.User}}
	if req.Client != "" {
		q.Set("client_id", req.Client)
	}
	return q
}

// RevokeUser revokes the user's refresh tokens. The tokens the UCM sends
// back are counted per client and never kept.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	return p.revokeUser(ctx, req, true)
}

// revokeUser revokes; respell allows one more revocation under the user id
// as AXL spells it, never a second (a server answering ever new spellings
// must not make it loop).
func (p *Provider) revokeUser(ctx context.Context, req provider.RevokeUserRequest, respell bool) (*provider.RevokeUserResult, error) {
	if err := p.checkRevoke(req); err != nil {
		return nil, err
	}
	const op = "cisco-ucm: revoking refresh tokens"
	// Revoking twice is harmless, so a retry after a dropped connection
	// or 503 is safe.
	resp, err := p.Do(ctx, provider.Req{Method: http.MethodGet, Path: revokePath, Query: revokeQuery(req)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	tokens := tokenValues(resp.Body)
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client, RequestID: provider.RequestID(resp.Header)}
	var ans revokeAnswer
	jsonErr := json.Unmarshal(resp.Body, &ans)
	vendor := vendorText(resp.Body, tokens)

	switch {
	case resp.Status == http.StatusNotFound && jsonErr == nil:
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail = notFoundDetail(vendor)
		return res, nil
	case resp.Status != http.StatusOK:
		return nil, p.Fail(strings.TrimPrefix(op, Name+": "), resp)
	}
	if err := httpx.DecodeJSON(resp, &ans); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	rt := ans.RevokedTokens
	if rt == nil {
		return nil, errs.New(errs.KindUnknown, "%s: the answer has no revoked_tokens member%s", op, suffix(vendor))
	}
	if !strings.EqualFold(rt.Status, "success") {
		if looksLikeUnknownUser(vendor) {
			res.Outcome = provider.OutcomeUserNotFound
			res.Detail = notFoundDetail(vendor)
			return res, nil
		}
		return nil, errs.New(errs.KindUnknown, "%s for %q failed: status %q%s", op, req.User, provider.Clean(blankTokens(rt.Status, tokens)), suffix(vendor))
	}
	perClient := map[string]int{}
	n := 0
	for _, ct := range rt.ClientIDTokens {
		id := provider.Clean(blankTokens(ct.ClientID, tokens))
		if id == "" {
			id = "(no client id)"
		}
		perClient[id]++
		n++
	}
	res.StillValid = StillValid
	if n == 0 {
		// The revoke API may answer an end user it does not know like one
		// without tokens; only AXL can tell them apart.
		exists, spelt, err := p.userExists(ctx, req.User)
		if err != nil {
			return nil, fmt.Errorf("cisco-ucm: the revoke answered no refresh tokens for %q, and whether that user exists could not be checked: %w", req.User, err)
		}
		if exists && respell && spelt != "" && spelt != req.User {
			// AXL found the user under another spelling (user ids are
			// matched without regard to case there); the revoke API may not
			// be so lenient, so revoke again as the UCM spells the id
			// rather than report "nothing to revoke" for "JDoe" while
			// jdoe's tokens live on.
			again := req
			again.User = spelt
			res2, err := p.revokeUser(ctx, again, false)
			if err != nil {
				return nil, err
			}
			res2.User = req.User
			res2.Detail += fmt.Sprintf(" (as the UCM spells the user id: %q)", spelt)
			return res2, nil
		}
		if !exists {
			res.StillValid = ""
			res.Outcome = provider.OutcomeUserNotFound
			res.Detail = fmt.Sprintf("the UCM does not know the end user %q (AXL getUser: the specified user was not found)", req.User)
			return res, nil
		}
		res.Outcome = provider.OutcomeNothingToRevoke
		res.Detail = "no refresh tokens to revoke (the end user exists)"
		if req.Client != "" {
			// The revoke API names no clients but the ones it revoked.
			res.Detail = fmt.Sprintf("no refresh tokens for client %s (the end user exists; the UCM cannot tell whether that client id exists: check it, or revoke without --client)", req.Client)
		}
		return res, nil
	}
	clients := make([]string, 0, len(perClient))
	for c := range perClient {
		clients = append(clients, c)
	}
	sort.Strings(clients)
	res.Outcome = provider.OutcomeRevoked
	res.Detail = fmt.Sprintf("%d refresh %s revoked (%s: %s)", n, plural(n, "token", "tokens"), plural(len(clients), "client", "clients"), strings.Join(clients, ", "))
	return res, nil
}

func suffix(vendor string) string {
	if vendor == "" {
		return ""
	}
	return ": " + vendor
}

// vendorText is what an answer explains, with the refresh tokens it
// carries blanked.
func vendorText(body []byte, tokens []string) string {
	var ans revokeAnswer
	vendor := ""
	if json.Unmarshal(body, &ans) == nil {
		vendor = ans.explanation.text()
		if ans.RevokedTokens != nil && vendor == "" {
			vendor = ans.RevokedTokens.explanation.text()
		}
	}
	return blankTokens(vendor, tokens)
}

// decodeError is the base's view of a failed answer: its explanation,
// never the refresh tokens it may carry.
func decodeError(resp *httpx.Response) provider.VendorError {
	return provider.VendorError{Message: vendorText(resp.Body, tokenValues(resp.Body))}
}

func notFoundDetail(vendor string) string {
	if vendor == "" {
		return "the UCM does not know this end user"
	}
	return "the UCM does not know this end user: " + vendor
}

var unknownUserText = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)not found|no such user|unknown user|does not exist|doesn't exist|invalid user|user.*not exist`)
})

func looksLikeUnknownUser(s string) bool { return unknownUserText().MatchString(s) }

// tokenValues collects every refresh_token value in an answer, wherever it
// sits, so they can be blanked out of any text quoted from it.
func tokenValues(body []byte) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && redact.IsSensitiveKey(k) && s != "" {
					out = append(out, s)
					continue
				}
				walk(val)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// opaqueToken() matches long runs of token alphabet characters: refresh
// tokens need not be JWT-shaped, and vendor messages may quote one.
var opaqueToken = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/_=.~-]{32,}`) })

// blankTokens removes known token values, JWT-shaped strings and long
// opaque strings, then cleans the text for printing.
func blankTokens(s string, known []string) string {
	// The known tokens were read by encoding/json, which turns each
	// invalid UTF-8 byte into U+FFFD; spell the body the same way first,
	// or a token holding such bytes would not be found in it.
	s = strings.Map(func(r rune) rune { return r }, s)
	s = redact.Text(s, known...)
	s = opaqueToken().ReplaceAllString(s, redact.Mask)
	return provider.Clean(s)
}
