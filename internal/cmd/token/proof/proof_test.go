package proof

import (
	"context"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
)

func TestProofNeedsAMethodAndAnAbsoluteURL(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cli.Factory{IOStreams: ios, Flags: &cli.GlobalFlags{}}
	var got *ProofOptions
	cmd := NewCmdProof(f, func(_ context.Context, o *ProofOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--method", "get", "--url", "https://rs.example/a?b=c", "--nonce", "n"})
	if err := cmd.Execute(); err != nil || got.Method != "get" || got.URL != "https://rs.example/a?b=c" || got.Nonce != "n" {
		t.Fatalf("flags: %+v %v", got, err)
	}
	for _, tc := range []struct{ method, url, want string }{
		{"G ET", "https://rs.example/", "method"},
		{"", "https://rs.example/", "method"},
		{"GET", "/relative", "--url"},
		{"GET", "ftp://rs.example/", "--url"},
	} {
		err := proofRun(context.Background(), &ProofOptions{IO: ios, Factory: f, Method: tc.method, URL: tc.url})
		if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: err = %v, want a usage error naming %s", tc.method, tc.url, err, tc.want)
		}
	}
}
