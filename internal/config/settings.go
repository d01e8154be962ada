package config

import "strings"

// Setting is one setting and every name it goes by. The names of one
// setting are one name in three spellings: the flag in kebab-case
// (--client-auth), the environment variable in upper case after IDPCTL_
// (IDPCTL_CLIENT_AUTH), the profile key in snake_case (client_auth). Endpoint
// URLs are the exception that proves the rule: they sit under the profile's
// endpoints: block without the suffix (endpoints.token is token_endpoint).
// A setting need not have all three; a secret, for one, has no flag and no
// key. The names are spelled out rather than derived, so that the test that
// walks them, the command tree, the profile's keys and the resolution can
// catch a setting whose names drift apart.
type Setting struct {
	// Name is the setting's name in snake_case.
	Name string
	// Flag is the flag without the dashes, "" for none.
	Flag string
	// Env is the environment variable, "" for none.
	Env string
	// Key is the profile key (a dotted path for endpoints.*), "" for none.
	Key string
	// OldEnv and OldKey are earlier spellings, still read.
	OldEnv []string
	OldKey []string
	// Note is said in the settings table of docs/configuration.md.
	Note string
}

// Settings lists every setting: the table in docs/configuration.md and
// `idpctl help environment` follow it.
var Settings = []Setting{
	{Name: "profile", Flag: "profile", Env: "IDPCTL_PROFILE", Note: "which profile; the file's `current_profile` (set by `profile use`) is the default"},
	{Name: "issuer", Flag: "issuer", Env: "IDPCTL_ISSUER", Key: "issuer"},
	{Name: "client_id", Flag: "client-id", Env: "IDPCTL_CLIENT_ID", Key: "client_id"},
	{Name: "client_auth", Flag: "client-auth", Env: "IDPCTL_CLIENT_AUTH", Key: "client_auth",
		OldEnv: []string{"IDPCTL_CLIENT_AUTH_METHOD"}, OldKey: []string{"client_auth_method"}},
	{Name: "client_secret", Env: "IDPCTL_CLIENT_SECRET", Note: "a secret: never a flag or a key; or the credential store"},
	{Name: "client_secret_file", Flag: "client-secret-file", Env: "IDPCTL_CLIENT_SECRET_FILE", Key: "client_secret_file"},
	{Name: "client_assertion_file", Flag: "client-assertion-file", Env: "IDPCTL_CLIENT_ASSERTION_FILE", Key: "client_assertion_file", Note: "a JWT a party the IdP trusts issued (CI ID token, Kubernetes service account token), sent as the client assertion instead of a secret; read again for every request"},
	{Name: "client_assertion_source", Flag: "client-assertion-source", Env: "IDPCTL_CLIENT_ASSERTION_SOURCE", Key: "client_assertion_source", Note: "where to get the client assertion instead of a file: github-actions"},
	{Name: "client_assertion_audience", Flag: "client-assertion-audience", Env: "IDPCTL_CLIENT_ASSERTION_AUDIENCE", Key: "client_assertion_audience", Note: "audience to ask the assertion source for (default: the issuer)"},
	{Name: "private_key_file", Flag: "private-key-file", Env: "IDPCTL_PRIVATE_KEY_FILE", Key: "private_key_file"},
	{Name: "client_cert_file", Flag: "client-cert-file", Env: "IDPCTL_CLIENT_CERT_FILE", Key: "client_cert_file"},
	{Name: "client_key_file", Flag: "client-key-file", Env: "IDPCTL_CLIENT_KEY_FILE", Key: "client_key_file"},
	{Name: "flow", Flag: "flow", Env: "IDPCTL_FLOW", Key: "flow", Note: "flag on `token get` and `profile add`"},
	{Name: "scope", Flag: "scope", Env: "IDPCTL_SCOPE", Key: "scope",
		OldEnv: []string{"IDPCTL_SCOPES"}, OldKey: []string{"scopes"}, Note: "flag on `token get`, `token refresh`, `login`, `profile add`"},
	{Name: "audience", Flag: "audience", Env: "IDPCTL_AUDIENCE", Key: "audience", Note: "flag on `token get`, `login`, `profile add`"},
	{Name: "resource", Flag: "resource", Env: "IDPCTL_RESOURCE", Key: "resource",
		OldEnv: []string{"IDPCTL_RESOURCES"}, OldKey: []string{"resources"}, Note: "flag on `token get`, `login`, `profile add`"},
	{Name: "redirect_uri", Flag: "redirect-uri", Env: "IDPCTL_REDIRECT_URI", Key: "redirect_uri", Note: "flag on `token get`, `login`, `profile add`"},
	{Name: "provider", Flag: "provider", Env: "IDPCTL_PROVIDER", Key: "provider", Note: "flag on `profile add`"},
	{Name: "admin", Flag: "admin", Key: "admin", Note: "provider settings KEY=VALUE; flag on `profile add`"},
	{Name: "admin_secret", Env: "IDPCTL_ADMIN_SECRET", Note: "a secret: never a flag or a key; or the credential store"},
	{Name: "admin_secret_file", Flag: "admin-secret-file", Env: "IDPCTL_ADMIN_SECRET_FILE", Note: "flag on `sandbox`, which serves its admin API with that credential"},
	{Name: "admin_url", Env: "IDPCTL_ADMIN_URL", Note: "the profile's admin `url` setting, for profiles defined by environment variables"},
	{Name: "admin_auth", Env: "IDPCTL_ADMIN_AUTH", Note: "the profile's admin `auth` setting, for profiles defined by environment variables"},
	{Name: "dpop", Flag: "dpop", Env: "IDPCTL_DPOP", Key: "dpop", Note: "RFC 9449 sender-constrained tokens; flag on `token get`, `token refresh`, `login`, `token revoke`, `token inspect`"},
	{Name: "dpop_alg", Key: "dpop_alg", Note: "the DPoP key's algorithm: ES256 (default), ES384 or EdDSA"},
	{Name: "par", Flag: "par", Key: "par", Note: "RFC 9126 pushed authorization requests; flag on `login`"},
	{Name: "request_object", Flag: "request-object", Key: "request_object", Note: "RFC 9101 signed request objects; flag on `login`"},
	{Name: "token_endpoint", Flag: "token-endpoint", Env: "IDPCTL_TOKEN_ENDPOINT", Key: "endpoints.token"},
	{Name: "authorization_endpoint", Key: "endpoints.authorization"},
	{Name: "device_authorization_endpoint", Key: "endpoints.device_authorization"},
	{Name: "revocation_endpoint", Key: "endpoints.revocation"},
	{Name: "introspection_endpoint", Key: "endpoints.introspection"},
	{Name: "jwks_endpoint", Key: "endpoints.jwks"},
	{Name: "userinfo_endpoint", Key: "endpoints.userinfo"},
	{Name: "ca_file", Flag: "ca-file", Env: "IDPCTL_CA_FILE", Key: "ca_file"},
	{Name: "proxy", Flag: "proxy", Env: "IDPCTL_PROXY", Key: "proxy"},
	{Name: "proxy_loopback", Env: "IDPCTL_PROXY_LOOPBACK", Note: "1 sends loopback traffic through a proxy that is itself on loopback (a local debugging proxy); otherwise loopback never goes through a proxy"},
	{Name: "store", Flag: "store", Env: "IDPCTL_STORE", Key: "store"},
	{Name: "file_store_warning", Env: "IDPCTL_FILE_STORE_WARNING"},
	{Name: "timeout", Flag: "timeout", Note: "a duration, e.g. 30s"},
	{Name: "debug", Flag: "debug", Env: "IDPCTL_DEBUG"},
	{Name: "discovery_ttl", Env: "IDPCTL_DISCOVERY_TTL", Note: "a duration, e.g. 1h"},
	{Name: "config", Env: "IDPCTL_CONFIG", Note: "path of the configuration file"},
}

// SettingNamesAgree reports the names of s that do not follow the rule
// (see Setting), or nil.
func SettingNamesAgree(s Setting) []string {
	var bad []string
	if s.Flag != "" && s.Flag != strings.ReplaceAll(s.Name, "_", "-") {
		bad = append(bad, "flag --"+s.Flag)
	}
	if s.Env != "" && s.Env != "IDPCTL_"+strings.ToUpper(s.Name) {
		bad = append(bad, "variable "+s.Env)
	}
	if s.Key != "" && s.Key != s.Name {
		section, key, nested := strings.Cut(s.Key, ".")
		if !nested || section != "endpoints" || key+"_endpoint" != s.Name {
			bad = append(bad, "key "+s.Key)
		}
	}
	return bad
}

// lookupEnv returns the first non-empty of a setting's variable and its
// earlier spellings.
func lookupEnv(getenv func(string) string, name string) string {
	if v := getenv(name); v != "" {
		return v
	}
	for _, s := range Settings {
		if s.Env == name {
			for _, old := range s.OldEnv {
				if v := getenv(old); v != "" {
					return v
				}
			}
		}
	}
	return ""
}
