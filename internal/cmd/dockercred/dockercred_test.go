package dockercred

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
)

func TestReportSpeaksTheProtocolForAnUnknownRegistry(t *testing.T) {
	var out bytes.Buffer
	if code := Report(&out, errNotFound); code != 1 || out.String() != "credentials not found in native keychain\n" {
		t.Fatalf("Report = %d %q", code, out.String())
	}
	out.Reset()
	if code := Report(&out, errs.New(errs.KindLoginRequired, "no token")); code != 3 || out.String() != "no token\n" {
		t.Fatalf("Report = %d %q", code, out.String())
	}
}

func TestGetMapsTheServerURLToItsProfile(t *testing.T) {
	ios, in, out, _ := iostreams.Test()
	in.WriteString("https://registry.example.com/\n")
	var asked string
	opts := &Options{
		IO: ios,
		Config: func() (*config.Config, string, error) {
			return &config.Config{
				Profiles:         map[string]*config.Profile{"corp": {}},
				DockerRegistries: map[string]config.DockerRegistry{"registry.example.com": {Profile: "corp"}},
			}, "config.yaml", nil
		},
		Profile: func(name string) (*config.Resolved, error) { asked = name; return &config.Resolved{Name: name}, nil },
		Token: func(context.Context, *config.Resolved) (*credstore.AccessToken, error) {
			return &credstore.AccessToken{AccessToken: "tok"}, nil
		},
	}
	if err := getRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := `{"ServerURL":"https://registry.example.com/","Username":"oauth2accesstoken","Secret":"tok"}`
	if asked != "corp" || strings.TrimSpace(out.String()) != want {
		t.Fatalf("profile %q, answer %s", asked, out.String())
	}
}
