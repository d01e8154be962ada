package get

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/generic"
)

type oneApp struct{ provider.AppExpiryManager }

func (oneApp) Name() string { return "keycloak" }
func (oneApp) GetExpiry(_ context.Context, app string) (*provider.Lifetimes, error) {
	return &provider.Lifetimes{
		App:          app,
		AccessToken:  provider.Lifetime{Value: 5 * time.Minute, Known: true, Source: provider.SourceInherited, From: "realm corp", Native: "300 seconds"},
		RefreshToken: provider.Lifetime{Value: 10 * time.Hour, Known: true, Source: provider.SourceApp, Native: "36000 seconds"},
		RefreshIdle:  provider.Lifetime{Unlimited: true, Known: true, Source: provider.SourceApp},
		Notes:        []string{"offline sessions follow the realm"},
	}, nil
}

func run(t *testing.T, p provider.Provider, output string) (string, error) {
	ios, _, out, _ := iostreams.Test()
	err := getRun(context.Background(), &GetOptions{IO: ios, App: "web", Output: output,
		Provider: func(context.Context) (provider.Provider, *config.Resolved, error) {
			return p, &config.Resolved{Name: "p"}, nil
		}})
	return out.String(), err
}

func TestTheTableShowsHumanAndNativeUnitsAndTheSource(t *testing.T) {
	out, err := run(t, oneApp{}, "table")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"access token", "5m", "300 seconds", "inherited from realm corp", "10h", "unlimited", "unknown", "note: offline sessions follow the realm"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONGivesSecondsAndAHumanString(t *testing.T) {
	out, err := run(t, oneApp{}, "json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	doc := map[string]map[string]any{}
	for k, v := range raw {
		var m map[string]any
		if json.Unmarshal(v, &m) == nil {
			doc[k] = m
		}
	}
	at := doc["access_token"]
	if at["seconds"] != float64(300) || at["human"] != "5m" || at["source"] != "inherited" || at["from"] != "realm corp" {
		t.Fatalf("access_token %v", at)
	}
	if doc["refresh_token_idle"]["seconds"] != nil || doc["refresh_token_idle"]["unlimited"] != true {
		t.Fatalf("refresh_token_idle %v", doc["refresh_token_idle"])
	}
}

func TestTheGenericProviderExits7(t *testing.T) {
	p, _ := generic.New(nil)
	_, err := run(t, p, "table")
	if cli.ExitCode(err) != cli.ExitUnsupported {
		t.Fatalf("err %v", err)
	}
}
