package config

import (
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
)

// EnvVar documents one environment variable; the table drives both the
// resolution below and `idpctl help environment`.
type EnvVar struct {
	Name, Description string
}

// EnvVars lists every environment variable idpctl reads.
var EnvVars = []EnvVar{
	{"IDPCTL_CONFIG", "path of the configuration file (default: config.yaml under $XDG_CONFIG_HOME/idpctl)"},
	{"IDPCTL_PROFILE", "profile to use instead of the current one"},
	{"IDPCTL_ISSUER", "issuer URL; with it, no configuration file is needed"},
	{"IDPCTL_CLIENT_ID", "client identifier"},
	{"IDPCTL_CLIENT_SECRET", "client secret (kept out of argv; prefer IDPCTL_CLIENT_SECRET_FILE where the CI offers files)"},
	{"IDPCTL_CLIENT_SECRET_FILE", "file holding the client secret"},
	{"IDPCTL_CLIENT_AUTH_METHOD", "client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth or none"},
	{"IDPCTL_CLIENT_ASSERTION_FILE", "file holding a JWT a third party issued (CI ID token, Kubernetes service account token), sent as the client assertion instead of a secret; read again for every request"},
	{"IDPCTL_CLIENT_ASSERTION_SOURCE", "where to get the client assertion JWT instead of a file: github-actions"},
	{"IDPCTL_CLIENT_ASSERTION_AUDIENCE", "audience to ask the client assertion source for (default: the issuer)"},
	{"IDPCTL_PRIVATE_KEY_FILE", "PEM or JWK file signing private_key_jwt assertions"},
	{"IDPCTL_CLIENT_CERT_FILE", "client certificate (PEM) for tls_client_auth"},
	{"IDPCTL_CLIENT_KEY_FILE", "key of the client certificate (PEM)"},
	{"IDPCTL_FLOW", "default grant: client-credentials, auth-code, device, jwt-bearer, token-exchange or refresh"},
	{"IDPCTL_SCOPES", "scopes to request, separated by spaces or commas"},
	{"IDPCTL_AUDIENCE", "audience to request (RFC 8693 audience, or the vendor's audience parameter)"},
	{"IDPCTL_RESOURCES", "RFC 8707 resource indicators, separated by spaces or commas"},
	{"IDPCTL_PROVIDER", "admin API provider: generic, hydra, keycloak, okta, auth0, oracle, cisco-ucm"},
	{"IDPCTL_ADMIN_SECRET", "admin API credential (API token, password or admin client secret), kept out of argv; prefer IDPCTL_ADMIN_SECRET_FILE"},
	{"IDPCTL_ADMIN_SECRET_FILE", "file holding the admin API credential; without either, the one stored by 'profile add --admin-secret-stdin' is used"},
	{"IDPCTL_TOKEN_ENDPOINT", "token endpoint, for IdPs without discovery"},
	{"IDPCTL_CA_FILE", "extra CA certificates (PEM) to trust"},
	{"IDPCTL_PROXY", "HTTP proxy URL (default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY)"},
	{"IDPCTL_STORE", "credential store: keychain (default), file or memory"},
	{"IDPCTL_REDIRECT_URI", "exact redirect URI registered at the IdP, for IdPs that refuse loopback ports"},
	{"NO_COLOR", "disable colour in human output"},
}

// Overrides are values given as flags; a non-empty field wins over the
// environment and the file.
type Overrides struct {
	Profile, Issuer, ClientID, ClientAuthMethod, ClientSecretFile string
	PrivateKeyFile, ClientCertFile, ClientKeyFile                 string
	Provider, Store, CAFile, Proxy, Flow, TokenEndpoint           string
	RedirectURI, Audience                                         string
	ClientAssertionFile, ClientAssertionSource                    string
	ClientAssertionAudience                                       string
	Scopes, Resources                                             []string
}

// Resolved is the profile in force after file, environment and flags.
type Resolved struct {
	Name string
	Profile
	// InFile tells whether the profile exists in the configuration file.
	InFile bool
	// ClientSecretFromEnv is IDPCTL_CLIENT_SECRET. It is a secret: never
	// print it, and never copy it into the file.
	ClientSecretFromEnv string
}

// Resolve merges the file, the environment and flag overrides, in
// increasing precedence.
func Resolve(c *Config, getenv func(string) string, o Overrides) (*Resolved, error) {
	name := first(o.Profile, getenv("IDPCTL_PROFILE"), c.CurrentProfile, DefaultProfile)
	if err := ValidateName(name); err != nil {
		return nil, errs.Wrap(errs.KindUsage, err)
	}
	r := &Resolved{Name: name}
	if p, ok := c.Profiles[name]; ok {
		r.Profile = *p
		r.Profile.Admin = copyMap(p.Admin)
		r.InFile = true
	}
	explicit := o.Profile != "" || getenv("IDPCTL_PROFILE") != ""
	if explicit && !r.InFile && first(o.Issuer, getenv("IDPCTL_ISSUER"), o.TokenEndpoint, getenv("IDPCTL_TOKEN_ENDPOINT")) == "" {
		return nil, errs.New(errs.KindUsage, "no profile named %q: create it with 'idpctl profile add %s --issuer URL --client-id ID'", name, name)
	}
	p := &r.Profile
	set := func(dst *string, flag, env string) { *dst = first(flag, getenv(env), *dst) }
	set(&p.Issuer, o.Issuer, "IDPCTL_ISSUER")
	set(&p.ClientID, o.ClientID, "IDPCTL_CLIENT_ID")
	set(&p.ClientAuthMethod, o.ClientAuthMethod, "IDPCTL_CLIENT_AUTH_METHOD")
	set(&p.ClientSecretFile, o.ClientSecretFile, "IDPCTL_CLIENT_SECRET_FILE")
	set(&p.PrivateKeyFile, o.PrivateKeyFile, "IDPCTL_PRIVATE_KEY_FILE")
	set(&p.ClientAssertionFile, o.ClientAssertionFile, "IDPCTL_CLIENT_ASSERTION_FILE")
	set(&p.ClientAssertionSource, o.ClientAssertionSource, "IDPCTL_CLIENT_ASSERTION_SOURCE")
	set(&p.ClientAssertionAudience, o.ClientAssertionAudience, "IDPCTL_CLIENT_ASSERTION_AUDIENCE")
	set(&p.ClientCertFile, o.ClientCertFile, "IDPCTL_CLIENT_CERT_FILE")
	set(&p.ClientKeyFile, o.ClientKeyFile, "IDPCTL_CLIENT_KEY_FILE")
	set(&p.Flow, o.Flow, "IDPCTL_FLOW")
	set(&p.Audience, o.Audience, "IDPCTL_AUDIENCE")
	set(&p.Provider, o.Provider, "IDPCTL_PROVIDER")
	set(&p.Endpoints.Token, o.TokenEndpoint, "IDPCTL_TOKEN_ENDPOINT")
	set(&p.CAFile, o.CAFile, "IDPCTL_CA_FILE")
	set(&p.Proxy, o.Proxy, "IDPCTL_PROXY")
	set(&p.Store, o.Store, "IDPCTL_STORE")
	set(&p.RedirectURI, o.RedirectURI, "IDPCTL_REDIRECT_URI")
	if len(o.Scopes) > 0 {
		p.Scopes = o.Scopes
	} else if v := getenv("IDPCTL_SCOPES"); v != "" {
		p.Scopes = SplitList(v)
	}
	if len(o.Resources) > 0 {
		p.Resources = o.Resources
	} else if v := getenv("IDPCTL_RESOURCES"); v != "" {
		p.Resources = SplitList(v)
	}
	p.Issuer = strings.TrimSpace(p.Issuer)
	if p.Provider == "" {
		p.Provider = "generic"
	}
	r.ClientSecretFromEnv = getenv("IDPCTL_CLIENT_SECRET")
	return r, nil
}

// SplitList splits on spaces and commas, dropping empties.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
