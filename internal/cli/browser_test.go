package cli

import (
	"strings"
	"testing"
)

func TestChildEnvDropsEverySecretLookingVariable(t *testing.T) {
	in := []string{
		"IDPCTL_CLIENT_SECRET=s", "IDPCTL_ADMIN_SECRET=s", "IDPCTL_KEYRING_PASSWORD=p", "IDPCTL_ACCESS_TOKEN=t",
		"GITHUB_TOKEN=t", "AWS_SECRET_ACCESS_KEY=k", "OPENAI_API_KEY=k", "idpctl_client_secret=s",
		"MY_PRIVATE_KEY=k", "IDPCTL_CLIENT_ASSERTION=a", "DB_PASSWD=p",
		"PATH=/usr/bin", "HOME=/home/u", "DISPLAY=:0", "XAUTHORITY=/x", "IDPCTL_PROFILE=p", "LANG=C.UTF-8", "EMPTY=",
	}
	got := ChildEnv(in)
	want := []string{"PATH=/usr/bin", "HOME=/home/u", "DISPLAY=:0", "XAUTHORITY=/x", "IDPCTL_PROFILE=p", "LANG=C.UTF-8", "EMPTY="}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
