package tokens

import (
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

func TestTheDefaultFlowFollowsTheProfileThenItsClientCredential(t *testing.T) {
	for _, c := range []struct {
		name    string
		p       config.Profile
		haveCrd bool
		want    string
	}{
		{"the profile's own flow wins", config.Profile{Flow: FlowDevice, PrivateKeyFile: "/k.pem"}, true, FlowDevice},
		{"a client secret makes a confidential client", config.Profile{}, true, FlowClientCredentials},
		{"so does a private key", config.Profile{PrivateKeyFile: "/k.pem"}, false, FlowClientCredentials},
		{"so does a client certificate", config.Profile{ClientCertFile: "/c.pem"}, false, FlowClientCredentials},
		{"so does a client assertion file", config.Profile{ClientAssertionFile: "/a.jwt"}, false, FlowClientCredentials},
		{"so does a client assertion source", config.Profile{ClientAssertionSource: "github-actions"}, false, FlowClientCredentials},
		{"a public client logs in with the browser", config.Profile{}, false, FlowAuthCode},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := DefaultFlow(&config.Resolved{Profile: c.p}, c.haveCrd); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestOnlyTheKnownFlowsAreAccepted(t *testing.T) {
	for _, f := range Flows {
		if err := ValidateFlow(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{"", "password", "implicit", "Auth-Code"} {
		err := ValidateFlow(f)
		if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), strings.Join(Flows, ", ")) {
			t.Errorf("%q: err %v, want a usage error listing the flows", f, err)
		}
	}
}

func TestOnlyTheBrowserAndDeviceFlowsNeedAPerson(t *testing.T) {
	for _, f := range Flows {
		want := f == FlowAuthCode || f == FlowDevice
		if IsInteractive(f) != want {
			t.Errorf("%s: interactive %v", f, !want)
		}
	}
}

func TestPrepareGrantFillsWhatTheFlagsLeaveOpenFromTheProfile(t *testing.T) {
	p := &config.Resolved{Name: "p", Profile: config.Profile{Scopes: []string{"openid"}, Audience: "https://api", Resources: []string{"https://r"}}}
	g, err := PrepareGrant(p, GrantOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Flow != FlowAuthCode || strings.Join(g.Options.Scopes, " ") != "openid" || g.Options.Audience != "https://api" || len(g.Options.Resources) != 1 {
		t.Fatalf("%+v", g)
	}
	g, err = PrepareGrant(p, GrantOptions{Flow: FlowDevice, Options: oauth.TokenOptions{Audience: "https://other", Resources: []string{"https://a", "https://b"}}}, []string{"read write", "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if g.Flow != FlowDevice || strings.Join(g.Options.Scopes, " ") != "read write admin" || g.Options.Audience != "https://other" || len(g.Options.Resources) != 2 {
		t.Fatalf("flags should win: %+v", g)
	}
	if _, err := PrepareGrant(p, GrantOptions{Flow: "password"}, nil); !errs.Is(err, errs.KindUsage) {
		t.Fatalf("err %v", err)
	}
}

func TestADeclaredClientAuthMethodMakesTheDefaultClientCredentials(t *testing.T) {
	for _, c := range []struct {
		p    config.Profile
		want string
	}{
		{config.Profile{ClientAuthMethod: oauth.AuthSecretPost}, FlowClientCredentials},
		{config.Profile{ClientSecretFile: "/run/secret"}, FlowClientCredentials},
		{config.Profile{ClientAuthMethod: oauth.AuthNone}, FlowAuthCode},
	} {
		g, err := PrepareGrant(&config.Resolved{Profile: c.p}, GrantOptions{}, nil)
		if err != nil || g.Flow != c.want {
			t.Errorf("%+v: flow %s err %v, want %s", c.p, g.Flow, err, c.want)
		}
	}
}
