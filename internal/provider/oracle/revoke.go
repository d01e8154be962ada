package oracle

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// Revocation methods. Identity domains have no "revoke every token of this
// user" call, so the admin picks one of the alternatives explicitly.
const (
	// MethodDeactivate sets the user inactive: no sign-in, no refresh.
	MethodDeactivate = "deactivate"
	// MethodGrants deletes the user's app grants: no more access to those
	// apps, while tokens already issued live until they expire.
	MethodGrants = "grants"
)

const schemaUserStatusChanger = "urn:ietf:params:scim:schemas:oracle:idcs:UserStatusChanger"

// grantMechanismGroup marks a grant held through a group membership; it is
// removed by removing the membership, not the grant.
const grantMechanismGroup = "GROUP_MEMBERSHIP"

// UnsupportedRevoke is the answer when no method is chosen.
const UnsupportedRevoke = `identity domains have no call that revokes every token of a user; choose a method: "deactivate" sets the user inactive (no sign-in and no refresh anywhere until re-activated), "grants" deletes the user's app grants (access to those apps ends; tokens already issued stay valid until they expire)`

// stillValid is what remains after either method.
const stillValid = "until they expire: up to the accessTokenExpiry of each resource app (3600 seconds for the domain's own scopes)"

type scimUser struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Active   *bool  `json:"active"`
}

type grant struct {
	ID             string `json:"id"`
	GrantMechanism string `json:"grantMechanism"`
	// Entitlement marks a grant of a privilege within the app (an app
	// role, "Identity Domain Administrator" among them), not of access to
	// the app.
	Entitlement *struct {
		AttributeName  string `json:"attributeName"`
		AttributeValue string `json:"attributeValue"`
	} `json:"entitlement"`
	Grantee struct {
		Value string `json:"value"`
		Type  string `json:"type"`
	} `json:"grantee"`
	App *struct {
		Value   string `json:"value"`
		Display string `json:"display"`
	} `json:"app"`
}

// PlanRevokeUser lists the calls RevokeUser would make. The user is the
// identity domain userName.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if err := checkRevoke(req); err != nil {
		return nil, err
	}
	calls := []provider.Call{{Method: http.MethodGet, Path: "/admin/v1/Users?filter=" + userFilter(req.User), Purpose: "find the user by userName"}}
	switch req.Method {
	case MethodDeactivate:
		calls = append(calls, provider.Call{Method: http.MethodPut, Path: "/admin/v1/UserStatusChanger/{id}", Purpose: "deactivate the user: no sign-in, no refresh until re-activated"})
	case MethodGrants:
		filter := `grantee.value eq "{id}"`
		if req.Client != "" {
			calls = append(calls, provider.Call{Method: http.MethodGet, Path: "/admin/v1/Apps?filter=" + appFilter(req.Client), Purpose: "find the app by id, client id or display name"})
			filter += ` and app.value eq "{app id}"`
		}
		calls = append(calls,
			provider.Call{Method: http.MethodGet, Path: "/admin/v1/Grants?filter=" + filter, Purpose: "list the user's grants"},
			provider.Call{Method: http.MethodDelete, Path: "/admin/v1/Grants/{id}", Purpose: grantsPurpose(req.IncludeAppRoles)})
	}
	return calls, nil
}

// grantsPurpose says which grants the DELETEs remove. A grant with an
// entitlement gives a role within an app (administrator roles among them),
// not access to it: removing it is a separate decision.
func grantsPurpose(includeRoles bool) string {
	if includeRoles {
		return "delete each direct grant, app-role grants (entitlements, administrator roles included) too: app access and those roles end (group grants are kept)"
	}
	return "delete each direct app-access grant: the app access ends (group grants and app-role grants, administrator roles included, are kept and listed; --include-app-roles removes app-role grants too)"
}

func checkRevoke(req provider.RevokeUserRequest) error {
	if strings.TrimSpace(req.User) == "" {
		return errs.New(errs.KindUsage, "oracle: no user given")
	}
	switch req.Method {
	case "":
		return provider.Unsupported(Name, "revoking every token of a user", UnsupportedRevoke)
	case MethodDeactivate:
		if req.Client != "" {
			return errs.New(errs.KindUsage, `oracle: deactivating a user affects every app; drop the client, or use the "grants" method to remove one app's access`)
		}
		if req.IncludeAppRoles {
			return errs.New(errs.KindUsage, `oracle: --include-app-roles goes with the "grants" method; deactivating keeps every grant`)
		}
	case MethodGrants:
	default:
		return errs.New(errs.KindUsage, `oracle: unknown revocation method %q: use "deactivate" or "grants"`, req.Method)
	}
	return nil
}

func userFilter(userName string) string { return "userName eq " + scimString(userName) }

// RevokeUser deactivates the user or deletes their grants, as req.Method
// says, and reports what the domain did.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if err := checkRevoke(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	user, resp, err := p.findUser(ctx, req.User)
	if err != nil {
		return nil, err
	}
	res.RequestID = requestID(resp)
	if user == nil {
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail = "no user with that userName in the identity domain"
		return res, nil
	}
	res.StillValid = stillValid
	if req.Method == MethodDeactivate {
		return p.deactivate(ctx, user, res)
	}
	return p.revokeGrants(ctx, user, req.Client, req.IncludeAppRoles, res)
}

func (p *Provider) findUser(ctx context.Context, userName string) (*scimUser, *httpx.Response, error) {
	users, resp, err := search[scimUser](ctx, p, "finding the user", "/admin/v1/Users", userFilter(userName), "userName,active")
	if err != nil {
		return nil, resp, err
	}
	// userName is not case-exact in identity domains; prefer an exact
	// match when the filter returns several.
	for i := range users {
		if users[i].UserName == userName {
			return &users[i], resp, nil
		}
	}
	if len(users) == 1 {
		return &users[0], resp, nil
	}
	if len(users) > 1 {
		return nil, resp, errs.New(errs.KindUsage, "oracle: %d users match userName %q; give the exact userName", len(users), userName)
	}
	return nil, resp, nil
}

func (p *Provider) deactivate(ctx context.Context, user *scimUser, res *provider.RevokeUserResult) (*provider.RevokeUserResult, error) {
	if user.Active != nil && !*user.Active {
		res.Outcome = provider.OutcomeNothingToRevoke
		res.Detail = "user already deactivated: cannot sign in or refresh; re-activate to restore"
		return res, nil
	}
	body := map[string]any{"active": false, "schemas": []string{schemaUserStatusChanger}}
	resp, err := p.Do(ctx, provider.Req{
		Method:           http.MethodPut,
		Path:             "/admin/v1/UserStatusChanger/" + pathEscape(user.ID),
		JSON:             body,
		RetryRateLimited: true,
	})
	if err != nil {
		return nil, fmt.Errorf("oracle: deactivating the user: %w", err)
	}
	if resp.Status == http.StatusNotFound && httpx.IsJSON(resp.Body) {
		// Deleted between the search and the PUT.
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail = "the user disappeared before it could be deactivated"
		return res, nil
	}
	if resp.Status != http.StatusOK {
		return nil, p.Fail("deactivating the user", resp)
	}
	var out scimUser
	if err := httpx.DecodeJSON(resp, &out); err != nil {
		return nil, fmt.Errorf("oracle: deactivating the user: %w", err)
	}
	if out.Active != nil && *out.Active {
		return nil, errs.New(errs.KindUnknown, "oracle: the identity domain answered the deactivation but reports the user still active")
	}
	if id := requestID(resp); id != "" {
		res.RequestID = id
	}
	res.Outcome = provider.OutcomeRevoked
	res.Detail = "user deactivated: cannot sign in or refresh; re-activate to restore"
	return res, nil
}

func (p *Provider) revokeGrants(ctx context.Context, user *scimUser, client string, includeRoles bool, res *provider.RevokeUserResult) (*provider.RevokeUserResult, error) {
	filter := "grantee.value eq " + scimString(user.ID)
	if client != "" {
		app, err := p.findApp(ctx, client)
		if err != nil {
			return nil, err
		}
		filter += " and app.value eq " + scimString(app.ID)
	}
	grants, resp, err := search[grant](ctx, p, "listing the user's grants", "/admin/v1/Grants", filter, "grantee,app,grantMechanism,entitlement")
	if err != nil {
		return nil, err
	}
	if id := requestID(resp); id != "" {
		res.RequestID = id
	}
	var deleted, gone, rolesDeleted int
	var viaGroup, roles []string
	for _, g := range grants {
		// The filter already selects this user; a server ignoring it must
		// not make us delete someone else's grant.
		if g.Grantee.Value != user.ID {
			return nil, errs.New(errs.KindUnknown, "oracle: the grant search returned a grant of another grantee; stopping without deleting")
		}
		if g.GrantMechanism == grantMechanismGroup {
			viaGroup = append(viaGroup, appLabel(g))
			continue
		}
		role := g.Entitlement != nil && (g.Entitlement.AttributeName != "" || g.Entitlement.AttributeValue != "")
		if role && !includeRoles {
			roles = append(roles, roleLabel(g))
			continue
		}
		resp, err := p.Do(ctx, provider.Req{Method: http.MethodDelete, Path: "/admin/v1/Grants/" + pathEscape(g.ID)})
		if err != nil {
			return nil, fmt.Errorf("oracle: deleting grant %s after %d deleted: %w", g.ID, deleted, err)
		}
		switch {
		case resp.Status == http.StatusNoContent || resp.Status == http.StatusOK:
			deleted++
			if role {
				rolesDeleted++
			}
		case resp.Status == http.StatusNotFound && httpx.IsJSON(resp.Body):
			gone++ // deleted meanwhile: the outcome is the same
		default:
			return nil, p.Fail(fmt.Sprintf("deleting grant %s after %d deleted", g.ID, deleted), resp)
		}
		if id := requestID(resp); id != "" {
			res.RequestID = id
		}
	}
	var parts []string
	switch {
	case deleted+gone > 0:
		res.Outcome = provider.OutcomeRevoked
		parts = append(parts, fmt.Sprintf("revoked %d %s: app access removed; tokens already issued stay valid until they expire", deleted+gone, plural(deleted+gone, "grant", "grants")))
		if rolesDeleted > 0 {
			parts = append(parts, fmt.Sprintf("%d of them %s (--include-app-roles)", rolesDeleted, plural(rolesDeleted, "was an app-role grant", "were app-role grants")))
		}
	default:
		res.Outcome = provider.OutcomeNothingToRevoke
		parts = append(parts, "nothing to revoke: no direct grants")
	}
	if len(roles) > 0 {
		sort.Strings(roles)
		parts = append(parts, fmt.Sprintf("%d app-role %s kept (%s): roles are not app access; pass --include-app-roles to remove them too", len(roles), plural(len(roles), "grant", "grants"), strings.Join(roles, ", ")))
	}
	if len(viaGroup) > 0 {
		sort.Strings(viaGroup)
		parts = append(parts, fmt.Sprintf("%d %s through group membership kept (%s): remove the user from those groups", len(viaGroup), plural(len(viaGroup), "grant", "grants"), strings.Join(viaGroup, ", ")))
	}
	res.Detail = strings.Join(parts, "; ")
	return res, nil
}

// roleLabel names an app-role grant by its role and app.
func roleLabel(g grant) string {
	role := "an entitlement"
	if g.Entitlement != nil {
		role = provider.Clean(g.Entitlement.AttributeName + " " + g.Entitlement.AttributeValue)
	}
	if g.App == nil {
		return role
	}
	return role + " of " + appLabel(g)
}

func appLabel(g grant) string {
	if g.App == nil {
		return "an entitlement"
	}
	if g.App.Display != "" {
		return provider.Clean(g.App.Display)
	}
	return provider.Clean(g.App.Value)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
