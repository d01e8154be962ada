package auth0

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

func validateRevoke(req provider.RevokeUserRequest) error {
	if strings.TrimSpace(req.User) == "" {
		return errs.New(errs.KindUsage, "auth0: name the user by user_id (auth0|abc) or email")
	}
	if req.Method != "" {
		return errs.New(errs.KindUsage, "auth0: unknown revocation method %q; Auth0 has one way to revoke", req.Method)
	}
	return nil
}

// isEmail tells an email from a user_id, which always names its
// connection before a "|".
func isEmail(user string) bool { return strings.Contains(user, "@") && !strings.Contains(user, "|") }

func userPath(id, what string) string { return "/users/" + url.PathEscape(id) + "/" + what }

// PlanRevokeUser lists the calls RevokeUser makes; nothing is sent.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if err := validateRevoke(req); err != nil {
		return nil, err
	}
	var calls []provider.Call
	id := req.User
	if isEmail(req.User) {
		calls = append(calls, provider.Call{Method: http.MethodGet, Path: "/api/v2/users-by-email?email=" + url.QueryEscape(req.User), Purpose: "find the user_id of the email (one match required)"})
		if lower := strings.ToLower(req.User); lower != req.User {
			calls = append(calls, provider.Call{Method: http.MethodGet, Path: "/api/v2/users-by-email?email=" + url.QueryEscape(lower), Purpose: "and lower-cased: the lookup is case-sensitive"})
		}
		id = "{user_id}"
	}
	if req.Client == "" {
		return provider.Placeholders(append(calls,
			provider.Call{Method: http.MethodDelete, Path: "/api/v2" + userPath(id, "refresh-tokens"), Purpose: "ask Auth0 to delete every refresh token of the user (asynchronous)"},
			provider.Call{Method: http.MethodDelete, Path: "/api/v2" + userPath(id, "sessions"), Purpose: "ask Auth0 to delete every session of the user (asynchronous)"},
		)), nil
	}
	return append(calls,
		provider.Call{Method: http.MethodGet, Path: "/api/v2/clients/" + url.PathEscape(req.Client), Purpose: "check the application exists (read:clients): a mistyped client id is refused, not 'nothing to revoke'"},
		provider.Call{Method: http.MethodPost, Path: "/api/v2/refresh-tokens/revoke", Purpose: "ask Auth0 to revoke the user's refresh tokens for the client (asynchronous)"},
		provider.Call{Method: http.MethodGet, Path: "/api/v2/device-credentials?type=refresh_token", Purpose: "only where the tenant lacks that endpoint: list the user's refresh tokens for the client, every page"},
		provider.Call{Method: http.MethodGet, Path: "/api/v2/device-credentials?type=rotating_refresh_token", Purpose: "and the rotating ones (single-page apps), every page"},
		provider.Call{Method: http.MethodDelete, Path: "/api/v2/device-credentials/{id}", Purpose: "and delete each one"},
	), nil
}

// RevokeUser revokes the user's refresh tokens, in every application (with
// their sessions) or one.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if err := validateRevoke(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	id := req.User
	if isEmail(req.User) {
		var err error
		if id, err = p.userByEmail(ctx, req.User); err != nil {
			return nil, err
		}
		if id == "" {
			res.Outcome = provider.OutcomeUserNotFound
			res.Detail = fmt.Sprintf("Auth0 has no user with the email %q", req.User)
			return res, nil
		}
		res.Detail = "user " + id + ": "
	}
	var err error
	if req.Client == "" {
		err = p.revokeAll(ctx, id, res)
	} else {
		err = p.revokeClient(ctx, id, req.Client, res)
	}
	if err != nil {
		return nil, err
	}
	if res.Outcome != provider.OutcomeUserNotFound {
		res.StillValid = p.accessLifetime(ctx)
	}
	return res, nil
}

// userByEmail finds the one user with an email. GET /users-by-email is
// case-sensitive, and connections that keep the case their upstream IdP
// sent store "Jane.Doe@..." where the admin types "jane.doe@..." or the
// other way round: the address is tried as given and lower-cased, and the
// matches of both count.
func (p *Provider) userByEmail(ctx context.Context, email string) (string, error) {
	const op = "auth0: finding the user by email"
	var users []struct {
		UserID string `json:"user_id"`
	}
	seen := map[string]bool{}
	for _, addr := range []string{email, strings.ToLower(email)} {
		if seen["email:"+addr] {
			continue
		}
		seen["email:"+addr] = true
		resp, err := p.send(ctx, http.MethodGet, "/users-by-email", url.Values{"email": {addr}}, nil)
		if err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusOK {
			return "", p.fail(op, resp)
		}
		var page []struct {
			UserID string `json:"user_id"`
		}
		if err := provider.DecodeExact(resp, &page); err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
		for _, u := range page {
			if u.UserID != "" && !seen[u.UserID] {
				seen[u.UserID] = true
				users = append(users, u)
			}
		}
	}
	switch len(users) {
	case 0:
		return "", nil
	case 1:
		return users[0].UserID, nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.UserID
	}
	return "", errs.New(errs.KindUsage, "auth0: %d users have the email %s (%s); name one by user_id", len(users), email, strings.Join(ids, ", "))
}

func (p *Provider) revokeAll(ctx context.Context, id string, res *provider.RevokeUserResult) error {
	var parts []string
	accepted, done := false, 0
	const op = "auth0: deleting the user's refresh tokens"
	resp, err := p.send(ctx, http.MethodDelete, userPath(id, "refresh-tokens"), nil, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	res.RequestID = firstNonEmpty(res.RequestID, provider.RequestID(resp.Header))
	switch {
	case resp.Status == http.StatusAccepted:
		accepted = true
		parts = append(parts, "Auth0 accepted deleting all refresh tokens of the user (it completes asynchronously)")
	case resp.Status == http.StatusNoContent || resp.Status == http.StatusOK:
		done++
		parts = append(parts, "all refresh tokens of the user deleted")
	case resp.Status == http.StatusNotFound && !notEnabled(resp):
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail += fmt.Sprintf("Auth0 has no user %q", id)
		return nil
	case notEnabled(resp):
		n, err := p.deleteDeviceCredentials(ctx, id, "")
		if err != nil {
			return err
		}
		if n == 0 {
			known, err := p.userExists(ctx, id)
			if err != nil {
				return err
			}
			if !known {
				res.Outcome = provider.OutcomeUserNotFound
				res.Detail += fmt.Sprintf("Auth0 has no user %q", id)
				return nil
			}
		}
		done += n
		parts = append(parts, fmt.Sprintf("%d refresh token(s) deleted through the device-credentials API (the tenant has no user refresh-token API)", n))
	default:
		return p.fail(op, resp)
	}

	const sop = "auth0: deleting the user's sessions"
	resp, err = p.send(ctx, http.MethodDelete, userPath(id, "sessions"), nil, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", sop, err)
	}
	switch {
	case resp.Status == http.StatusAccepted:
		accepted = true
		parts = append(parts, "Auth0 accepted deleting all sessions of the user (it completes asynchronously)")
	case resp.Status == http.StatusNoContent || resp.Status == http.StatusOK:
		done++
		parts = append(parts, "all sessions of the user deleted")
	case resp.Status == http.StatusNotFound && !notEnabled(resp):
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail += fmt.Sprintf("Auth0 has no user %q", id)
		return nil
	case notEnabled(resp):
		parts = append(parts, "sessions kept: the tenant has no session management API (an Enterprise feature)")
	default:
		return fmt.Errorf("%s (%s): %w", sop, strings.Join(parts, "; "), p.fail(sop, resp))
	}
	switch {
	case accepted:
		res.Outcome = provider.OutcomeAccepted
	case done > 0:
		res.Outcome = provider.OutcomeRevoked
	default:
		res.Outcome = provider.OutcomeNothingToRevoke
	}
	res.Detail += strings.Join(parts, "; ")
	return nil
}

func (p *Provider) revokeClient(ctx context.Context, id, client string, res *provider.RevokeUserResult) error {
	const op = "auth0: revoking the user's refresh tokens for the client"
	if err := p.checkClient(ctx, client); err != nil {
		return err
	}
	body := map[string]string{"user_id": id, "client_id": client}
	resp, err := p.send(ctx, http.MethodPost, "/refresh-tokens/revoke", nil, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	res.RequestID = firstNonEmpty(res.RequestID, provider.RequestID(resp.Header))
	switch {
	case resp.Status == http.StatusAccepted:
		res.Outcome = provider.OutcomeAccepted
		res.Detail += fmt.Sprintf("Auth0 accepted revoking the user's refresh tokens for client %s (it completes asynchronously); sessions are per user, not per application, and are kept", client)
		return nil
	case resp.Status == http.StatusOK || resp.Status == http.StatusNoContent:
		res.Outcome = provider.OutcomeRevoked
		res.Detail += fmt.Sprintf("the user's refresh tokens for client %s revoked; sessions are kept", client)
		return nil
	case resp.Status == http.StatusNotFound && !notEnabled(resp):
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail += fmt.Sprintf("Auth0 has no user %q", id)
		return nil
	case notEnabled(resp):
	default:
		return p.fail(op, resp)
	}
	n, err := p.deleteDeviceCredentials(ctx, id, client)
	if err != nil {
		return err
	}
	if n == 0 {
		// The listing answers an empty page for a user Auth0 does not
		// know, too: ask for the user before saying there was nothing.
		known, err := p.userExists(ctx, id)
		if err != nil {
			return err
		}
		if !known {
			res.Outcome = provider.OutcomeUserNotFound
			res.Detail += fmt.Sprintf("Auth0 has no user %q", id)
			return nil
		}
		res.Outcome = provider.OutcomeNothingToRevoke
		res.Detail += fmt.Sprintf("the user holds no refresh token for client %s", client)
		return nil
	}
	res.Outcome = provider.OutcomeRevoked
	res.Detail += fmt.Sprintf("%d refresh token(s) of client %s deleted through the device-credentials API; sessions are kept", n, client)
	return nil
}

// checkClient makes sure the application exists before its tokens are
// revoked: the revoke endpoint may accept (202) and the device-credentials
// listing answers empty for a client id Auth0 does not know, which would
// read "accepted" or "nothing to revoke" for a mistyped id.
func (p *Provider) checkClient(ctx context.Context, client string) error {
	p.mu.Lock()
	seen := p.clientsSeen[client]
	p.mu.Unlock()
	if seen {
		return nil
	}
	if _, err := p.client(ctx, client); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clientsSeen == nil {
		p.clientsSeen = map[string]bool{}
	}
	p.clientsSeen[client] = true
	return nil
}

// userExists asks Auth0 for the user, to tell an unknown user from one
// without tokens where a listing cannot.
func (p *Provider) userExists(ctx context.Context, id string) (bool, error) {
	const op = "auth0: reading the user"
	resp, err := p.send(ctx, http.MethodGet, "/users/"+url.PathEscape(id), url.Values{"fields": {"user_id"}, "include_fields": {"true"}}, nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case resp.Status == http.StatusOK:
		return true, nil
	case resp.Status == http.StatusNotFound && !notEnabled(resp):
		return false, nil
	default:
		return false, p.fail(op, resp)
	}
}

// refreshTokenTypes are the device credential types that are refresh
// tokens: rotating_refresh_token is what applications with refresh-token
// rotation hold (the default of single-page apps), refresh_token the rest.
var refreshTokenTypes = []string{"refresh_token", "rotating_refresh_token"}

// deviceCredential is the part of a device credential read here.
type deviceCredential struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Type     string `json:"type"`
}

// listDeviceCredentials reads every page of the user's credentials of one
// type. A page holds at most 1000 (per_page); include_totals makes Auth0
// answer {start, limit, length, total, device_credentials}, which says when
// the last page was read.
func (p *Provider) listDeviceCredentials(ctx context.Context, user, client, typ string) ([]deviceCredential, error) {
	const op = "auth0: listing the user's device credentials"
	var out []deviceCredential
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, errs.New(errs.KindNetwork, "%s: more than %d pages; stopping", op, maxPages)
		}
		q := url.Values{"user_id": {user}, "type": {typ}, "page": {fmt.Sprint(page)}, "per_page": {fmt.Sprint(p.perPage)}, "include_totals": {"true"}}
		if client != "" {
			q.Set("client_id", client)
		}
		resp, err := p.send(ctx, http.MethodGet, "/device-credentials", q, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.Status != http.StatusOK {
			return nil, p.fail(op, resp)
		}
		var doc struct {
			Start       int                `json:"start"`
			Total       *int               `json:"total"`
			Credentials []deviceCredential `json:"device_credentials"`
		}
		last := false
		if body := strings.TrimSpace(string(resp.Body)); strings.HasPrefix(body, "[") {
			// include_totals ignored: a short page is the last one.
			if err := provider.DecodeExact(resp, &doc.Credentials); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			last = len(doc.Credentials) < p.perPage
		} else {
			if err := provider.DecodeExact(resp, &doc); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			if doc.Total == nil {
				return nil, errs.New(errs.KindNetwork, "%s: Auth0 answered without the total asked for with include_totals; cannot tell whether more pages follow", op)
			}
			last = doc.Start+len(doc.Credentials) >= *doc.Total
		}
		for _, c := range doc.Credentials {
			// Never delete what the listing was not asked for (a public
			// key, were the type filter ignored): it is no token.
			if c.Type == "" || c.Type == typ {
				out = append(out, c)
			}
		}
		if last || len(doc.Credentials) == 0 {
			return out, nil
		}
	}
}

// deleteDeviceCredentials is the older way to revoke refresh tokens, for
// tenants without the refresh-token APIs: list the user's refresh-token
// credentials of both types (for one client when given), every page,
// before deleting any (a delete shifts the pages after it), then delete
// each. Each DELETE is synchronous (204); a 404 means it was already gone
// and is not counted.
func (p *Provider) deleteDeviceCredentials(ctx context.Context, user, client string) (int, error) {
	var creds []deviceCredential
	for _, typ := range refreshTokenTypes {
		list, err := p.listDeviceCredentials(ctx, user, client, typ)
		if err != nil {
			return 0, err
		}
		creds = append(creds, list...)
	}
	n := 0
	for _, c := range creds {
		if c.ID == "" || (client != "" && c.ClientID != "" && c.ClientID != client) {
			continue
		}
		const dop = "auth0: deleting a device credential"
		resp, err := p.send(ctx, http.MethodDelete, "/device-credentials/"+url.PathEscape(c.ID), nil, nil)
		if err != nil {
			return n, fmt.Errorf("%s (%d deleted before): %w", dop, n, err)
		}
		switch resp.Status {
		case http.StatusNoContent, http.StatusOK:
			n++
		case http.StatusNotFound:
		default:
			return n, fmt.Errorf("%d deleted before: %w", n, p.fail(dop, resp))
		}
	}
	return n, nil
}

// accessLifetime says how long issued access tokens stay valid, when the
// profile names the API they are for (admin setting api): Auth0 access
// tokens are JWTs checked locally by the API, so nothing revokes them.
func (p *Provider) accessLifetime(ctx context.Context) string {
	if p.api == "" {
		return ""
	}
	p.mu.Lock()
	s, ok := p.stillValid[p.api]
	p.mu.Unlock()
	if ok {
		return s
	}
	rs, err := p.resourceServer(ctx, p.api)
	if err == nil {
		if n, ok := provider.JSONInt(rs["token_lifetime"]); ok && n > 0 {
			s = fmt.Sprintf("up to %s (the token lifetime of API %s)", durations.Format(time.Duration(n)*time.Second), firstNonEmpty(provider.JSONString(rs, "identifier"), p.api))
		}
	}
	p.mu.Lock()
	p.stillValid[p.api] = s
	p.mu.Unlock()
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
