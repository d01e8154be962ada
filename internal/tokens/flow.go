package tokens

import (
	"fmt"
	"strings"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// Flows, as typed on the command line.
const (
	FlowClientCredentials = "client-credentials"
	FlowAuthCode          = "auth-code"
	FlowDevice            = "device"
	FlowJWTBearer         = "jwt-bearer"
	FlowTokenExchange     = "token-exchange"
	FlowRefresh           = "refresh"
)

// Flows lists them for help and completion.
var Flows = []string{FlowClientCredentials, FlowAuthCode, FlowDevice, FlowJWTBearer, FlowTokenExchange, FlowRefresh}

// GrantOptions are the per-invocation settings of a grant.
type GrantOptions struct {
	Flow    string
	Options oauth.TokenOptions
	// Interactive flows.
	NoBrowser    bool
	RedirectPort int
	RedirectURI  string
	// jwt-bearer: a ready assertion, or what to sign one with.
	AssertionFile     string
	AssertionKeyFile  string
	AssertionSubject  string
	AssertionIssuer   string
	AssertionAudience string
	// token-exchange.
	SubjectTokenFile        string
	SubjectTokenProfile     string
	SubjectTokenType        string
	SubjectTokenSource      string // a CI runtime (github-actions), see ciassert
	SubjectTokenAudience    string
	ActorTokenFile          string
	ActorTokenType          string
	RequestedTokenType      string
	AllowInteractiveOnNoTTY bool
}

// HasClientAssertion tells whether the profile authenticates the client
// with a third-party JWT instead of a secret or key of its own.
func HasClientAssertion(p *config.Resolved) bool {
	return p.ClientAssertionFile != "" || p.ClientAssertionSource != ""
}

// DefaultFlow picks the flow when none is given: the profile's, else
// client credentials for a confidential client, else the browser login.
func DefaultFlow(p *config.Resolved, haveClientCredential bool) string {
	if p.Flow != "" {
		return p.Flow
	}
	if haveClientCredential || p.PrivateKeyFile != "" || p.ClientCertFile != "" || HasClientAssertion(p) {
		return FlowClientCredentials
	}
	return FlowAuthCode
}

// ValidateFlow refuses an unknown flow name.
func ValidateFlow(flow string) error {
	for _, f := range Flows {
		if f == flow {
			return nil
		}
	}
	return errs.New(errs.KindUsage, "unknown flow %q: choose one of %s", flow, strings.Join(Flows, ", "))
}

// IsInteractive tells whether a flow needs a person.
func IsInteractive(flow string) bool { return flow == FlowAuthCode || flow == FlowDevice }

// PrepareGrant settles the flow and the token options from flags and profile.
func PrepareGrant(p *config.Resolved, g GrantOptions, scopes []string) (GrantOptions, error) {
	if g.Flow == "" {
		// A client authentication method other than none declares a
		// confidential client, whether the profile comes from the file or
		// from flags and environment; its missing credential is then
		// reported as such instead of as a login needing a person.
		haveCred := p.ClientSecretFromEnv != "" || p.ClientSecretFile != "" || (p.ClientAuthMethod != "" && p.ClientAuthMethod != oauth.AuthNone)
		g.Flow = DefaultFlow(p, haveCred)
	}
	if err := ValidateFlow(g.Flow); err != nil {
		return g, err
	}
	if scopes = config.SplitScopes(scopes); len(scopes) > 0 {
		g.Options.Scopes = scopes
	} else {
		g.Options.Scopes = p.Scopes
	}
	if g.Options.Audience == "" {
		g.Options.Audience = p.Audience
	}
	if len(g.Options.Resources) == 0 {
		g.Options.Resources = p.Resources
	}
	return g, nil
}

// LoginHint is what to do when the profile's cached tokens are gone.
func LoginHint(profile string) string {
	return fmt.Sprintf("run 'idpctl login --profile %s'", profile)
}

// MissingClientCredential: RFC 6749 §4.4 allows the client credentials
// grant to confidential clients only; sending it without a credential
// would only earn an invalid_client.
func MissingClientCredential(p *config.Resolved) error {
	return errs.New(errs.KindUsage, "the client-credentials flow needs a client credential, and profile %q has none: set IDPCTL_CLIENT_SECRET_FILE (or --client-secret-file, or IDPCTL_CLIENT_SECRET), --private-key-file, --client-cert-file or --client-assertion-file (or --client-assertion-source), or store a secret with 'idpctl profile add %s --client-secret-stdin'", p.Name, p.Name)
}

// checkGrantCredential is the same rule once the client is built and the
// stored secret, if any, has been read.
func checkGrantCredential(c *oauth.Client, p *config.Resolved, flow string) error {
	if flow == FlowClientCredentials && p.ClientAuthMethod == "" && !HasClientAssertion(p) && c.Auth != nil && c.Auth.Method() == oauth.AuthNone {
		return MissingClientCredential(p)
	}
	return nil
}
