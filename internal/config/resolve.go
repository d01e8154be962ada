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
	{"IDPCTL_CLIENT_AUTH", "client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth or none (earlier name: IDPCTL_CLIENT_AUTH_METHOD)"},
	{"IDPCTL_CLIENT_ASSERTION_FILE", "file holding a JWT a third party issued (CI ID token, Kubernetes service account token), sent as the client assertion instead of a secret; read again for every request"},
	{"IDPCTL_CLIENT_ASSERTION_SOURCE", "where to get the client assertion JWT instead of a file: github-actions"},
	{"IDPCTL_CLIENT_ASSERTION_AUDIENCE", "audience to ask the client assertion source for (default: the issuer)"},
	{"IDPCTL_PRIVATE_KEY_FILE", "PEM or JWK file signing private_key_jwt assertions"},
	{"IDPCTL_CLIENT_CERT_FILE", "client certificate (PEM) for tls_client_auth"},
	{"IDPCTL_CLIENT_KEY_FILE", "key of the client certificate (PEM)"},
	{"IDPCTL_FLOW", "default grant: client-credentials, auth-code, device, jwt-bearer, token-exchange or refresh"},
	{"IDPCTL_SCOPE", "scopes to request, separated by spaces or commas (earlier name: IDPCTL_SCOPES)"},
	{"IDPCTL_AUDIENCE", "audience to request (RFC 8693 audience, or the vendor's audience parameter)"},
	{"IDPCTL_RESOURCE", "RFC 8707 resource indicators, separated by spaces or commas (earlier name: IDPCTL_RESOURCES)"},
	{"IDPCTL_PROVIDER", "admin API provider (the registry's names; see idpctl help environment)"},
	{"IDPCTL_ADMIN_URL", "admin API base (the profile's admin url setting), for profiles defined by environment variables"},
	{"IDPCTL_ADMIN_AUTH", "admin authentication: none, bearer, ssws, basic or client_credentials (the profile's admin auth setting)"},
	{"IDPCTL_ADMIN_SECRET", "admin API credential (API token, password or admin client secret), kept out of argv; prefer IDPCTL_ADMIN_SECRET_FILE"},
	{"IDPCTL_ADMIN_SECRET_FILE", "file holding the admin API credential; without either, the one stored by 'profile add --admin-secret-stdin' is used"},
	{"IDPCTL_TOKEN_ENDPOINT", "token endpoint, for IdPs without discovery"},
	{"IDPCTL_CA_FILE", "extra CA certificates (PEM) to trust"},
	{"IDPCTL_PROXY", "HTTP proxy URL (default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY)"},
	{"IDPCTL_STORE", "credential store: keychain (default), file or memory"},
	{"IDPCTL_FILE_STORE_WARNING", "off silences the file store's plaintext warning, said on stderr when the file is created ('idpctl doctor' still reports it)"},
	{"IDPCTL_REDIRECT_URI", "exact redirect URI registered at the IdP, for IdPs that refuse loopback ports"},
	{"IDPCTL_DPOP", "1 or true: ask for DPoP-bound tokens (RFC 9449), as --dpop does"},
	{"NO_COLOR", "disable colour in human output"},
	{"COLUMNS", "width tables fit in (default: the terminal's; piped output is not fitted unless COLUMNS is set)"},
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
	// DPoP, PAR and RequestObject turn the feature on; false leaves the
	// profile's setting.
	DPoP, PAR, RequestObject bool
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
	set := func(dst *string, flag, env string) { *dst = first(flag, lookupEnv(getenv, env), *dst) }
	set(&p.Issuer, o.Issuer, "IDPCTL_ISSUER")
	set(&p.ClientID, o.ClientID, "IDPCTL_CLIENT_ID")
	set(&p.ClientAuthMethod, o.ClientAuthMethod, "IDPCTL_CLIENT_AUTH")
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
	} else if v := lookupEnv(getenv, "IDPCTL_SCOPE"); v != "" {
		p.Scopes = SplitList(v)
	}
	// A file written by hand may hold "openid offline_access" as one item.
	p.Scopes = SplitScopes(p.Scopes)
	if len(o.Resources) > 0 {
		p.Resources = o.Resources
	} else if v := lookupEnv(getenv, "IDPCTL_RESOURCE"); v != "" {
		p.Resources = SplitList(v)
	}
	p.Issuer = strings.TrimSpace(p.Issuer)
	if p.Provider == "" {
		p.Provider = "generic"
	}
	// The two admin settings every provider reads, so that a profile made of
	// environment variables (`idpctl sandbox -o env`) can drive an admin API.
	for env, key := range map[string]string{"IDPCTL_ADMIN_URL": "url", "IDPCTL_ADMIN_AUTH": "auth"} {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			if p.Admin == nil {
				p.Admin = map[string]string{}
			}
			p.Admin[key] = v
		}
	}
	p.DPoP = p.DPoP || o.DPoP || IsTrue(getenv("IDPCTL_DPOP"))
	p.PAR = p.PAR || o.PAR
	p.RequestObject = p.RequestObject || o.RequestObject
	// A line end picked up with the value (a secret store's export, a
	// file read into the variable) is never part of a secret; files are
	// trimmed the same way.
	r.ClientSecretFromEnv = strings.TrimRight(getenv("IDPCTL_CLIENT_SECRET"), "\r\n")
	return r, nil
}

// IsTrue reads a boolean environment variable: 1, true, yes or on.
func IsTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// SplitList splits on spaces and commas, dropping empties.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
}

// SplitScopes splits every value on spaces and commas and drops repeats,
// keeping the order. OAuth writes a scope list as one space-separated string
// (RFC 6749 §3.3), so `--scope "openid offline_access"` is two scopes, as is
// `--scope openid,offline_access` or the flag given twice.
func SplitScopes(vals []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		for _, s := range SplitList(v) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
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
