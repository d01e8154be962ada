package cli

import (
	"strings"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/tokens"
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
	if p.InFile || hasSecretSource(p) || tokens.HasClientAssertion(p) {
		// A federated client assertion (a CI ID token) is the credential.
		return nil
	}
	method := p.ClientAuthMethod
	if strings.HasPrefix(method, "client_secret") {
		return missingSecret(p, method)
	}
	if flow == tokens.FlowClientCredentials && method == "" && p.PrivateKeyFile == "" && p.ClientCertFile == "" {
		return tokens.MissingClientCredential(p)
	}
	return nil
}

func missingSecret(p *config.Resolved, method string) error {
	return errs.New(errs.KindUsage, "%s needs the client secret, and none is set: set IDPCTL_CLIENT_SECRET_FILE (or --client-secret-file, or IDPCTL_CLIENT_SECRET), or store it with 'idpctl profile add %s --client-secret-stdin'", method, p.Name)
}
