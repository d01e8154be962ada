package audit

import (
	"os"
	"os/user"
)

// operator names the local account running idpctl, so an entry says who
// acted even when several people share a profile.
func operator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
