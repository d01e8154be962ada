package cli

import (
	"strings"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// CheckClientConfig refuses a profile that names no IdP or no client before
// anything else is touched: a missing setting is a usage error (exit 2)
// and must not surface as a credential store (6) or login (3) failure.
func CheckClientConfig(p *config.Resolved) error {
	if p.Issuer == "" && p.Endpoints.Token == "" {
		return errs.New(errs.KindUsage, "profile %q has no issuer: set one with 'idpctl profile add %s --issuer URL', --issuer or IDPCTL_ISSUER", p.Name, p.Name)
	}
	if p.ClientID == "" {
		return errs.New(errs.KindUsage, "profile %q has no client id: set --client-id or IDPCTL_CLIENT_ID", p.Name)
	}
	return nil
}

// hasSecretSource tells whether a client secret is configured somewhere
// other than the credential store.
func hasSecretSource(p *config.Resolved) bool {
	return p.ClientSecretFile != "" || p.ClientSecretFromEnv != ""
}

// MissingCredential names the client credential a flow needs and the
// profile cannot have, when that is known without the credential store:
// a profile that is not in the configuration file has no stored secret.
// Profiles in the file are checked when the client is built, once the
// store has been read.
func MissingCredential(p *config.Resolved, flow string) error {
	if p.InFile || hasSecretSource(p) || HasClientAssertion(p) {
		// A federated client assertion (a CI ID token) is the credential.
		return nil
	}
	method := p.ClientAuthMethod
	if strings.HasPrefix(method, "client_secret") {
		return missingSecret(p, method)
	}
	if flow == FlowClientCredentials && method == "" && p.PrivateKeyFile == "" && p.ClientCertFile == "" {
		return missingClientCredential(p)
	}
	return nil
}

func missingSecret(p *config.Resolved, method string) error {
	return errs.New(errs.KindUsage, "%s needs the client secret, and none is set: set IDPCTL_CLIENT_SECRET_FILE (or --client-secret-file, or IDPCTL_CLIENT_SECRET), or store it with 'idpctl profile add %s --client-secret-stdin'", method, p.Name)
}

// missingClientCredential: RFC 6749 §4.4 allows the client credentials
// grant to confidential clients only; sending it without a credential
// would only earn an invalid_client.
func missingClientCredential(p *config.Resolved) error {
	return errs.New(errs.KindUsage, "the client-credentials flow needs a client credential, and profile %q has none: set IDPCTL_CLIENT_SECRET_FILE (or --client-secret-file, or IDPCTL_CLIENT_SECRET), --private-key-file, --client-cert-file or --client-assertion-file (or --client-assertion-source), or store a secret with 'idpctl profile add %s --client-secret-stdin'", p.Name, p.Name)
}

// checkGrantCredential is the same rule once the client is built and the
// stored secret, if any, has been read.
func checkGrantCredential(c *oauth.Client, p *config.Resolved, flow string) error {
	if flow == FlowClientCredentials && p.ClientAuthMethod == "" && !HasClientAssertion(p) && c.Auth != nil && c.Auth.Method() == oauth.AuthNone {
		return missingClientCredential(p)
	}
	return nil
}
