package cognito

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// ListApps implements provider.AppExpiryManager: the pool's app clients.
func (p *Provider) ListApps(ctx context.Context) ([]provider.App, error) {
	api, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	var apps []provider.App
	in := &cip.ListUserPoolClientsInput{UserPoolId: aws.String(p.poolID), MaxResults: aws.Int32(60)}
	seen := map[string]bool{}
	for n := 0; ; n++ {
		out, err := api.ListUserPoolClients(ctx, in)
		if err != nil {
			return nil, fail("listing the app clients", err)
		}
		for _, c := range out.UserPoolClients {
			id := aws.ToString(c.ClientId)
			apps = append(apps, provider.App{ID: id, ClientID: id, Name: provider.Clean(aws.ToString(c.ClientName))})
		}
		next := aws.ToString(out.NextToken)
		if next == "" {
			return apps, nil
		}
		if seen[next] || n >= provider.DefaultMaxPages {
			return nil, errs.New(errs.KindNetwork, "cognito: listing the app clients: the NextToken does not end")
		}
		seen[next] = true
		in.NextToken = aws.String(next)
	}
}

func (p *Provider) describe(ctx context.Context, api API, clientID string) (*types.UserPoolClientType, error) {
	out, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(p.poolID), ClientId: aws.String(clientID)})
	if isCode(err, "ResourceNotFoundException") {
		return nil, errs.New(errs.KindUsage, "cognito: user pool %s has no app client %s: see 'idpctl app list'", p.poolID, clientID)
	}
	if err != nil {
		return nil, fail("reading app client "+clientID, err)
	}
	if out.UserPoolClient == nil {
		return nil, errs.New(errs.KindNetwork, "cognito: DescribeUserPoolClient answered no client for %s", clientID)
	}
	return out.UserPoolClient, nil
}

// unit is one TimeUnitsType's length.
func unit(u types.TimeUnitsType, def types.TimeUnitsType) (types.TimeUnitsType, time.Duration) {
	if u == "" {
		u = def
	}
	switch u {
	case types.TimeUnitsTypeSeconds:
		return u, time.Second
	case types.TimeUnitsTypeMinutes:
		return u, time.Minute
	case types.TimeUnitsTypeDays:
		return u, 24 * time.Hour
	}
	return types.TimeUnitsTypeHours, time.Hour
}

// toUnits writes d in the largest unit that holds it exactly.
func toUnits(d time.Duration) (int32, types.TimeUnitsType) {
	for _, u := range []struct {
		t types.TimeUnitsType
		d time.Duration
	}{{types.TimeUnitsTypeDays, 24 * time.Hour}, {types.TimeUnitsTypeHours, time.Hour}, {types.TimeUnitsTypeMinutes, time.Minute}} {
		if d%u.d == 0 {
			return int32(d / u.d), u.t
		}
	}
	return int32(d / time.Second), types.TimeUnitsTypeSeconds
}

type clientLifetimes struct {
	access, id, refresh provider.Lifetime
}

// lifetimesOf reads an app client's validities. Without units Cognito
// counts access and ID tokens in hours and refresh tokens in days; an
// unset value is the default (1 hour, 1 hour, 30 days).
func lifetimesOf(c *types.UserPoolClientType) clientLifetimes {
	units := c.TokenValidityUnits
	if units == nil {
		units = &types.TokenValidityUnitsType{}
	}
	one := func(v *int32, u, def types.TimeUnitsType, dflt time.Duration) provider.Lifetime {
		name, size := unit(u, def)
		if v == nil || *v == 0 {
			return provider.Lifetime{Value: dflt, Known: true, Source: provider.SourceInherited, From: "Cognito's default"}
		}
		return provider.Lifetime{Value: time.Duration(*v) * size, Known: true, Source: provider.SourceApp, Native: strconv.Itoa(int(*v)) + " " + string(name)}
	}
	refresh := c.RefreshTokenValidity
	return clientLifetimes{
		access:  one(c.AccessTokenValidity, units.AccessToken, types.TimeUnitsTypeHours, defaultAccess),
		id:      one(c.IdTokenValidity, units.IdToken, types.TimeUnitsTypeHours, defaultAccess),
		refresh: one(&refresh, units.RefreshToken, types.TimeUnitsTypeDays, defaultRefresh),
	}
}

const noIdle = "Cognito has no idle timeout for refresh tokens; a refresh token is valid for RefreshTokenValidity whether it is used or not"

func (p *Provider) lifetimes(app string, c *types.UserPoolClientType) *provider.Lifetimes {
	l := lifetimesOf(c)
	out := &provider.Lifetimes{
		App:          app,
		AccessToken:  l.access,
		RefreshToken: l.refresh,
		RefreshIdle:  provider.Lifetime{Source: provider.SourceVendor, SetWhere: noIdle},
		ReadAt:       p.Now(),
		Notes:        []string{"ID tokens: " + durations.Format(l.id.Value) + " (IdTokenValidity; --access-token sets it too)"},
	}
	rot := false
	if c.RefreshTokenRotation != nil && c.RefreshTokenRotation.Feature == types.FeatureTypeEnabled {
		rot = true
	}
	out.Rotation, out.RotationSource = &rot, provider.SourceApp
	return out
}

// GetExpiry implements provider.AppExpiryManager; app is the client id.
func (p *Provider) GetExpiry(ctx context.Context, app string) (*provider.Lifetimes, error) {
	api, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	c, err := p.describe(ctx, api, app)
	if err != nil {
		return nil, err
	}
	return p.lifetimes(app, c), nil
}

// UpdateInput is the UpdateUserPoolClient request that writes c back as it
// is. UpdateUserPoolClient resets every attribute it is not sent to its
// default ("If you don't provide a value for an attribute, Amazon Cognito
// sets it to its default value"), so every attribute the description has
// is copied; a test checks by reflection that none is missed.
func UpdateInput(c *types.UserPoolClientType) *cip.UpdateUserPoolClientInput {
	in := &cip.UpdateUserPoolClientInput{
		UserPoolId:                               c.UserPoolId,
		ClientId:                                 c.ClientId,
		ClientName:                               c.ClientName,
		RefreshTokenValidity:                     c.RefreshTokenValidity,
		AccessTokenValidity:                      c.AccessTokenValidity,
		IdTokenValidity:                          c.IdTokenValidity,
		ReadAttributes:                           c.ReadAttributes,
		WriteAttributes:                          c.WriteAttributes,
		ExplicitAuthFlows:                        c.ExplicitAuthFlows,
		SupportedIdentityProviders:               c.SupportedIdentityProviders,
		CallbackURLs:                             c.CallbackURLs,
		LogoutURLs:                               c.LogoutURLs,
		DefaultRedirectURI:                       c.DefaultRedirectURI,
		AllowedOAuthFlows:                        c.AllowedOAuthFlows,
		AllowedOAuthScopes:                       c.AllowedOAuthScopes,
		AllowedOAuthFlowsUserPoolClient:          aws.ToBool(c.AllowedOAuthFlowsUserPoolClient),
		AnalyticsConfiguration:                   c.AnalyticsConfiguration,
		PreventUserExistenceErrors:               c.PreventUserExistenceErrors,
		EnableTokenRevocation:                    c.EnableTokenRevocation,
		EnablePropagateAdditionalUserContextData: c.EnablePropagateAdditionalUserContextData,
		AuthSessionValidity:                      c.AuthSessionValidity,
		RefreshTokenRotation:                     c.RefreshTokenRotation,
	}
	if c.TokenValidityUnits != nil {
		u := *c.TokenValidityUnits
		in.TokenValidityUnits = &u
	}
	return in
}

// expiryState is the request ApplyExpiry sends and what it must read back.
type expiryState struct {
	in                    *cip.UpdateUserPoolClientInput
	access, refresh       *time.Duration
	rotation              *bool
	wantAccess, wantFresh time.Duration
}

// PlanExpiry implements provider.AppExpiryManager.
func (p *Provider) PlanExpiry(ctx context.Context, app string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if ch.RefreshIdle != nil {
		return nil, provider.Unsupported(Name, "setting a refresh-token idle timeout", noIdle)
	}
	if ch.AccessToken == nil && ch.RefreshToken == nil && ch.Rotation == nil {
		return nil, errs.New(errs.KindUsage, "cognito: give --access-token (5m to 1d, sets ID tokens too), --refresh-token (60m to 3650d) or --rotation")
	}
	if v := ch.AccessToken; v != nil && (*v < minAccess || *v > maxAccess || *v%time.Second != 0) {
		return nil, errs.New(errs.KindUsage, "cognito: --access-token must be whole seconds from %s to %s", durations.Format(minAccess), durations.Format(maxAccess))
	}
	if v := ch.RefreshToken; v != nil && (*v < minRefresh || *v > maxRefresh || *v%time.Second != 0) {
		return nil, errs.New(errs.KindUsage, "cognito: --refresh-token must be whole seconds from %s to %s", durations.Format(minRefresh), durations.Format(maxRefresh))
	}
	api, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	c, err := p.describe(ctx, api, app)
	if err != nil {
		return nil, err
	}
	before := p.lifetimes(app, c)
	in := UpdateInput(c)
	// Every validity is sent with its unit, so that none is read in a
	// default unit it was not written in.
	cur := lifetimesOf(c)
	a, au := toUnits(cur.access.Value)
	i, iu := toUnits(cur.id.Value)
	r, ru := toUnits(cur.refresh.Value)
	if ch.AccessToken != nil {
		a, au = toUnits(*ch.AccessToken)
		i, iu = a, au
	}
	if ch.RefreshToken != nil {
		r, ru = toUnits(*ch.RefreshToken)
	}
	in.AccessTokenValidity, in.IdTokenValidity, in.RefreshTokenValidity = aws.Int32(a), aws.Int32(i), r
	in.TokenValidityUnits = &types.TokenValidityUnitsType{AccessToken: au, IdToken: iu, RefreshToken: ru}
	if ch.Rotation != nil {
		rot := types.RefreshTokenRotationType{Feature: types.FeatureTypeDisabled}
		if c.RefreshTokenRotation != nil {
			rot = *c.RefreshTokenRotation
		}
		rot.Feature = types.FeatureTypeDisabled
		if *ch.Rotation {
			rot.Feature = types.FeatureTypeEnabled
		}
		in.RefreshTokenRotation = &rot
	}
	after := *c
	after.AccessTokenValidity, after.IdTokenValidity, after.RefreshTokenValidity = in.AccessTokenValidity, in.IdTokenValidity, in.RefreshTokenValidity
	after.TokenValidityUnits, after.RefreshTokenRotation = in.TokenValidityUnits, in.RefreshTokenRotation
	plan := &provider.ExpiryPlan{
		App:    app,
		Before: *before,
		After:  *p.lifetimes(app, &after),
		Calls: []provider.Call{
			call("DescribeUserPoolClient", "read every attribute of app client "+app+" ("+ActDescribeClient+")"),
			call("UpdateUserPoolClient", "write the app client back with every attribute as read and the new validities, in explicit TokenValidityUnits; an attribute left out would be reset to its default ("+ActUpdateClient+")"),
			call("DescribeUserPoolClient", "read back ("+ActDescribeClient+")"),
		},
		State: &expiryState{in: in, access: ch.AccessToken, refresh: ch.RefreshToken, rotation: ch.Rotation},
	}
	if ch.AccessToken != nil {
		plan.Warnings = append(plan.Warnings, "the ID-token validity is set to the access-token validity too")
	}
	if ch.RefreshToken != nil && *ch.RefreshToken < cur.refresh.Value {
		plan.Warnings = append(plan.Warnings, "refresh tokens already issued keep the validity they were issued with")
	}
	return plan, nil
}

// ApplyExpiry implements provider.AppExpiryManager.
func (p *Provider) ApplyExpiry(ctx context.Context, plan *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	st, ok := plan.State.(*expiryState)
	if !ok {
		return nil, errs.New(errs.KindUnknown, "cognito: the plan was not made by this adapter")
	}
	api, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := api.UpdateUserPoolClient(ctx, st.in); err != nil {
		return nil, fail("updating app client "+plan.App, err)
	}
	got, err := p.GetExpiry(ctx, plan.App)
	if err != nil {
		return nil, err
	}
	if st.access != nil && got.AccessToken.Value != *st.access {
		return nil, errs.New(errs.KindUnknown, "cognito: read back an access-token validity of %s after setting %s", durations.Format(got.AccessToken.Value), durations.Format(*st.access))
	}
	if st.refresh != nil && got.RefreshToken.Value != *st.refresh {
		return nil, errs.New(errs.KindUnknown, "cognito: read back a refresh-token validity of %s after setting %s", durations.Format(got.RefreshToken.Value), durations.Format(*st.refresh))
	}
	if st.rotation != nil && (got.Rotation == nil || *got.Rotation != *st.rotation) {
		return nil, errs.New(errs.KindUnknown, "cognito: read back refresh-token rotation %v after setting %v", got.Rotation != nil && *got.Rotation, *st.rotation)
	}
	return got, nil
}

// ---- (C) keys ----------------------------------------------------------------

// ListKeys implements provider.KeyLister from the pool's public JWKS.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	return provider.JWKSKeys(ctx, p.Env.HTTP, Name, p.jwksURL)
}
