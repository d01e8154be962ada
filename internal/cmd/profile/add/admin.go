package add

import (
	"context"
	"fmt"
	"strings"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider/registry"
)

// secretWords mark an --admin key meant to carry a credential. The
// configuration file is no place for one, and neither is argv: the value
// is already in the shell history and the process list.
var secretWords = []string{"secret", "password", "passwd", "pwd", "api_token", "apitoken", "api_key", "apikey", "private_key", "credential"}

// looksSecret reports whether an admin key names a credential. "token" on
// its own or as a suffix (access_token, ssws_token) counts; token_url does
// not.
func looksSecret(k string) bool {
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return k == "token" || k == "key" || strings.HasSuffix(k, "_token") || strings.HasSuffix(k, "_key")
}

// checkProvider refuses a provider name no adapter answers to, now rather
// than at the first admin command.
func checkProvider(name string) error {
	if !registry.Known(name) {
		return errs.New(errs.KindUsage, "unknown provider %q: choose one of %s; nothing was written", name, strings.Join(registry.Names(), ", "))
	}
	return nil
}

// checkAdminKey refuses a secret-looking key and a key the provider does
// not read, listing the valid ones. The value is never repeated.
func checkAdminKey(providerName, k string) error {
	if looksSecret(k) {
		return errs.New(errs.KindUsage, "--admin %s=...: admin credentials do not go on the command line or in the configuration file; nothing was written. Give it with --admin-secret-stdin or --admin-prompt (kept in the credential store), or IDPCTL_ADMIN_SECRET_FILE; the value was on the command line, so replace it if it was real", k)
	}
	valid := registry.AdminSettings(providerName)
	for _, v := range valid {
		if v == k {
			return nil
		}
	}
	name := providerName
	if name == "" {
		name = "generic"
	}
	if len(valid) == 0 {
		return errs.New(errs.KindUsage, "--admin %s: provider %s has no admin API settings; set --provider to one of %s; nothing was written", k, name, strings.Join(registry.Names(), ", "))
	}
	return errs.New(errs.KindUsage, "--admin %s: unknown admin setting for provider %s; valid settings are %s; nothing was written", k, name, strings.Join(valid, ", "))
}

// redactedAdminArg shows a malformed --admin argument without its value.
func redactedAdminArg(kv string) string {
	if k, _, ok := strings.Cut(kv, "="); ok {
		return k + "=..."
	}
	if len(kv) > 3 {
		return kv[:3] + "..."
	}
	return kv
}

// readAdminSecret reads the admin API credential from stdin or a prompt,
// never from an argument, where the process list would show it.
func (opts *AddOptions) readAdminSecret() (string, error) {
	if opts.AdminSecretStdin && opts.AdminPrompt {
		return "", errs.New(errs.KindUsage, "give the admin credential one way only: --admin-secret-stdin or --admin-prompt")
	}
	if opts.AdminSecretStdin && opts.SecretStdin {
		return "", errs.New(errs.KindUsage, "stdin can carry one secret only: use --admin-secret-stdin and --prompt-secret, or run profile add twice with --overwrite")
	}
	var s string
	switch {
	case opts.AdminSecretStdin:
		raw, err := opts.IO.ReadAllIn(64 << 10)
		if err != nil {
			return "", errs.New(errs.KindUsage, "reading the admin credential from stdin: %w", err)
		}
		s = strings.TrimRight(string(raw), "\r\n")
	case opts.AdminPrompt:
		var err error
		s, err = opts.IO.ReadSecret("Admin credential: ")
		if err != nil {
			return "", errs.New(errs.KindUsage, "--admin-prompt needs a terminal; use --admin-secret-stdin in scripts")
		}
	default:
		return "", nil
	}
	if s == "" {
		return "", errs.New(errs.KindUsage, "the admin credential is empty")
	}
	return s, nil
}

// storeAdminSecret keeps the admin credential in the credential store,
// before the profile is written, like the client secret.
func (opts *AddOptions) storeAdminSecret(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	f := opts.Factory
	f.Flags.Profile = opts.Name
	store, err := f.Store()
	if err != nil {
		return err
	}
	if err := store.Set(ctx, opts.Name, credstore.KindAdminCredential, []byte(secret)); err != nil {
		return fmt.Errorf("storing the admin credential: %w", err)
	}
	return nil
}
