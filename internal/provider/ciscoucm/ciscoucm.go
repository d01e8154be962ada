// Package ciscoucm is the admin adapter for Cisco Unified Communications
// Manager (CUCM), whose OAuth refresh logins serve Jabber and Webex
// clients. Its registry name is "cisco-ucm".
//
// # Settings (the profile's admin map)
//
//   - host: the publisher, for HTTPS (port 8443 unless given); the admin url
//     (https://ucm.example.com:8443) takes precedence. Self-signed
//     certificates are common: trust them with the profile's --ca-file,
//     which reaches this adapter through its HTTP client.
//   - ssh_host: the publisher for the platform CLI (default: the UCM host,
//     port 22); ssh_user (default: the admin user); ssh_auth: "password"
//     (the default and only value: the admin secret is the CLI password,
//     sent with password or keyboard-interactive authentication, whichever
//     the server offers).
//   - ssh_host_key_sha256: pins the publisher's host key ("SHA256:...", as
//     ssh-keygen -lf prints it); otherwise ssh_known_hosts (default
//     ~/.ssh/known_hosts) must list the host. IM and Presence nodes are
//     checked against known_hosts only.
//   - imp_nodes: the IM and Presence nodes (host or host:port, comma
//     separated) on which a key regeneration restarts the Cisco XCP
//     Authentication Service when asked to.
//   - ssh_timeout: how long one CLI command may take (Go duration,
//     default 10m).
//   - axl_version: the AXL schema version of the getUser check (default
//     12.5, understood by Unified CM 12.5, 14 and 15).
//
// AXL calls authenticate with HTTP Basic (the AXL user and the admin
// secret).
//
// # What was confirmed, and where
//
//   - GET https://<ucm>:8443/ssosp/token/revoke?user_id=<end user>, protected
//     by AXL credentials, revokes an end user's refresh tokens: Cisco's
//     "Revoke Existing OAuth Refresh Tokens" (Feature Configuration Guide
//     for Cisco Unified CM, Cisco Jabber chapter; Security Guide 15).
//   - Keys: "set key regen authz signing" (asymmetric, RSA) and "set key
//     regen authz encryption" (symmetric) on the publisher's CLI, each
//     answered with "yes"; afterwards "the current access and refresh
//     tokens that use these keys become invalid", the Cisco XCP
//     Authentication Service must be restarted on all IM and Presence nodes
//     for Jabber OAuth login to work, other UC clusters sharing the keys
//     (IM and Presence central cluster, Expressway, Unity Connection) need
//     the same, and the guide asks for a restart of the Cisco CallManager
//     service on all nodes (same guides, "Regenerate Keys for OAuth Refresh
//     Logins"). The signing key can also be regenerated in Cisco Unified OS
//     Administration (AUTHZ certificate).
//   - The CLI prompt is "admin:" (Cisco TAC documents show "admin:run sql
//     ...").
//   - AXL getUser (AXLAPI.wsdl and AXLSoap.xsd, schema 12.5 to 15): a POST
//     to /axl/ with SOAPAction "CUCM:DB ver=12.5 getUser"; an unknown user
//     is a SOAP fault, HTTP 500, axlcode 5007 "Item not valid: The
//     specified User was not found" (answers quoted from Unified CM 9.1
//     and 10.5 on Cisco's community forum; the code is in AXL's error
//     list).
//   - Enterprise parameters "OAuth Access Token Expiry Timer" (minutes,
//     1–1440, default 60) and "OAuth Refresh Token Expiry Timer" (days,
//     default 60) under System > Enterprise Parameters (SSO and OAuth
//     Configuration); changing the refresh timer makes every refresh token
//     issued before invalid (Webex for Cisco BroadWorks / Unified CM
//     docs). The enterprise parameters live on the processNode
//     "EnterpriseWideData" under the service "Enterprise Wide" for AXL
//     getServiceParameter (public AXL client code).
//
// # What stays unconfirmed
//
//   - The response of the revoke call is taken from the project's seed
//     documents: {"revoked_tokens":{"status":"success","user_id":...,
//     "clientID_tokens":[{"client_id","refresh_token"}]}}; the optional
//     client_id parameter likewise. How an unknown user is answered is not
//     documented: a JSON 404, or a status other than "success" whose text
//     says "not found", is reported as "user not found"; any other status
//     is an error quoting the vendor's text with token-like values blanked.
//     An empty success is checked with AXL getUser (see axl.go): a user
//     AXL does not know is "user not found", one it knows is "nothing to
//     revoke", and a check that fails fails the user.
//     The refresh tokens in the answer are counted per client and dropped.
//   - The internal AXL names of the two timer parameters: without them the
//     timers are reported as unknown and cannot be set here (see
//     UnsupportedExpiry). The refresh timer's range differs between
//     releases (1–90 and 1–365 days are both documented).
//   - The text of the CLI's confirmation question (matched loosely: yes/no,
//     y/n, continue, proceed), of its success and failure messages, and the
//     output of "show key authz signing|encryption": the raw lines are kept,
//     cleaned, and a key id is taken from a labelled line (key id, kid,
//     serial, fingerprint, thumbprint) when there is one.
//   - "utils service restart Cisco XCP Authentication Service" is the
//     platform CLI's generic service restart applied to that service.
//   - Cisco Unified CM publishes no JWKS, so there is nothing to poll after
//     a rotation.
package ciscoucm

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name.
const Name = "cisco-ucm"

const (
	defaultHTTPSPort  = "8443"
	defaultSSHPort    = "22"
	defaultCLITimeout = 10 * time.Minute
)

// Provider is the Cisco Unified CM adapter.
type Provider struct {
	// Client is the base for the REST API; with only SSH configured it
	// has no Base and needHTTP keeps every HTTP path from using it.
	*provider.Client
	env  *provider.Env
	base string // https://host:8443, or "" when only SSH is configured
	host string // the UCM host name, for SSH defaults
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyRotator       = (*Provider)(nil)
)

// New builds the adapter from the admin url or the "host" setting.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil || env.HTTP == nil {
		return nil, errs.New(errs.KindUsage, "cisco-ucm: the adapter needs an HTTP client")
	}
	p := &Provider{env: env}
	switch {
	case env.BaseURL != "":
		u, err := url.Parse(env.BaseURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, errs.New(errs.KindUsage, "cisco-ucm: the admin url %q is not an http(s) URL", env.BaseURL)
		}
		p.base, p.host = u.Scheme+"://"+u.Host, u.Hostname()
	case env.Setting("host", "") != "":
		h := env.Setting("host", "")
		if strings.Contains(h, "/") {
			return nil, errs.New(errs.KindUsage, "cisco-ucm: the host setting %q should be a host name, optionally with a port", h)
		}
		hostOnly, port := splitHostPort(h, defaultHTTPSPort)
		p.base, p.host = "https://"+net.JoinHostPort(hostOnly, port), hostOnly
	case env.Setting("ssh_host", "") != "":
		p.host, _ = splitHostPort(env.Setting("ssh_host", ""), defaultSSHPort)
	default:
		return nil, errs.New(errs.KindUsage, "cisco-ucm: set the admin url (https://ucm.example.com:8443) or the admin setting host")
	}
	opts := provider.ClientOptions{
		Decode: decodeError,
		// One try and four retries, as every admin call had before the base.
		MaxAttempts: 5,
	}
	if p.base == "" {
		p.Client = &provider.Client{Vendor: Name, Env: env, ClientOptions: opts}
		return p, nil
	}
	c, err := provider.NewClient(env, Name, p.base, opts)
	if err != nil {
		return nil, err
	}
	p.Client = c
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// splitHostPort accepts "host", "host:port", "[v6]" and "[v6]:port".
func splitHostPort(s, defPort string) (string, string) {
	if h, port, err := net.SplitHostPort(s); err == nil {
		return h, port
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), defPort
}

func (p *Provider) needHTTP(op string) error {
	if p.base == "" {
		return errs.New(errs.KindUsage, "cisco-ucm: %s needs the admin url or the admin setting host", op)
	}
	return nil
}

// sshTarget is one platform CLI to log in to.
type sshTarget struct {
	addr       string // host:port
	user       string
	password   string
	pin        string // SHA256 fingerprint, "" to use known_hosts
	knownHosts string
	timeout    time.Duration // per command
}

func (t sshTarget) label() string { return t.user + "@" + t.addr }

// publisher builds the SSH target of the publisher from the settings.
func (p *Provider) publisher() (sshTarget, error) {
	t, err := p.sshCommon()
	if err != nil {
		return t, err
	}
	h := p.env.Setting("ssh_host", p.host)
	if h == "" {
		return t, errs.New(errs.KindUsage, "cisco-ucm: set the admin setting ssh_host (the publisher) for the platform CLI")
	}
	host, port := splitHostPort(h, defaultSSHPort)
	t.addr = net.JoinHostPort(host, port)
	t.pin = p.env.Setting("ssh_host_key_sha256", "")
	if t.pin != "" && !strings.HasPrefix(t.pin, "SHA256:") {
		return t, errs.New(errs.KindUsage, "cisco-ucm: ssh_host_key_sha256 must be a SHA256 fingerprint as ssh-keygen -lf prints it (SHA256:...)")
	}
	return t, nil
}

// impNodes lists the IM and Presence nodes as SSH targets.
func (p *Provider) impNodes() ([]sshTarget, error) {
	raw := p.env.Setting("imp_nodes", "")
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	common, err := p.sshCommon()
	if err != nil {
		return nil, err
	}
	var out []sshTarget
	for _, n := range strings.Split(raw, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		host, port := splitHostPort(n, defaultSSHPort)
		t := common
		t.addr = net.JoinHostPort(host, port)
		out = append(out, t)
	}
	return out, nil
}

func (p *Provider) sshCommon() (sshTarget, error) {
	var t sshTarget
	if auth := p.env.Setting("ssh_auth", "password"); auth != "password" {
		return t, errs.New(errs.KindUsage, "cisco-ucm: ssh_auth %q is not supported: the platform CLI takes the admin secret as its password (ssh_auth: password)", auth)
	}
	def := ""
	if p.env.Auth != nil {
		// Loaded on first use (environment, file or credential store);
		// nothing here is cancelled midway.
		secret, err := p.env.Auth.SecretValue(context.Background())
		if err != nil {
			return t, err
		}
		def, t.password = p.env.Auth.User, secret
	}
	t.user = p.env.Setting("ssh_user", def)
	if t.user == "" {
		return t, errs.New(errs.KindUsage, "cisco-ucm: set the admin setting ssh_user (the platform administrator)")
	}
	if t.password == "" {
		return t, errs.New(errs.KindUsage, "cisco-ucm: no password for the platform CLI: set IDPCTL_ADMIN_SECRET or IDPCTL_ADMIN_SECRET_FILE, or store the admin secret in the profile")
	}
	t.knownHosts = p.env.Setting("ssh_known_hosts", "")
	if t.knownHosts == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return t, errs.New(errs.KindUsage, "cisco-ucm: no home directory for ~/.ssh/known_hosts: set ssh_known_hosts or ssh_host_key_sha256")
		}
		t.knownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	t.timeout = defaultCLITimeout
	if v := p.env.Setting("ssh_timeout", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return t, errs.New(errs.KindUsage, "cisco-ucm: ssh_timeout %q is not a positive duration such as 10m", v)
		}
		t.timeout = d
	}
	return t, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
