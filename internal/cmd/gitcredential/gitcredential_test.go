package gitcredential

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
)

func TestParseStopsAtTheBlankLineAndKeepsRepeatedKeys(t *testing.T) {
	a, err := Parse(strings.NewReader("protocol=https\nhost=git.example.com\nwwwauth[]=Basic realm=\"x\"\nwwwauth[]=Bearer\nnoise\npassword=a=b\n\nusername=after\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Get("host") != "git.example.com" || a.Get("password") != "a=b" || len(a["wwwauth[]"]) != 2 || a.Get("username") != "" {
		t.Fatalf("attrs %v", a)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("protocol=https\nhost=h\n\n")
	f.Add("=\n=x\nk=\n")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for k, vs := range a {
			if k == "" || strings.Contains(k, "\n") {
				t.Fatalf("bad key %q", k)
			}
			for _, v := range vs {
				if strings.Contains(v, "\n") {
					t.Fatalf("value with a newline %q", v)
				}
			}
		}
	})
}

func runWith(t *testing.T, action, stdin string, tok *credstore.AccessToken) (string, error) {
	ios, in, out, _ := iostreams.Test()
	in.WriteString(stdin)
	opts := &Options{
		IO: ios, Action: action,
		Profile: func() (*config.Resolved, error) { return &config.Resolved{Name: "p"}, nil },
		Token:   func(context.Context, *config.Resolved) (*credstore.AccessToken, error) { return tok, nil },
		Forget: func(context.Context, *config.Resolved, string) (bool, error) {
			t.Fatal("forget called")
			return false, nil
		},
	}
	err := run(context.Background(), opts)
	return out.String(), err
}

func TestGetAnswersWithTheTokenAndItsExpiry(t *testing.T) {
	tok := &credstore.AccessToken{AccessToken: "tok", ExpiresAt: time.Unix(1_900_000_000, 0)}
	out, err := runWith(t, "get", "protocol=https\nhost=h\n\n", tok)
	if err != nil || out != "username=oauth2\npassword=tok\npassword_expiry_utc=1900000000\n" {
		t.Fatalf("get = %q, %v", out, err)
	}
	out, err = runWith(t, "get", "protocol=http\nhost=example.com:80\n\n", tok)
	if !errs.Is(err, errs.KindUsage) || out != "" {
		t.Fatalf("plain http to a remote host = %q, %v", out, err)
	}
	out, err = runWith(t, "get", "protocol=http\nhost=[::1]:8080\n\n", &credstore.AccessToken{AccessToken: "tok"})
	if err != nil || out != "username=oauth2\npassword=tok\n" {
		t.Fatalf("loopback without expiry = %q, %v", out, err)
	}
}
