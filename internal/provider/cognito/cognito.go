// Package cognito is the admin adapter for Amazon Cognito user pools,
// through the Cognito user pools API (AWS API model cognito-idp
// 2016-04-18, as compiled into
// github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider), on
// provider.Client. The AWS SDK for Go v2 signs every call (SigV4) with the
// default credential chain: environment, shared config and profiles, SSO,
// web identity, container and instance roles.
//
// Revocation: AdminUserGlobalSignOut invalidates every refresh token of the
// user, in all app clients of the pool; Cognito has no per-client
// revocation of a user's tokens. Access and ID tokens stay valid until they
// expire for any resource that verifies the JWT itself (only Cognito's own
// APIs reject them at once); how long is the app client's
// AccessTokenValidity (60 minutes by default).
//
// Lifetimes: an app client's AccessTokenValidity, IdTokenValidity and
// RefreshTokenValidity with TokenValidityUnits, and its refresh token
// rotation. UpdateUserPoolClient resets every attribute it is not sent to
// its default, so the adapter sends back everything DescribeUserPoolClient
// returned.
//
// Keys: the pool's JWKS is listed; Cognito does not rotate user pool
// signing keys and has no API to do so.
//
// Settings: user_pool_id (required), region (default: the pool id's
// prefix), url (the API endpoint, default
// https://cognito-idp.{region}.amazonaws.com), jwks_url (default
// https://cognito-idp.{region}.amazonaws.com/{user_pool_id}/.well-known/jwks.json).
package cognito

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "cognito"

// UnsupportedKeys is the exit-7 sentence of `key regen`.
const UnsupportedKeys = "Cognito does not rotate user pool signing keys and offers no API to do so; a new key means a new user pool"

// IAM actions each operation needs.
const (
	ActGetUser        = "cognito-idp:AdminGetUser"
	ActListUsers      = "cognito-idp:ListUsers"
	ActSignOut        = "cognito-idp:AdminUserGlobalSignOut"
	ActDescribeClient = "cognito-idp:DescribeUserPoolClient"
	ActUpdateClient   = "cognito-idp:UpdateUserPoolClient"
	ActListClients    = "cognito-idp:ListUserPoolClients"
)

// Token validity limits of an app client (UpdateUserPoolClient).
const (
	minAccess  = 5 * time.Minute
	maxAccess  = 24 * time.Hour
	minRefresh = 60 * time.Minute
	maxRefresh = 3650 * 24 * time.Hour
)

// Defaults of an app client without validity settings.
const (
	defaultAccess  = time.Hour
	defaultRefresh = 30 * 24 * time.Hour
)

var poolIDPattern = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$`)

// API is the part of the SDK client the adapter uses.
type API interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	ListUsers(ctx context.Context, in *cip.ListUsersInput, optFns ...func(*cip.Options)) (*cip.ListUsersOutput, error)
	AdminUserGlobalSignOut(ctx context.Context, in *cip.AdminUserGlobalSignOutInput, optFns ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error)
	DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error)
	UpdateUserPoolClient(ctx context.Context, in *cip.UpdateUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolClientOutput, error)
	ListUserPoolClients(ctx context.Context, in *cip.ListUserPoolClientsInput, optFns ...func(*cip.Options)) (*cip.ListUserPoolClientsOutput, error)
}

// Provider is the Cognito adapter.
type Provider struct {
	*provider.Client
	poolID, region, jwksURL string
	// endpoint is the url setting, empty for AWS's own.
	endpoint string
	cfg      *aws.Config

	mu  sync.Mutex // guards api: bulk runs revoke from several goroutines
	api API
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyLister        = (*Provider)(nil)
)

// New builds the adapter from the profile; AWS credentials come from the
// SDK's default chain when the first call is made.
func New(env *provider.Env) (provider.Provider, error) { return NewWithConfig(env, nil) }

// NewWithConfig builds the adapter with the AWS configuration given (tests
// inject static credentials and a retryer); nil loads the default one.
func NewWithConfig(env *provider.Env, cfg *aws.Config) (provider.Provider, error) {
	if env == nil {
		return nil, errs.New(errs.KindUsage, "cognito: no environment")
	}
	pool := env.Setting("user_pool_id", "")
	if pool == "" {
		return nil, errs.New(errs.KindUsage, "cognito: set the user pool (--admin user_pool_id=us-east-1_AbCdEf123)")
	}
	region := env.Setting("region", "")
	if region == "" {
		m := poolIDPattern.FindStringSubmatch(pool)
		if m == nil {
			return nil, errs.New(errs.KindUsage, "cognito: %q is not a user pool id (REGION_ID); set region too if it is one", pool)
		}
		region = m[1]
	}
	base := env.BaseURL
	if base == "" {
		base = "https://cognito-idp." + region + ".amazonaws.com"
	}
	if env.Auth == nil {
		env.Auth = &provider.AdminAuth{}
	}
	switch env.Auth.Scheme {
	case "", provider.AuthNone:
		// The SDK signs the calls; nothing else is sent.
		env.Auth.Scheme = provider.AuthNone
	default:
		return nil, errs.New(errs.KindUsage, "cognito: admin auth %q is not used here: AWS credentials come from the SDK's chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, roles)", env.Auth.Scheme)
	}
	c, err := provider.NewClient(env, Name, base, provider.ClientOptions{})
	if err != nil {
		return nil, err
	}
	p := &Provider{Client: c, poolID: pool, region: region, endpoint: env.BaseURL, cfg: cfg,
		jwksURL: env.Setting("jwks_url", "https://cognito-idp."+region+".amazonaws.com/"+pool+"/.well-known/jwks.json")}
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// DescribeCredential implements provider.CredentialDescriber: the profile
// sends no admin credential, the AWS SDK signs every call.
func (p *Provider) DescribeCredential() string {
	return "AWS credentials from the SDK's default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, web identity, instance role), each call signed with SigV4"
}

// Permissions lists the IAM actions the adapter uses.
func (p *Provider) Permissions() []string {
	return []string{ActGetUser, ActListUsers, ActSignOut, ActDescribeClient, ActUpdateClient, ActListClients}
}

// SetAPI replaces the SDK client (tests).
func (p *Provider) SetAPI(api API) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.api = api
}

// client builds the SDK client on first use, so that a dry run needs no
// AWS configuration.
func (p *Provider) client(ctx context.Context) (API, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.api != nil {
		return p.api, nil
	}
	var cfg aws.Config
	if p.cfg != nil {
		cfg = p.cfg.Copy()
	} else {
		loaded, err := config.LoadDefaultConfig(ctx, config.WithRegion(p.region))
		if err != nil {
			return nil, errs.New(errs.KindUsage, "cognito: reading the AWS configuration: %s", provider.Clean(err.Error()))
		}
		cfg = loaded
	}
	cfg.Region = p.region
	p.api = cip.NewFromConfig(cfg, func(o *cip.Options) {
		// Only the API calls go through idpctl's HTTP rules (timeout,
		// body cap, HTTPS except loopback, redacted trace); the
		// credential chain keeps the SDK's client, since the instance
		// metadata service is plain HTTP off loopback.
		o.HTTPClient = p.Env.HTTP.StandardClient()
		if p.endpoint != "" {
			o.BaseEndpoint = aws.String(p.endpoint)
		}
		if p.cfg == nil || p.cfg.Retryer == nil {
			o.RetryMaxAttempts = provider.DefaultMaxAttempts
		}
	})
	return p.api, nil
}

// fail classifies an SDK error. Cognito answers awsJson1_1 errors,
// {"__type","message"}, mostly with HTTP 400; the SDK has already retried
// throttling (TooManyRequestsException) and 5xx.
func fail(operation string, err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		if k := errs.KindOf(err); k != errs.KindUnknown {
			return errs.Wrap(k, fmt.Errorf("cognito: %s: %w", operation, err))
		}
		msg := provider.Clean(err.Error())
		if strings.Contains(msg, "credentials") {
			return errs.New(errs.KindLoginRequired, "cognito: %s: no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), sign in with 'aws sso login', or run with a role (%s)", operation, msg)
		}
		return errs.New(errs.KindNetwork, "cognito: %s: %s", operation, msg)
	}
	msg := provider.Clean(ae.ErrorCode() + ": " + ae.ErrorMessage())
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.ServiceRequestID() != "" {
		msg += " (request id " + provider.Clean(re.ServiceRequestID()) + ")"
	}
	switch ae.ErrorCode() {
	case "NotAuthorizedException", "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
		"IncompleteSignature", "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationToken", "SignatureDoesNotMatch":
		return errs.New(errs.KindRefused, "cognito: %s: AWS refused the credentials or the IAM policy lacks the action: %s", operation, msg)
	case "ResourceNotFoundException", "InvalidParameterException", "ValidationException":
		return errs.New(errs.KindUsage, "cognito: %s: %s", operation, msg)
	}
	return errs.New(errs.KindNetwork, "cognito: %s: %s", operation, msg)
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// ---- (A) revoke --------------------------------------------------------------

func call(op, purpose string) provider.Call {
	return provider.Call{Method: http.MethodPost, Path: "/ X-Amz-Target: AWSCognitoIdentityProviderService." + op, Purpose: purpose}
}

// PlanRevokeUser implements provider.UserTokenRevoker.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if strings.TrimSpace(req.User) == "" {
		return nil, errs.New(errs.KindUsage, "cognito: no user given")
	}
	if req.Method != "" {
		return nil, errs.New(errs.KindUsage, "cognito: --method is not used here: AdminUserGlobalSignOut is the one way")
	}
	var calls []provider.Call
	if req.Client != "" {
		calls = append(calls, call("DescribeUserPoolClient", "read how long app client "+req.Client+"'s access and ID tokens stay valid ("+ActDescribeClient+"); Cognito revokes per user, not per client, so the sign-out below covers every app client"))
	}
	calls = append(calls, call("AdminGetUser", fmt.Sprintf("find user %s in pool %s (%s)", req.User, p.poolID, ActGetUser)))
	if strings.Contains(req.User, "@") {
		calls = append(calls, call("ListUsers", fmt.Sprintf("else find the user by Filter email = %q (%s)", req.User, ActListUsers)))
	}
	calls = append(calls, call("AdminUserGlobalSignOut", "invalidate every refresh token of the user, in all app clients of the pool ("+ActSignOut+")"))
	return calls, nil
}

// filterString quotes s for a ListUsers filter: backslashes and quotes are
// escaped inside the double quotes.
func filterString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// findUser resolves a username, then an email; "" when the pool has no
// such user.
func (p *Provider) findUser(ctx context.Context, api API, who string) (string, error) {
	out, err := api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(p.poolID), Username: aws.String(who)})
	switch {
	case err == nil:
		return aws.ToString(out.Username), nil
	case !isCode(err, "UserNotFoundException"):
		return "", fail("finding user "+who, err)
	case !strings.Contains(who, "@"):
		return "", nil
	}
	list, err := api.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(p.poolID), Filter: aws.String("email = " + filterString(who)), Limit: aws.Int32(2)})
	if err != nil {
		return "", fail("finding user "+who+" by email", err)
	}
	switch len(list.Users) {
	case 0:
		return "", nil
	case 1:
		return aws.ToString(list.Users[0].Username), nil
	}
	return "", errs.New(errs.KindUsage, "cognito: several users of pool %s have the email %s; give the username", p.poolID, who)
}

// RevokeUser implements provider.UserTokenRevoker.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if _, err := p.PlanRevokeUser(req); err != nil {
		return nil, err
	}
	api, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	var client *types.UserPoolClientType
	if req.Client != "" {
		// Read first, so that a mistyped --client changes nothing.
		if client, err = p.describe(ctx, api, req.Client); err != nil {
			return nil, err
		}
	}
	username, err := p.findUser(ctx, api, req.User)
	if err != nil {
		return nil, err
	}
	if username == "" {
		res.Outcome, res.Detail = provider.OutcomeUserNotFound, "user pool "+p.poolID+" has no user "+req.User
		return res, nil
	}
	if _, err := api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(p.poolID), Username: aws.String(username)}); err != nil {
		if isCode(err, "UserNotFoundException") {
			res.Outcome, res.Detail = provider.OutcomeUserNotFound, "user pool "+p.poolID+" has no user "+req.User
			return res, nil
		}
		return nil, fail("signing out "+username, err)
	}
	res.Outcome = provider.OutcomeRevoked
	res.Detail = "every refresh token of " + username + " invalidated, in all app clients of the pool"
	if req.Client != "" {
		res.Detail += " (Cognito revokes per user, not per client)"
	}
	res.StillValid = stillValid(client)
	return res, nil
}

// stillValid completes "access tokens already issued stay valid ...".
func stillValid(c *types.UserPoolClientType) string {
	const tail = " for resources that verify the JWT themselves; Cognito's own APIs reject them now"
	if c == nil {
		return "until they expire: up to 60 minutes by default (the app client's AccessTokenValidity and IdTokenValidity settings)" + tail
	}
	l := lifetimesOf(c)
	return fmt.Sprintf("until they expire: up to %s for access tokens and %s for ID tokens of app client %s (its AccessTokenValidity and IdTokenValidity)%s",
		durations.Format(l.access.Value), durations.Format(l.id.Value), aws.ToString(c.ClientId), tail)
}
