package cli

import (
	"strings"

	"github.com/idpctl/idpctl/internal/boundedfile"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// AuthorizationDetailsFlagUsage is the help of --authorization-details.
const AuthorizationDetailsFlagUsage = "RFC 9396 authorization details: a JSON array of objects with a \"type\", @FILE to read it from a file, or - for stdin"

// AuthorizationDetails reads and validates the value of
// --authorization-details: inline JSON, @FILE, or - for stdin. "" gives "".
func (f *Factory) AuthorizationDetails(arg string) (string, error) {
	if arg == "" {
		return "", nil
	}
	var raw []byte
	switch {
	case arg == "-":
		b, err := f.IOStreams.ReadAllIn(1 << 20)
		if err != nil {
			return "", errs.New(errs.KindUsage, "reading the authorization details from stdin: %w", err)
		}
		raw = b
	case strings.HasPrefix(arg, "@"):
		b, err := boundedfile.Read(strings.TrimPrefix(arg, "@"), boundedfile.Document, "the authorization details file")
		if err != nil {
			return "", err
		}
		raw = b
	default:
		raw = []byte(arg)
	}
	return oauth.ParseAuthorizationDetails(raw)
}
