package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// MethodConsentOnly, as RevokeUserRequest.Method with a client, revokes the
// consent and offline tokens but leaves the user's SSO sessions alone (and
// with them the client's online refresh tokens).
const MethodConsentOnly = "consent"

type user struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

type userSession struct {
	ID string `json:"id"`
	// Clients maps client UUIDs to client ids.
	Clients map[string]string `json:"clients"`
}

func (s userSession) has(clientID string) bool {
	for _, c := range s.Clients {
		if c == clientID {
			return true
		}
	}
	return false
}

type consentRep struct {
	ClientID         string `json:"clientId"`
	AdditionalGrants []struct {
		Key string `json:"key"`
	} `json:"additionalGrants"`
}

func (c consentRep) offline() bool {
	for _, g := range c.AdditionalGrants {
		if g.Key == "Offline Token" {
			return true
		}
	}
	return false
}

func (p *Provider) userPath(id string) string { return p.adminPath("/users/" + url.PathEscape(id)) }

// findUser looks a user up by id, username or email; nil when not found.
func (p *Provider) findUser(ctx context.Context, name string) (*user, error) {
	if uuidPattern().MatchString(name) {
		resp, err := p.get(ctx, p.userPath(name), nil)
		if err != nil {
			return nil, err
		}
		switch resp.Status {
		case http.StatusOK:
			var u user
			if err := decode(resp, "reading user", &u); err != nil {
				return nil, err
			}
			return &u, nil
		case http.StatusNotFound:
			// A username may look like an id; search below.
		default:
			return nil, p.Fail("reading user "+name, resp)
		}
	}
	match := func(field string, same func(user) bool) (*user, error) {
		var found []user
		if _, err := p.getJSON(ctx, "searching users", p.adminPath("/users"), url.Values{field: {name}, "exact": {"true"}}, &found); err != nil {
			return nil, err
		}
		var hits []user
		for _, u := range found {
			if same(u) {
				hits = append(hits, u)
			}
		}
		switch len(hits) {
		case 0:
			return nil, nil
		case 1:
			return &hits[0], nil
		default:
			return nil, errs.New(errs.KindUsage, "keycloak: %d users of realm %s have the %s %q; give the user id instead", len(hits), p.realm, field, name)
		}
	}
	// Keycloak stores usernames in lower case and compares emails without case.
	u, err := match("username", func(u user) bool { return strings.EqualFold(u.Username, name) })
	if err != nil || u != nil || !strings.Contains(name, "@") {
		return u, err
	}
	return match("email", func(u user) bool { return strings.EqualFold(u.Email, name) })
}

func checkRequest(req provider.RevokeUserRequest) error {
	if strings.TrimSpace(req.User) == "" {
		return errs.New(errs.KindUsage, "keycloak: no user given")
	}
	switch req.Method {
	case "":
	case MethodConsentOnly:
		if req.Client == "" {
			return errs.New(errs.KindUsage, "keycloak: the %q method needs a client", MethodConsentOnly)
		}
	default:
		return errs.New(errs.KindUsage, "keycloak: unknown revocation method %q: leave it empty or use %q", req.Method, MethodConsentOnly)
	}
	return nil
}

// PlanRevokeUser implements provider.UserTokenRevoker.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	users := p.adminPath("/users")
	find := provider.Call{Method: http.MethodGet, Path: users + "?" + url.Values{"username": {req.User}, "exact": {"true"}}.Encode(), Purpose: "find the user (then by email or id)"}
	calls := []provider.Call{
		find,
		{Method: http.MethodGet, Path: users + "/{id}/sessions", Purpose: "list the user's sessions"},
		{Method: http.MethodGet, Path: users + "/{id}/consents", Purpose: "list consents and offline tokens"},
	}
	if req.Client == "" {
		return append(calls,
			provider.Call{Method: http.MethodGet, Path: p.adminPath(""), Purpose: "read the realm's access token lifespan"},
			provider.Call{Method: http.MethodPost, Path: users + "/{id}/logout", Purpose: "end every session and set the user's not-before, so earlier refresh tokens are refused"},
		), nil
	}
	calls = append(calls,
		provider.Call{Method: http.MethodGet, Path: p.adminPath("/clients") + "?" + url.Values{"clientId": {req.Client}}.Encode(), Purpose: "find the client and its access token lifespan"},
		provider.Call{Method: http.MethodDelete, Path: users + "/{id}/consents/" + url.PathEscape(req.Client), Purpose: "revoke the consent and offline tokens for the client"},
	)
	if req.Method != MethodConsentOnly {
		calls = append(calls, provider.Call{Method: http.MethodDelete, Path: p.adminPath("/sessions/{session}"), Purpose: "end each SSO session that includes the client (it ends them for their other clients too)"})
	}
	return calls, nil
}

// RevokeUser implements provider.UserTokenRevoker.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	u, err := p.findUser(ctx, req.User)
	if err != nil {
		return nil, err
	}
	if u == nil {
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail = fmt.Sprintf("no user with that username, email or id in realm %s", p.realm)
		return res, nil
	}
	var sessions []userSession
	if _, err := p.getJSON(ctx, "listing the user's sessions", p.userPath(u.ID)+"/sessions", nil, &sessions); err != nil {
		return nil, err
	}
	var consents []consentRep
	if _, err := p.getJSON(ctx, "listing the user's consents", p.userPath(u.ID)+"/consents", nil, &consents); err != nil {
		return nil, err
	}
	if req.Client == "" {
		return p.revokeAll(ctx, res, u, sessions, consents)
	}
	return p.revokeClient(ctx, req, res, u, sessions, consents)
}

func (p *Provider) revokeAll(ctx context.Context, res *provider.RevokeUserResult, u *user, sessions []userSession, consents []consentRep) (*provider.RevokeUserResult, error) {
	offline := 0
	for _, c := range consents {
		if c.offline() {
			offline++
		}
	}
	resp, err := p.write(ctx, http.MethodPost, p.userPath(u.ID)+"/logout", nil)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound {
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail = "the user was deleted meanwhile"
		return res, nil
	}
	if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
		return nil, p.Fail("logging the user out", resp)
	}
	res.RequestID = provider.RequestID(resp.Header)
	if len(sessions) == 0 && offline == 0 {
		res.Outcome = provider.OutcomeNothingToRevoke
		res.Detail = "no sessions or offline tokens; the user's not-before was set anyway, so any refresh token issued before now is refused"
		return res, nil
	}
	res.Outcome = provider.OutcomeRevoked
	res.Detail = fmt.Sprintf("ended %s; refresh tokens issued before now are refused (the user's not-before)", plural(len(sessions), "session"))
	if offline > 0 {
		res.Detail += fmt.Sprintf(", including the offline tokens of %s", plural(offline, "client"))
	}
	if r, err := p.readRealm(ctx); err == nil && r.AccessTokenLifespan > 0 {
		res.StillValid = fmt.Sprintf("up to %s (realm %s's access token lifespan; a client may set its own)", durations.Format(seconds(r.AccessTokenLifespan)), p.realm)
	}
	return res, nil
}

func (p *Provider) revokeClient(ctx context.Context, req provider.RevokeUserRequest, res *provider.RevokeUserResult, u *user, sessions []userSession, consents []consentRep) (*provider.RevokeUserResult, error) {
	c, err := p.findClient(ctx, req.Client)
	if err != nil {
		return nil, err
	}
	// --client may name the client by its UUID (as 'app list' shows it);
	// consents and sessions name it by its client_id.
	clientID := c.ClientID
	var parts []string
	for _, con := range consents {
		if con.ClientID != clientID {
			continue
		}
		resp, err := p.del(ctx, p.userPath(u.ID)+"/consents/"+url.PathEscape(clientID))
		if err != nil {
			return nil, err
		}
		switch resp.Status {
		case http.StatusNoContent, http.StatusOK:
			res.RequestID = provider.RequestID(resp.Header)
			if con.offline() {
				parts = append(parts, "revoked the consent and offline tokens")
			} else {
				parts = append(parts, "revoked the consent")
			}
		case http.StatusNotFound:
			// Revoked by someone else since the listing: nothing left here.
		default:
			return nil, p.Fail("revoking the consent for "+clientID, resp)
		}
		break
	}
	if req.Method != MethodConsentOnly {
		ended := 0
		others := map[string]bool{}
		for _, s := range sessions {
			if !s.has(clientID) {
				continue
			}
			resp, err := p.del(ctx, p.adminPath("/sessions/"+url.PathEscape(s.ID)))
			if err != nil {
				return nil, err
			}
			switch resp.Status {
			case http.StatusNoContent, http.StatusOK:
				ended++
				for _, other := range s.Clients {
					if other != clientID {
						others[other] = true
					}
				}
			case http.StatusNotFound:
				// The session ended on its own meanwhile.
			default:
				return nil, p.Fail("ending session "+s.ID, resp)
			}
		}
		if ended > 0 {
			part := "ended " + plural(ended, "session") + " holding its refresh tokens"
			if len(others) > 0 {
				names := make([]string, 0, len(others))
				for n := range others {
					names = append(names, n)
				}
				sort.Strings(names)
				part += fmt.Sprintf(" (which also signs the user out of %s)", strings.Join(names, ", "))
			}
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		res.Outcome = provider.OutcomeNothingToRevoke
		res.Detail = fmt.Sprintf("no consent, offline token or session for client %s", clientID)
		return res, nil
	}
	res.Outcome = provider.OutcomeRevoked
	res.Detail = strings.Join(parts, "; ") + " for client " + clientID
	if req.Method == MethodConsentOnly {
		res.Detail += "; sessions left alone, so online refresh tokens remain until they expire"
	}
	res.StillValid = p.clientStillValid(ctx, c)
	return res, nil
}

// clientStillValid says how long the client's access tokens (JWTs, checked
// offline by most resource servers) may still be accepted.
func (p *Provider) clientStillValid(ctx context.Context, c *client) string {
	if d, ok := c.seconds(attrAccess); ok {
		return fmt.Sprintf("up to %s (client %s's access token lifespan)", durations.Format(d), c.ClientID)
	}
	r, err := p.readRealm(ctx)
	if err != nil || r.AccessTokenLifespan <= 0 {
		return ""
	}
	return fmt.Sprintf("up to %s (realm %s's access token lifespan)", durations.Format(seconds(r.AccessTokenLifespan)), p.realm)
}
