package ciscoucm

import (
	"context"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// clusterApp stands for the whole cluster: the OAuth timers are
// enterprise parameters, not per-client settings.
const clusterApp = "cluster"

const enterpriseParams = "Cisco Unified CM Administration > System > Enterprise Parameters > SSO and OAuth Configuration"

// UnsupportedExpiry says where the timers are changed instead.
const UnsupportedExpiry = "the OAuth Access Token Expiry Timer (minutes, 1-1440, default 60) and OAuth Refresh Token Expiry Timer (days, default 60) are cluster-wide enterprise parameters: change them in " + enterpriseParams + "; changing the refresh timer makes every refresh token issued before invalid, so every Jabber and Webex client signs in again"

// ListApps returns the cluster as the one "app": Unified CM has no
// per-client token lifetimes.
func (p *Provider) ListApps(context.Context) ([]provider.App, error) {
	return []provider.App{{ID: clusterApp, Name: "Cisco Unified CM cluster (OAuth timers are cluster-wide)"}}, nil
}

// GetExpiry describes the cluster-wide timers without reading them: the
// AXL names of the two enterprise parameters are not confirmed, and a
// guessed name would be reported as a value. The app argument is ignored.
func (p *Provider) GetExpiry(_ context.Context, app string) (*provider.Lifetimes, error) {
	lt := &provider.Lifetimes{
		App: clusterApp,
		AccessToken: provider.Lifetime{Source: provider.SourceInherited,
			From:     `cluster enterprise parameter "OAuth Access Token Expiry Timer" (minutes, 1-1440)`,
			Native:   "default 60 minutes",
			SetWhere: enterpriseParams},
		RefreshToken: provider.Lifetime{Source: provider.SourceInherited,
			From:     `cluster enterprise parameter "OAuth Refresh Token Expiry Timer" (days)`,
			Native:   "default 60 days",
			SetWhere: enterpriseParams},
		RefreshIdle: provider.Lifetime{Source: provider.SourceVendor,
			SetWhere: "Cisco Unified CM has no refresh-token idle timeout"},
		ReuseInterval: provider.Lifetime{Source: provider.SourceVendor,
			SetWhere: "Cisco Unified CM has no refresh-token reuse interval"},
		RotationSource: provider.SourceUnknown,
		Notes: []string{
			"the timers are read and changed in " + enterpriseParams + "; this tool cannot read them (their AXL parameter names are not confirmed)",
			"access token default 60 minutes (range 1-1440); refresh token default 60 days (the allowed range differs between releases)",
			"from release 15, Webex clients renew their refresh token during an access-token renewal once it has used half its lifetime, when that feature is enabled",
			"changing the refresh timer makes every refresh token issued before invalid: every client signs in again",
		},
		ReadAt: p.Now(),
	}
	if app != "" && app != clusterApp {
		lt.Notes = append([]string{"the app " + app + " is ignored: the timers are cluster-wide"}, lt.Notes...)
	}
	return lt, nil
}

// PlanExpiry refuses: the timers are cluster-wide and their AXL names are
// not confirmed.
func (p *Provider) PlanExpiry(_ context.Context, _ string, ch provider.LifetimeChange) (*provider.ExpiryPlan, error) {
	if ch.AccessToken == nil && ch.RefreshToken == nil && ch.RefreshIdle == nil && ch.Rotation == nil {
		return nil, errs.New(errs.KindUsage, "cisco-ucm: nothing to change")
	}
	return nil, provider.Unsupported(Name, "setting token lifetimes", UnsupportedExpiry)
}

// ApplyExpiry refuses, as PlanExpiry does.
func (p *Provider) ApplyExpiry(context.Context, *provider.ExpiryPlan) (*provider.Lifetimes, error) {
	return nil, provider.Unsupported(Name, "setting token lifetimes", UnsupportedExpiry)
}
