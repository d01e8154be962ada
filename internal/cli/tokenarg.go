package cli

import "github.com/idpctl/idpctl/internal/errs"

// ArgTokenWarning is said whenever a token comes as a command-line
// argument: argv is readable by every user of the machine (ps,
// /proc/PID/cmdline) and lands in shell history.
const ArgTokenWarning = "warning: a token given as an argument is visible in the process list (ps, /proc) and in shell history; pass - and the token on stdin, or --token-file FILE"

// ReadTokenFile reads a token from a file, or stdin for "-".
func (f *Factory) ReadTokenFile(path string) (string, error) {
	return f.readSecretFile(path, "token")
}

// CheckTokenInput refuses a token given both ways.
func CheckTokenInput(arg, file string) error {
	if arg != "" && file != "" {
		return errs.New(errs.KindUsage, "give the token as - or --token-file, not both")
	}
	return nil
}
