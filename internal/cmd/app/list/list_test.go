package list

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/generic"
)

type apps struct{ provider.AppExpiryManager }

func (apps) Name() string { return "fake" }
func (apps) ListApps(context.Context) ([]provider.App, error) {
	return []provider.App{{ID: "0oa1", ClientID: "payroll", Name: "Payroll"}, {ID: "0oa2"}}, nil
}

func run(p provider.Provider, output string) (string, error) {
	ios, _, out, _ := iostreams.Test()
	err := listRun(context.Background(), &ListOptions{IO: ios, Output: output,
		Provider: func(context.Context) (provider.Provider, *config.Resolved, error) { return p, &config.Resolved{}, nil }})
	return out.String(), err
}

func TestAppsAreListedAsATableOrJSON(t *testing.T) {
	out, err := run(apps{}, "table")
	if err != nil || !strings.Contains(out, "0oa1  payroll    Payroll") || !strings.Contains(out, "0oa2  -") {
		t.Fatalf("table %q, %v", out, err)
	}
	out, err = run(apps{}, "json")
	var got []provider.App
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || len(got) != 2 || got[0].ClientID != "payroll" {
		t.Fatalf("json %q, %v", out, err)
	}
	p, _ := generic.New(nil)
	if _, err := run(p, "table"); cli.ExitCode(err) != cli.ExitUnsupported {
		t.Fatalf("generic: %v", err)
	}
}
