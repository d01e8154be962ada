// Package dockercred implements docker-credential-idpctl, a docker
// credential helper (github.com/docker/docker-credential-helpers protocol:
// the verb in argv, the server URL or a JSON credential on stdin, JSON on
// stdout) that answers with an access token of the profile mapped to the
// registry in the configuration's docker_registries.
package dockercred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/redact"
)

// Name is the binary's name; docker finds it as docker-credential-<helper>.
const Name = "docker-credential-idpctl"

// ErrNotFoundMessage is the exact answer the protocol defines for a
// registry the helper has nothing for (credentials.NewErrCredentialsNotFound
// in docker-credential-helpers); docker matches on the text.
const ErrNotFoundMessage = "credentials not found in native keychain"

// errNotFound is reported with ErrNotFoundMessage on stdout and exit 1.
var errNotFound = errors.New(ErrNotFoundMessage)

// maxInput bounds stdin: a server URL or one small JSON document.
const maxInput = 64 << 10

// Credentials is the protocol's JSON credential (credentials.Credentials).
type Credentials struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// Options are what the verbs need; tests replace the functions.
type Options struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, string, error)
	// Profile resolves a named profile as --profile NAME would.
	Profile func(name string) (*config.Resolved, error)
	Token   func(ctx context.Context, p *config.Resolved) (*credstore.AccessToken, error)
	Forget  func(ctx context.Context, p *config.Resolved, rejected string) (bool, error)
}

// NewCmdDockerCredential builds the helper's command tree.
func NewCmdDockerCredential(f *cli.Factory) *cobra.Command {
	opts := &Options{
		IO:     f.IOStreams,
		Config: f.Config,
		Profile: func(name string) (*config.Resolved, error) {
			f.Flags.Profile = name
			return f.Profile()
		},
		Token:  f.HelperToken,
		Forget: f.ForgetAccessToken,
	}
	root := &cobra.Command{
		Use:   Name + " get|store|erase|list|version",
		Short: "Docker credential helper answering with an idpctl access token",
		Long: `A docker credential helper. Docker runs it with a verb and writes the
registry's server URL (get, erase) or a JSON credential (store) on stdin.

get answers {"ServerURL","Username","Secret"} with an access token of the
profile that the configuration's docker_registries maps the registry to, from
the cache, refreshed or newly obtained as 'idpctl token get' would. A registry
not in docker_registries answers "` + ErrNotFoundMessage + `" with
exit status 1, as the protocol defines. erase forgets the profile's cached
access token; store is accepted and ignored (the token is idpctl's, not
docker's); list prints {"registry": "username"} for every mapped registry.

The configuration file is idpctl's ($IDPCTL_CONFIG, else config.yaml under
$XDG_CONFIG_HOME/idpctl); see docs/credential-helpers.md.`,
		Example: `  # ~/.docker/config.json: use the helper for one registry
  {"credHelpers": {"registry.example.com": "idpctl"}}

  # idpctl's config.yaml: which profile answers for it
  docker_registries:
    registry.example.com: corp
    gar.example.com: {profile: gcp, username: oauth2accesstoken}

  # What docker does
  echo registry.example.com | docker-credential-idpctl get`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       cli.Version,
	}
	root.SetVersionTemplate(Name + " {{.Version}}\n")
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.CompletionOptions.HiddenDefaultCmd = true
	verb := func(use, short, long, example string, run func(context.Context, *Options) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Long: long, Example: example, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), opts) },
		}
	}
	root.AddCommand(
		verb("get", "Print the credential for the server URL read on stdin",
			`Read a registry's server URL on stdin and print {"ServerURL","Username","Secret"}
with an access token of the profile docker_registries maps it to. An unmapped
registry answers "`+ErrNotFoundMessage+`" with exit status 1.`,
			"  echo registry.example.com | "+Name+" get", getRun),
		verb("store", "Accept a credential on stdin and ignore it",
			`Read the JSON credential docker sends after 'docker login' and ignore it: the
password for a mapped registry is always a fresh token of its profile.`,
			`  echo '{"ServerURL":"registry.example.com","Username":"u","Secret":"s"}' | `+Name+" store", storeRun),
		verb("erase", "Forget the cached token of the registry read on stdin",
			`Read a registry's server URL on stdin and forget the cached access token of
its profile ('docker logout'); the next get obtains a new one.`,
			"  echo registry.example.com | "+Name+" erase", eraseRun),
		verb("list", "Print the mapped registries and their user names as JSON",
			`Print {"registry": "username"} for every registry in docker_registries.`,
			"  "+Name+" list", listRun),
		&cobra.Command{
			Use: "version", Short: "Print the version", Args: cobra.NoArgs,
			Long:    "Print the version of " + Name + ".",
			Example: "  " + Name + " version",
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintf(f.IOStreams.Out, "%s %s\n", Name, cli.Version)
				return err
			},
		},
	)
	return root
}

// Run runs the helper with args and returns the exit status. Errors go to
// stdout, where docker reads them (credentials.Serve), not to stderr.
func Run(args []string) int {
	ios := iostreams.System()
	f := cli.New(ios, os.Getenv, cli.Version)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := NewCmdDockerCredential(f)
	cmd.SetArgs(args)
	return Report(ios.Out, cmd.ExecuteContext(ctx))
}

// Report writes err as the protocol wants and returns the exit status:
// 1 for a registry the helper does not know, as docker-credential-helpers
// prescribes; otherwise idpctl's exit code for the error's kind.
func Report(out io.Writer, err error) int {
	if err == nil {
		return cli.ExitOK
	}
	if errors.Is(err, errNotFound) {
		fmt.Fprintln(out, ErrNotFoundMessage)
		return cli.ExitError
	}
	fmt.Fprintln(out, redact.Text(err.Error()))
	return cli.ExitCode(err)
}

// readServerURL reads the server URL docker writes on stdin.
func readServerURL(ios *iostreams.IOStreams) (string, error) {
	raw, err := ios.ReadAllIn(maxInput)
	if err != nil {
		return "", errs.New(errs.KindUsage, "reading the server URL from stdin: %w", err)
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "", errs.New(errs.KindUsage, "no server URL on stdin")
	}
	return s, nil
}

// lookup finds the registry's entry and resolves its profile.
func lookup(opts *Options, serverURL string) (config.DockerRegistry, *config.Resolved, error) {
	c, path, err := opts.Config()
	if err != nil {
		return config.DockerRegistry{}, nil, err
	}
	key, reg, ok := c.DockerRegistryFor(serverURL)
	if !ok {
		return reg, nil, errNotFound
	}
	if _, ok := c.Profiles[reg.Profile]; !ok || reg.Profile == "" {
		return reg, nil, errs.New(errs.KindUsage, "docker_registries in %s maps %s to profile %q, which does not exist", path, key, reg.Profile)
	}
	p, err := opts.Profile(reg.Profile)
	return reg, p, err
}

func getRun(ctx context.Context, opts *Options) error {
	serverURL, err := readServerURL(opts.IO)
	if err != nil {
		return err
	}
	reg, p, err := lookup(opts, serverURL)
	if err != nil {
		return err
	}
	at, err := opts.Token(ctx, p)
	if err != nil {
		return err
	}
	return json.NewEncoder(opts.IO.Out).Encode(Credentials{ServerURL: serverURL, Username: reg.User(), Secret: at.AccessToken})
}

func storeRun(_ context.Context, opts *Options) error {
	raw, err := opts.IO.ReadAllIn(maxInput)
	if err != nil {
		return errs.New(errs.KindUsage, "reading the credential from stdin: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(raw, &c); err != nil || strings.TrimSpace(c.ServerURL) == "" {
		// The message never quotes the input: it holds a secret.
		return errs.New(errs.KindUsage, "store expects a JSON credential with ServerURL, Username and Secret on stdin")
	}
	return nil
}

func eraseRun(ctx context.Context, opts *Options) error {
	serverURL, err := readServerURL(opts.IO)
	if err != nil {
		return err
	}
	_, p, err := lookup(opts, serverURL)
	if err != nil {
		return err
	}
	_, err = opts.Forget(ctx, p, "")
	return err
}

func listRun(_ context.Context, opts *Options) error {
	c, _, err := opts.Config()
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(c.DockerRegistries))
	for k := range c.DockerRegistries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = c.DockerRegistries[k].User()
	}
	return json.NewEncoder(opts.IO.Out).Encode(out)
}
