// Package gitcredential implements `idpctl git-credential`, a git
// credential helper (gitcredentials(7), git-credential(1) "Input/Output
// Format") that answers with an access token of a profile.
package gitcredential

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/iostreams"
)

// DefaultUsername is sent when neither git nor --username names one. Git
// hosts that take OAuth tokens as passwords ignore the name or expect
// this one (GitLab: "oauth2").
const DefaultUsername = "oauth2"

// maxInput bounds what git may send: a handful of short attributes.
const maxInput = 64 << 10

// Options are the inputs of git-credential.
type Options struct {
	IO       *iostreams.IOStreams
	Action   string
	Username string
	Profile  func() (*config.Resolved, error)
	Token    func(ctx context.Context, p *config.Resolved) (*credstore.AccessToken, error)
	Forget   func(ctx context.Context, p *config.Resolved, rejected string) (bool, error)
}

// NewCmdGitCredential builds the command; runF replaces the run function in tests.
func NewCmdGitCredential(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Profile: f.Profile, Token: f.HelperToken, Forget: f.ForgetAccessToken}
	cmd := &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "Git credential helper answering with an access token",
		Long: `A git credential helper: git runs it with get, store or erase and writes
key=value lines on stdin, ending with a blank line.

get answers with username, password (an access token of the profile, from
the cache, refreshed or newly obtained as 'token get' would) and
password_expiry_utc (the token's expiry, in Unix seconds). store is
accepted and ignored: the token is idpctl's own, not git's. erase, which git
runs when the server rejected the token, forgets the cached access token so
the next get obtains a new one.

A token is never handed out for plain http to a host other than loopback.
Other actions are ignored, as git expects of helpers.`,
		Example: `  # Use the corp profile for one host only
  git config --global credential.https://git.example.com.helper '!idpctl git-credential --profile corp'

  # GitHub expects x-access-token as the user name for token passwords
  git config --global credential.https://github.example.com.helper '!idpctl git-credential --profile gh --username x-access-token'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Action = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Username, "username", "", "user name to answer with (default: the one git asked for, else "+DefaultUsername+")")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	switch opts.Action {
	case "get", "store", "erase":
	default:
		// gitcredentials(7): a helper must ignore operations it does not know.
		return nil
	}
	attrs, err := Parse(opts.IO.In)
	if err != nil {
		return err
	}
	switch opts.Action {
	case "store":
		return nil
	case "erase":
		p, err := opts.Profile()
		if err != nil {
			return err
		}
		_, err = opts.Forget(ctx, p, attrs.Get("password"))
		return err
	}
	if err := checkTransport(attrs); err != nil {
		return err
	}
	p, err := opts.Profile()
	if err != nil {
		return err
	}
	at, err := opts.Token(ctx, p)
	if err != nil {
		return err
	}
	user := opts.Username
	if user == "" {
		user = attrs.Get("username")
	}
	if user == "" {
		user = DefaultUsername
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "username=%s\npassword=%s\n", user, at.AccessToken)
	if !at.ExpiresAt.IsZero() {
		// git 2.41+ drops a credential past this time instead of sending it.
		fmt.Fprintf(&b, "password_expiry_utc=%s\n", strconv.FormatInt(at.ExpiresAt.Unix(), 10))
	}
	_, err = opts.IO.Out.Write(b.Bytes())
	return err
}

// checkTransport refuses to hand a token to a remote host over plain http,
// where anyone on the path could read it; loopback is fine.
func checkTransport(a Attrs) error {
	if a.Get("protocol") != "http" {
		return nil
	}
	host := a.Get("host")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if httpx.IsLoopbackHost(host) {
		return nil
	}
	return errs.New(errs.KindUsage, "refusing to send a token over plain http to %s: use https", a.Get("host"))
}

// Attrs are the attributes git sent; a key may repeat (capability[], wwwauth[]).
type Attrs map[string][]string

// Get returns the last value of key, as git itself does for single-valued keys.
func (a Attrs) Get(key string) string {
	v := a[key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// Parse reads key=value lines until a blank line or the end of input
// (git-credential(1) "Input/Output Format"). A line without '=' is
// ignored, as git's own reader does.
func Parse(r io.Reader) (Attrs, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxInput+1))
	sc.Buffer(make([]byte, 0, 4096), maxInput+1)
	attrs := Attrs{}
	n := 0
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		n += len(sc.Bytes()) + 1
		if n > maxInput {
			return nil, errs.New(errs.KindUsage, "git sent more than %d KiB of credential attributes", maxInput>>10)
		}
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			continue
		}
		attrs[k] = append(attrs[k], v)
	}
	if err := sc.Err(); err != nil {
		return nil, errs.New(errs.KindUsage, "reading the credential attributes from git: %w", err)
	}
	return attrs, nil
}
