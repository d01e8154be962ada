package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
)

// Exit codes, documented in docs/exit-codes.md. Scripts branch on them, so
// a number never changes meaning.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitLoginRequired = 3
	ExitRefused       = 4
	ExitNetwork       = 5
	ExitStore         = 6
	ExitUnsupported   = 7
	ExitPartial       = 8
	ExitInterrupted   = 130
)

// ExitCode maps an error to the process exit code. It is the one place
// where kinds become numbers.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	switch errs.KindOf(err) {
	case errs.KindUsage:
		return ExitUsage
	case errs.KindLoginRequired:
		return ExitLoginRequired
	case errs.KindRefused:
		return ExitRefused
	case errs.KindNetwork:
		return ExitNetwork
	case errs.KindStore:
		return ExitStore
	case errs.KindUnsupported:
		return ExitUnsupported
	case errs.KindPartial:
		return ExitPartial
	case errs.KindInterrupted:
		return ExitInterrupted
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	if IsCobraUsageError(err) {
		return ExitUsage
	}
	return ExitError
}

// IsCobraUsageError recognises the errors cobra returns for a wrong command
// line, which carry no kind because cobra makes them.
func IsCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument", "required flag", "flag needs an argument", "accepts ", "requires at least", "requires at most", "if any flags in the group", "bad flag syntax"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// ExitCodes documents each code for help and docs.
var ExitCodes = []struct {
	Code    int
	Meaning string
}{
	{ExitOK, "success"},
	{ExitError, "an error not covered below; also token get --min-ttl D when even a new token lives less than D, token inspect when the token does not hold (bad signature, expired, inactive), and token revoke --user for a user the IdP does not know"},
	{ExitUsage, "wrong usage: unknown flag, bad argument, missing setting, invalid configuration"},
	{ExitLoginRequired, "login required: no usable credentials cached, or the IdP answered invalid_grant"},
	{ExitRefused, "the IdP refused: invalid_client, unauthorized_client, other OAuth errors, HTTP 401 or 403, an issuer mismatch"},
	{ExitNetwork, "network, TLS or timeout; also an answer that could not be read (HTML, truncated, too large) or a 5xx"},
	{ExitStore, "the credential store (keychain) cannot be used"},
	{ExitUnsupported, "this provider does not offer the operation"},
	{ExitPartial, "a bulk run finished with some items failed (users the IdP does not know count as failed)"},
	{ExitInterrupted, "interrupted (Ctrl-C)"},
}
