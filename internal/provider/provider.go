// Package provider defines the admin capabilities idpctl drives through
// vendor APIs, for the work no standard covers: revoking every token of a
// user, reading and setting token lifetimes, rotating keys. Adapters live in
// subpackages, one per IdP; the registry subpackage maps profile provider
// names to them. A provider lacking a capability says so with
// errs.KindUnsupported (exit 7) and names what the IdP offers instead.
package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// Env is what an adapter is built from.
type Env struct {
	// Profile is the profile name, for messages and the audit log.
	Profile string
	// Issuer is the profile's OAuth issuer, if any; adapters derive admin
	// URLs from it when BaseURL is empty (Keycloak realm URLs, Okta orgs).
	Issuer string
	// BaseURL is the admin API base (profile admin setting "url").
	BaseURL string
	// Settings are the profile's admin settings: realm, tenant,
	// authorization_server, ucm host and so on, per adapter.
	Settings map[string]string
	HTTP     *httpx.Client
	Auth     *AdminAuth
	Now      func() time.Time
	// Sleep waits, honouring ctx; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives progress notes for people (stderr); never secrets.
	Log io.Writer
	// CAFile is the profile's extra trusted CA, for non-HTTP transports.
	CAFile string
	// Observe, when set, sees the headers of every admin answer, so a bulk
	// run can pause all its workers as soon as a vendor says the rate-limit
	// budget is spent, before the 429s start.
	Observe func(ctx context.Context, h http.Header)
}

// Setting returns an admin setting or def.
func (e *Env) Setting(key, def string) string {
	if v := e.Settings[key]; v != "" {
		return v
	}
	return def
}

// Provider is any adapter.
type Provider interface {
	// Name is the registry name: hydra, keycloak, okta, auth0, oracle, cisco-ucm, sandbox, generic.
	Name() string
}

// AccessProber is an adapter with one read-only call that proves the IdP
// accepts its admin credential, for doctor, where its application listing
// makes no call that would. It returns what the call learnt.
type AccessProber interface {
	ProbeAccess(ctx context.Context) (string, error)
}

// CredentialDescriber is an adapter whose admin credential does not come
// through the profile's admin auth (an SDK's own credential chain); it
// says where it comes from, for doctor.
type CredentialDescriber interface {
	DescribeCredential() string
}

// PermissionLister is an adapter that can name the permissions (scopes,
// roles, IAM actions) its admin credential needs, for doctor and plans.
type PermissionLister interface {
	Permissions() []string
}

// Call describes one request an operation makes, for --dry-run plans.
type Call struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Purpose says in a few words what the call does to the IdP.
	Purpose string `json:"purpose"`
}

func (c Call) String() string { return fmt.Sprintf("%s %s  (%s)", c.Method, c.Path, c.Purpose) }

// Placeholders shows {name} placeholders of a planned path as typed:
// paths built with url.PathEscape turn them into %7Bname%7D.
func Placeholders(calls []Call) []Call {
	for i := range calls {
		calls[i].Path = strings.NewReplacer("%7B", "{", "%7D", "}").Replace(calls[i].Path)
	}
	return calls
}

// ---- (A) revoke a user's tokens --------------------------------------------

// UserTokenRevoker revokes every token of a user, in all clients or one.
type UserTokenRevoker interface {
	Provider
	// PlanRevokeUser lists the calls RevokeUser would make, sending nothing.
	PlanRevokeUser(req RevokeUserRequest) ([]Call, error)
	// RevokeUser revokes and reports what the IdP did. A user the IdP does
	// not know is the outcome UserNotFound, not an error; an error means the
	// attempt failed (network, 401/403, 5xx, rate limit not lifted) and is
	// classified with an errs kind.
	RevokeUser(ctx context.Context, req RevokeUserRequest) (*RevokeUserResult, error)
}

// RevokeUserRequest names whose tokens to revoke.
type RevokeUserRequest struct {
	// User is the user as the admin knows them; each adapter documents
	// whether that is an id, a username or an email, and looks it up.
	User string
	// Client limits the revocation to one client (application) when set.
	Client string
	// Method picks among alternatives where the IdP has no direct way
	// (Oracle: "deactivate" or "grants").
	Method string
	// IncludeAppRoles also removes grants of app roles (entitlements,
	// admin roles among them), which are not app access and are otherwise
	// left alone and reported (Oracle "grants").
	IncludeAppRoles bool
}

// Outcome is what the IdP actually did, normalised across vendors whose
// idempotency differs (Hydra 204 for unknown subjects, Keycloak 404 on a
// second delete, Okta and Auth0 404 for unknown users, Auth0 202).
type Outcome string

const (
	OutcomeRevoked         Outcome = "revoked"
	OutcomeAccepted        Outcome = "accepted" // asynchronous: the IdP will do it (Auth0 202)
	OutcomeNothingToRevoke Outcome = "nothing to revoke"
	OutcomeUserNotFound    Outcome = "user not found"
	OutcomeFailed          Outcome = "failed"
)

// RevokeUserResult is the honest answer for one user.
type RevokeUserResult struct {
	User    string  `json:"user"`
	Client  string  `json:"client,omitempty"`
	Outcome Outcome `json:"result"`
	// Detail says what was done, in a sentence ("3 consents and 2 login
	// sessions deleted").
	Detail string `json:"detail,omitempty"`
	// RequestID is the IdP's request or correlation id, where it sends one.
	RequestID string `json:"request_id,omitempty"`
	// StillValid completes the sentence "Access tokens already issued stay
	// valid ..." (JWTs live until exp), e.g. "up to 1h (the client's access
	// token lifetime)"; empty when unknown.
	StillValid string `json:"still_valid,omitempty"`
}

// ---- (B) token lifetimes ----------------------------------------------------

// AppExpiryManager reads and changes an application's token lifetimes.
type AppExpiryManager interface {
	Provider
	ListApps(ctx context.Context) ([]App, error)
	GetExpiry(ctx context.Context, app string) (*Lifetimes, error)
	// PlanExpiry reads the current settings, validates the change against
	// the vendor's allowed ranges and units, and computes the result;
	// nothing is written. A field this IdP cannot set here is an error of
	// kind KindUnsupported naming where it is set instead.
	PlanExpiry(ctx context.Context, app string, ch LifetimeChange) (*ExpiryPlan, error)
	// ApplyExpiry writes the plan with read-modify-write (whole objects are
	// sent back with unrelated fields intact), reads back, and returns
	// what the IdP now holds.
	ApplyExpiry(ctx context.Context, plan *ExpiryPlan) (*Lifetimes, error)
}

// App is an application (client) the admin credential can see.
type App struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id,omitempty"`
	Name     string `json:"name,omitempty"`
}

// Source says where a lifetime comes from.
type Source string

const (
	SourceApp       Source = "app"       // set on the application itself
	SourceInherited Source = "inherited" // a realm, tenant or server default
	SourceVendor    Source = "vendor"    // fixed by the vendor
	SourceUnknown   Source = "unknown"
)

// Lifetime is one setting with its provenance.
type Lifetime struct {
	// Value is the effective lifetime; zero with Unlimited false means unset.
	Value     time.Duration `json:"-"`
	Unlimited bool          `json:"unlimited,omitempty"`
	Known     bool          `json:"known"`
	Source    Source        `json:"source"`
	// From names the inherited level ("realm master", "authorization server default").
	From string `json:"from,omitempty"`
	// Native is the value in the IdP's own unit ("3600 seconds", "60 minutes", "1h0m0s").
	Native string `json:"native,omitempty"`
	// SetWhere is non-empty when this setting cannot be changed through
	// this app, and says where it is set instead.
	SetWhere string `json:"set_where,omitempty"`
}

// Lifetimes is the one model of token lifetimes across IdPs.
type Lifetimes struct {
	App            string    `json:"app"`
	AccessToken    Lifetime  `json:"access_token"`
	RefreshToken   Lifetime  `json:"refresh_token"`
	RefreshIdle    Lifetime  `json:"refresh_token_idle"`
	ReuseInterval  Lifetime  `json:"refresh_token_reuse_interval"`
	Rotation       *bool     `json:"refresh_token_rotation,omitempty"`
	RotationSource Source    `json:"refresh_token_rotation_source,omitempty"`
	Notes          []string  `json:"notes,omitempty"`
	ReadAt         time.Time `json:"-"`
}

// LifetimeChange is what the admin asked to change; nil fields stay.
type LifetimeChange struct {
	AccessToken  *time.Duration
	RefreshToken *time.Duration
	RefreshIdle  *time.Duration
	Rotation     *bool
	// Options are adapter-specific switches (auth0 "api", okta
	// "shared_rule_ok").
	Options map[string]string
}

// ExpiryPlan is a computed change, ready to apply.
type ExpiryPlan struct {
	App      string    `json:"app"`
	Before   Lifetimes `json:"before"`
	After    Lifetimes `json:"after"`
	Calls    []Call    `json:"calls"`
	Warnings []string  `json:"warnings,omitempty"`
	// Destructive marks changes with side effects beyond the app (Cisco:
	// changing the refresh timer revokes every refresh token in the
	// cluster); the command then insists on confirmation.
	Destructive bool `json:"destructive,omitempty"`
	// State is the adapter's own read-modify-write state.
	State any `json:"-"`
}

// ---- (C) keys ---------------------------------------------------------------

// KeyUse is which key to rotate.
type KeyUse string

const (
	KeySigning    KeyUse = "signing"
	KeyEncryption KeyUse = "encryption"
)

// KeyRotator lists and rotates the IdP's token keys.
type KeyRotator interface {
	KeyLister
	// PlanRotate says what rotating would do and break; nothing is sent.
	PlanRotate(ctx context.Context, use KeyUse, opts RotateOptions) (*RotatePlan, error)
	Rotate(ctx context.Context, plan *RotatePlan) (*RotateResult, error)
}

// Key is a public description of a key: never private material.
type Key struct {
	KID       string    `json:"kid"`
	Algorithm string    `json:"alg,omitempty"`
	Use       string    `json:"use,omitempty"`
	Status    string    `json:"status"` // active, next, passive, expired, disabled
	Created   time.Time `json:"created,omitempty"`
	// KeySet names the set the key belongs to: Hydra's JSON Web Key Set
	// (hydra.openid.id-token, hydra.jwt.access-token), Keycloak's key
	// provider component. Not an idpctl provider.
	KeySet string `json:"key_set,omitempty"`
}

// KeyRetirer withdraws the keys a rotation replaced (deletes them, or stops
// them signing), once tokens they signed have had time to expire. Rotate
// never retires: the command waits RetireOldAfter after the new key is
// published, then calls RetireKeys.
type KeyRetirer interface {
	RetireKeys(ctx context.Context, plan *RotatePlan, rotated *RotateResult) (*RotateResult, error)
}

// RotateOptions tune a rotation.
type RotateOptions struct {
	// RetireOldAfter, when positive, asks for the previous keys to be
	// retired that long after the new key is published (KeyRetirer).
	RetireOldAfter time.Duration
	// RestartServices performs follow-up restarts where the IdP needs them
	// (Cisco: the XCP Authentication Service on IM and Presence nodes).
	RestartServices bool
}

// RotatePlan is a computed rotation.
type RotatePlan struct {
	Use          KeyUse   `json:"use"`
	Calls        []Call   `json:"calls"`
	Consequences []string `json:"consequences"`
	// Destructive marks rotations that invalidate tokens already issued
	// (Cisco UCM: every access and refresh token using the key); the
	// command then insists on --yes even at a terminal.
	Destructive bool          `json:"destructive,omitempty"`
	Options     RotateOptions `json:"-"`
	State       any           `json:"-"`
}

// RotateResult is what the rotation did.
type RotateResult struct {
	NewKID  string   `json:"new_kid,omitempty"`
	Retired []string `json:"retired,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	// JWKSURL is where relying parties see the keys; the command polls it
	// until NewKID appears. Empty when the IdP publishes none to poll.
	JWKSURL string `json:"jwks_url,omitempty"`
}

// Unsupported is the exit-7 answer: what cannot be done, and what the IdP
// offers instead.
func Unsupported(provider, operation, instead string) error {
	msg := fmt.Sprintf("%s: %s is not supported", provider, operation)
	if instead != "" {
		msg += "; " + instead
	}
	return errs.New(errs.KindUnsupported, "%s", msg)
}
