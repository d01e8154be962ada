// Package list implements `idpctl key list`.
package list

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
	"github.com/idpctl/idpctl/internal/ui"
)

// ListOptions are the inputs of key list.
type ListOptions struct {
	IO       *iostreams.IOStreams
	Provider func(context.Context) (provider.Provider, *config.Resolved, error)
	Output   string
}

// NewCmdList builds the command.
func NewCmdList(f *cli.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Provider: f.Provider}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the IdP's token signing and encryption keys (public facts only)",
		Long: `List the keys the IdP uses for tokens, as its admin API reports them: key id,
algorithm, use, status (active, next, passive, expired, disabled), when it
was created, and the key set it belongs to at the IdP (Hydra's JSON Web Key
Set, Keycloak's key provider component). Key material is never shown.`,
		Example: `  idpctl key list
  idpctl key list -o json | jq -r '.[] | select(.status=="active") | .kid'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	return cmd
}

// keyJSON is a key for scripts, with the creation time in RFC 3339 UTC.
type keyJSON struct {
	KID       string `json:"kid"`
	Algorithm string `json:"alg,omitempty"`
	Use       string `json:"use,omitempty"`
	Status    string `json:"status"`
	Created   string `json:"created,omitempty"`
	// KeySet is the key's set at the IdP (Hydra's JWK set, Keycloak's key
	// provider component).
	KeySet string `json:"key_set,omitempty"`
	// ProviderID is KeySet under the name earlier versions printed, kept
	// for scripts that read it.
	ProviderID string `json:"provider_id,omitempty"`
}

func listRun(ctx context.Context, opts *ListOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose table or json", opts.Output)
	}
	prov, _, err := opts.Provider(ctx)
	if err != nil {
		return err
	}
	kr, err := registry.KeyLister(prov)
	if err != nil {
		return err
	}
	keys, err := kr.ListKeys(ctx)
	if err != nil {
		return err
	}
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		out[i] = keyJSON{KID: k.KID, Algorithm: k.Algorithm, Use: k.Use, Status: k.Status, KeySet: k.KeySet, ProviderID: k.KeySet}
		if !k.Created.IsZero() {
			out[i].Created = k.Created.UTC().Format(time.RFC3339)
		}
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr()).Println("The IdP reports no keys.")
		return nil
	}
	rows := make([][]string, len(out))
	for i, k := range out {
		rows[i] = []string{k.KID, dash(k.Algorithm), dash(k.Use), k.Status, dash(k.Created), dash(k.KeySet)}
	}
	ui.ForStdout(opts.IO).Table([]string{"KID", "ALG", "USE", "STATUS", "CREATED", "KEY SET"}, rows)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
