// Package config holds profiles: which IdP, which client, how to
// authenticate, what to ask for. Profiles live in a YAML file under the XDG
// config dir; environment variables and flags override them, so a CI job
// needs no file at all.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/idpctl/idpctl/internal/atomicfile"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/xdg"
)

// DefaultProfile is the name used when none is chosen anywhere.
const DefaultProfile = "default"

// Endpoints are explicit endpoint URLs for IdPs without discovery (Webex
// publishes none), or to override a discovered one.
type Endpoints struct {
	Authorization       string `yaml:"authorization,omitempty" json:"authorization,omitempty"`
	Token               string `yaml:"token,omitempty" json:"token,omitempty"`
	DeviceAuthorization string `yaml:"device_authorization,omitempty" json:"device_authorization,omitempty"`
	Revocation          string `yaml:"revocation,omitempty" json:"revocation,omitempty"`
	Introspection       string `yaml:"introspection,omitempty" json:"introspection,omitempty"`
	JWKS                string `yaml:"jwks,omitempty" json:"jwks,omitempty"`
	Userinfo            string `yaml:"userinfo,omitempty" json:"userinfo,omitempty"`
}

// IsZero lets yaml omit an empty endpoints block.
func (e Endpoints) IsZero() bool { return e == Endpoints{} }

// ScopeList is the scopes of a profile. In the file it may be a list or
// one string as OAuth writes scopes ("openid offline_access", RFC 6749
// §3.3), or with commas; either way it is split like the flag and the
// environment variable.
type ScopeList []string

// UnmarshalYAML accepts a string or a list of strings.
func (s *ScopeList) UnmarshalYAML(n *yaml.Node) error {
	var vals []string
	switch n.Kind {
	case yaml.ScalarNode:
		vals = []string{n.Value}
	case yaml.SequenceNode:
		if err := n.Decode(&vals); err != nil {
			return fmt.Errorf("line %d: scope must be a string or a list of strings", n.Line)
		}
	default:
		return fmt.Errorf("line %d: scope must be a string or a list of strings", n.Line)
	}
	*s = SplitScopes(vals)
	return nil
}

// Profile is one IdP and client. Secrets are never stored here: the client
// secret lives in the credential store, a file, or the environment.
type Profile struct {
	Issuer           string    `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	ClientID         string    `yaml:"client_id,omitempty" json:"client_id,omitempty"`
	ClientAuthMethod string    `yaml:"client_auth,omitempty" json:"client_auth,omitempty"`
	Flow             string    `yaml:"flow,omitempty" json:"flow,omitempty"`
	Scopes           ScopeList `yaml:"scope,omitempty" json:"scope,omitempty"`
	Audience         string    `yaml:"audience,omitempty" json:"audience,omitempty"`
	Resources        []string  `yaml:"resource,omitempty" json:"resource,omitempty"`
	Provider         string    `yaml:"provider,omitempty" json:"provider,omitempty"`
	Endpoints        Endpoints `yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
	CAFile           string    `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	Proxy            string    `yaml:"proxy,omitempty" json:"proxy,omitempty"`
	// PrivateKeyFile signs private_key_jwt client assertions (PEM or JWK).
	PrivateKeyFile string `yaml:"private_key_file,omitempty" json:"private_key_file,omitempty"`
	// ClientCertFile and ClientKeyFile are the RFC 8705 tls_client_auth pair.
	ClientCertFile string `yaml:"client_cert_file,omitempty" json:"client_cert_file,omitempty"`
	ClientKeyFile  string `yaml:"client_key_file,omitempty" json:"client_key_file,omitempty"`
	// ClientSecretFile names a file holding the client secret.
	ClientSecretFile string `yaml:"client_secret_file,omitempty" json:"client_secret_file,omitempty"`
	// ClientAssertionFile and ClientAssertionSource authenticate the client
	// with a JWT a third party issued (RFC 7523 §2.2) instead of a secret:
	// a file a CI system keeps fresh, or a runtime to ask (github-actions)
	// for a token with ClientAssertionAudience (default: the issuer).
	ClientAssertionFile     string `yaml:"client_assertion_file,omitempty" json:"client_assertion_file,omitempty"`
	ClientAssertionSource   string `yaml:"client_assertion_source,omitempty" json:"client_assertion_source,omitempty"`
	ClientAssertionAudience string `yaml:"client_assertion_audience,omitempty" json:"client_assertion_audience,omitempty"`
	// RedirectURI is for IdPs that accept only an exactly registered
	// redirect URI; by default a loopback URI with an OS-chosen port is used.
	RedirectURI string `yaml:"redirect_uri,omitempty" json:"redirect_uri,omitempty"`
	Store       string `yaml:"store,omitempty" json:"store,omitempty"`
	// DPoP asks for DPoP-bound tokens (RFC 9449) with a per-profile key
	// kept in the credential store; DPoPAlg is that key's algorithm
	// (default ES256).
	DPoP    bool   `yaml:"dpop,omitempty" json:"dpop,omitempty"`
	DPoPAlg string `yaml:"dpop_alg,omitempty" json:"dpop_alg,omitempty"`
	// PAR pushes authorization requests (RFC 9126) even when the IdP does
	// not require it.
	PAR bool `yaml:"par,omitempty" json:"par,omitempty"`
	// RequestObject signs authorization requests (RFC 9101) with the
	// client's private key even when the IdP does not require it.
	RequestObject bool `yaml:"request_object,omitempty" json:"request_object,omitempty"`
	// Admin holds provider-specific admin settings (base URL, realm, ...).
	Admin map[string]string `yaml:"admin,omitempty" json:"admin,omitempty"`

	// Earlier spellings of client_auth, scope and resource, still read:
	// Parse folds them into the fields above, so they are never written.
	OldClientAuthMethod string    `yaml:"client_auth_method,omitempty" json:"-"`
	OldScopes           ScopeList `yaml:"scopes,omitempty" json:"-"`
	OldResources        []string  `yaml:"resources,omitempty" json:"-"`
}

// foldOldKeys moves values given under earlier key names to the current
// ones; both spellings with different values is an error, since either
// choice would silently ignore one.
func (p *Profile) foldOldKeys(name string) error {
	conflict := func(now, old string) error {
		return fmt.Errorf("profile %q sets both %s and %s, its earlier name: keep %s", name, now, old, now)
	}
	if p.OldClientAuthMethod != "" {
		if p.ClientAuthMethod != "" && p.ClientAuthMethod != p.OldClientAuthMethod {
			return conflict("client_auth", "client_auth_method")
		}
		p.ClientAuthMethod, p.OldClientAuthMethod = p.OldClientAuthMethod, ""
	}
	if len(p.OldScopes) > 0 {
		if len(p.Scopes) > 0 && strings.Join(p.Scopes, " ") != strings.Join(p.OldScopes, " ") {
			return conflict("scope", "scopes")
		}
		p.Scopes, p.OldScopes = p.OldScopes, nil
	}
	if len(p.OldResources) > 0 {
		if len(p.Resources) > 0 && strings.Join(p.Resources, " ") != strings.Join(p.OldResources, " ") {
			return conflict("resource", "resources")
		}
		p.Resources, p.OldResources = p.OldResources, nil
	}
	return nil
}

// Config is the whole configuration file.
type Config struct {
	CurrentProfile string              `yaml:"current_profile,omitempty"`
	Profiles       map[string]*Profile `yaml:"profiles,omitempty"`
	// DockerRegistries maps container registries to profiles for
	// docker-credential-idpctl (see docker.go).
	DockerRegistries map[string]DockerRegistry `yaml:"docker_registries,omitempty"`
}

// Path is $IDPCTL_CONFIG, else config.yaml under the XDG config dir.
func Path(getenv func(string) string) (string, error) {
	if p := getenv("IDPCTL_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := xdg.ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.yaml"), nil
}

// Load reads the file; a missing file is an empty configuration.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Config{Profiles: map[string]*Profile{}}, nil
	}
	if err != nil {
		// A setting to fix (exit 2), not a failure of the command.
		return nil, errs.New(errs.KindUsage, "the configuration file %s cannot be read (%v): check its permissions, or point IDPCTL_CONFIG at another file", path, errors.Unwrap(err))
	}
	return Parse(raw, path)
}

// Parse decodes a configuration document, refusing unknown keys so a typo
// does not silently fall back to a default.
func Parse(raw []byte, path string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// io.EOF is an empty document: an empty configuration.
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, errs.New(errs.KindUsage, "the configuration file %s is invalid: %s", path, yamlSummary(err))
	}
	if c.Profiles == nil {
		c.Profiles = map[string]*Profile{}
	}
	for name, p := range c.Profiles {
		if p == nil {
			c.Profiles[name] = &Profile{}
		}
		if err := ValidateName(name); err != nil {
			return nil, errs.New(errs.KindUsage, "the configuration file %s is invalid: %w", path, err)
		}
		if err := c.Profiles[name].foldOldKeys(name); err != nil {
			return nil, errs.New(errs.KindUsage, "the configuration file %s is invalid: %w", path, err)
		}
	}
	if err := c.checkDockerRegistries(); err != nil {
		return nil, errs.New(errs.KindUsage, "the configuration file %s is invalid: %w", path, err)
	}
	return &c, nil
}

func yamlSummary(err error) string {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) {
		// One sentence in the file's words, not Go's type names.
		parts := make([]string, 0, len(te.Errors))
		for _, e := range te.Errors {
			if m := unknownField.FindStringSubmatch(e); m != nil {
				e = fmt.Sprintf("%s: unknown key %q", m[1], m[2])
			} else if m := wrongType.FindStringSubmatch(e); m != nil {
				e = fmt.Sprintf("%s: %s is not of the right kind here (a string, number, list or mapping as the key takes)", m[1], m[2])
			}
			parts = append(parts, e)
		}
		msg = strings.Join(parts, "; ")
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return msg
}

var (
	unknownField = regexp.MustCompile(`^(line \d+): field (\S+) not found in type \S+$`)
	wrongType    = regexp.MustCompile(`^(line \d+): cannot unmarshal !!\w+ (.*) into \S+$`)
)

// Save writes the file atomically with mode 0600: it names key files and
// issuers that are nobody else's business.
func (c *Config) Save(path string) error {
	raw, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the configuration directory: %w", err)
	}
	if err := atomicfile.Write(linkTarget(path), raw, 0o600); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	return nil
}

// linkTarget is the file a symbolic link at path points to, or path. A
// configuration kept in a dotfiles repository and linked into place stays
// linked: the replacement is written next to the target and renamed over
// it, not over the link.
func linkTarget(path string) string {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return path
	}
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		return resolved
	}
	// A dangling link: write the file it names.
	dest, err := os.Readlink(path)
	if err != nil {
		return path
	}
	if !filepath.IsAbs(dest) {
		dest = filepath.Join(filepath.Dir(path), dest)
	}
	return dest
}

// Names lists profile names, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ValidateName keeps profile names usable as keychain accounts and file
// names: letters, digits, '-', '_' and '.', not starting with '.'.
func ValidateName(name string) error {
	if name == "" || len(name) > 64 || strings.HasPrefix(name, ".") {
		return fmt.Errorf("profile name %q must be 1 to 64 characters and not start with '.'", name)
	}
	for _, r := range name {
		ok := r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("profile name %q may hold only letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}
