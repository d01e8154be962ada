package ciscoucm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/ciscoucm/ucmfake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

const (
	cliUser     = "platformadmin"
	cliPassword = "cli-password-7c1e"
)

func newCLI(t *testing.T, cfg ucmfake.CLIConfig) *ucmfake.CLI {
	t.Helper()
	if cfg.User == "" {
		cfg.User, cfg.Password = cliUser, cliPassword
	}
	c, err := ucmfake.NewCLI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	providertest.Watch(t, c.Close, c.Errors)
	return c
}

// knownHosts writes a known_hosts file listing the given servers.
func knownHosts(t *testing.T, servers ...*ucmfake.CLI) string {
	t.Helper()
	var b strings.Builder
	for _, s := range servers {
		b.WriteString(s.KnownHostsLine() + "\n")
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sshProvider(t *testing.T, settings map[string]string, password string) *Provider {
	t.Helper()
	return providertest.Adapter[*Provider](t, New, &provider.Env{
		Settings: settings,
		HTTP:     providertest.HTTP(t, httpx.Options{}),
		Auth:     &provider.AdminAuth{Scheme: provider.AuthBasic, User: "axladmin", Secret: password},
	})
}

func rotate(t *testing.T, p *Provider, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, *provider.RotateResult, error) {
	t.Helper()
	plan, err := p.PlanRotate(context.Background(), use, opts)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	res, err := p.Rotate(context.Background(), plan)
	return plan, res, err
}

func TestRegeneratingTheSigningKeyRunsTheCLIProcedure(t *testing.T) {
	for _, auth := range []string{"password", "keyboard-interactive"} {
		t.Run(auth, func(t *testing.T) {
			pub := newCLI(t, ucmfake.CLIConfig{PasswordAuth: auth == "password", KeyboardInteractive: auth == "keyboard-interactive"})
			p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": knownHosts(t, pub)}, cliPassword)
			old := pub.KeyID("signing")

			plan, res, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.NewKID == "" || res.NewKID != pub.KeyID("signing") || res.NewKID == old {
				t.Errorf("new kid %q, server has %q, old %q", res.NewKID, pub.KeyID("signing"), old)
			}
			if len(res.Retired) != 1 || res.Retired[0] != old || res.JWKSURL != "" {
				t.Errorf("retired %v jwks %q", res.Retired, res.JWKSURL)
			}
			want := []string{"show key authz signing", "set key regen authz signing", "show key authz signing", "exit"}
			if got := pub.Commands(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("commands = %q, want %q", got, want)
			}
			if got := pub.Answers(); len(got) != 1 || got[0] != "yes" {
				t.Errorf("answers = %q", got)
			}
			if got := pub.Logins(); len(got) != 1 || got[0] != auth {
				t.Errorf("logins = %q", got)
			}
			notes := strings.Join(res.Notes, "\n")
			for _, part := range []string{"regenerated successfully", "before: Key ID : " + old, "after: Key ID : " + res.NewKID, "no JWKS", "restart the Cisco XCP Authentication Service"} {
				if !strings.Contains(notes, part) {
					t.Errorf("notes lack %q:\n%s", part, notes)
				}
			}
			cons := strings.Join(plan.Consequences, "\n")
			for _, part := range []string{"every access token signed with the current signing key becomes invalid", "must re-authenticate", "XCP Authentication Service must then be restarted on every IM and Presence node", "no JWKS"} {
				if !strings.Contains(cons, part) {
					t.Errorf("consequences lack %q:\n%s", part, cons)
				}
			}
			providertest.NoSecrets(t, []string{cliPassword}, notes, cons)
		})
	}
}

func TestRegeneratingTheEncryptionKey(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": knownHosts(t, pub)}, cliPassword)
	signing := pub.KeyID("signing")
	plan, res, err := rotate(t, p, provider.KeyEncryption, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewKID != pub.KeyID("encryption") || pub.KeyID("signing") != signing {
		t.Errorf("new kid %q; signing changed: %v", res.NewKID, pub.KeyID("signing") != signing)
	}
	if !strings.Contains(strings.Join(plan.Consequences, "\n"), "every access token encrypted with the current encryption key") {
		t.Errorf("consequences = %q", plan.Consequences)
	}
	if got := pub.Commands(); got[1] != "set key regen authz encryption" {
		t.Errorf("commands = %q", got)
	}
}

func TestPlanningARotationContactsNoServer(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": knownHosts(t, pub), "imp_nodes": "imp1.example.com, imp2.example.com:2222"}, cliPassword)
	plan, err := p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{RestartServices: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Calls) != 5 || plan.Calls[3].Path != cliUser+"@imp1.example.com:22 "+restartXCPAuth || plan.Calls[4].Path != cliUser+"@imp2.example.com:2222 "+restartXCPAuth {
		t.Errorf("calls = %v", plan.Calls)
	}
	if !strings.Contains(strings.Join(plan.Consequences, "\n"), "restarted on the IM and Presence nodes imp1.example.com:22, imp2.example.com:2222") {
		t.Errorf("consequences = %q", plan.Consequences)
	}
	if n := len(pub.Logins()) + len(pub.Commands()); n != 0 {
		t.Errorf("the plan talked to the server")
	}
}

func TestSSHSettingsAreCheckedWhenPlanning(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		password string
		opts     provider.RotateOptions
		use      provider.KeyUse
		kind     errs.Kind
		part     string
	}{
		{"key auth", map[string]string{"ssh_host": "ucm", "ssh_user": "a", "ssh_auth": "key"}, "pw", provider.RotateOptions{}, provider.KeySigning, errs.KindUsage, "ssh_auth"},
		{"bad timeout", map[string]string{"ssh_host": "ucm", "ssh_user": "a", "ssh_timeout": "soon"}, "pw", provider.RotateOptions{}, provider.KeySigning, errs.KindUsage, "ssh_timeout"},
		{"bad pin", map[string]string{"ssh_host": "ucm", "ssh_user": "a", "ssh_host_key_sha256": "ab:cd"}, "pw", provider.RotateOptions{}, provider.KeySigning, errs.KindUsage, "SHA256:"},
		{"no password", map[string]string{"ssh_host": "ucm", "ssh_user": "a"}, "", provider.RotateOptions{}, provider.KeySigning, errs.KindUsage, "no password"},
		{"restart without nodes", map[string]string{"ssh_host": "ucm", "ssh_user": "a"}, "pw", provider.RotateOptions{RestartServices: true}, provider.KeySigning, errs.KindUsage, "imp_nodes"},
		{"unknown key", map[string]string{"ssh_host": "ucm", "ssh_user": "a"}, "pw", provider.RotateOptions{}, provider.KeyUse("tls"), errs.KindUsage, "signing or encryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sshProvider(t, tt.settings, tt.password)
			_, err := p.PlanRotate(context.Background(), tt.use, tt.opts)
			providertest.WantKind(t, err, tt.kind, tt.part)
		})
	}
}

func TestAWrongPasswordIsRefused(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": knownHosts(t, pub)}, "not-the-password")
	_, _, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindRefused, "refused the SSH login")
	providertest.NoSecrets(t, []string{"not-the-password"}, err.Error())
	if len(pub.Commands()) != 0 {
		t.Error("commands ran without a login")
	}
}

func TestAnUnknownHostKeyIsRefusedWithItsFingerprint(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	other := newCLI(t, ucmfake.CLIConfig{})
	for name, path := range map[string]string{
		"no known_hosts file":        filepath.Join(t.TempDir(), "absent"),
		"host missing from the file": knownHosts(t, other),
	} {
		t.Run(name, func(t *testing.T) {
			p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": path}, cliPassword)
			_, _, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{})
			providertest.WantKind(t, err, errs.KindRefused, "")
			for _, part := range []string{"is not known", pub.Fingerprint(), "ssh_host_key_sha256: " + pub.Fingerprint(), "ssh-keyscan"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("the error lacks %q: %v", part, err)
				}
			}
		})
	}
	if len(pub.Logins()) != 0 {
		t.Error("the client logged in to an unknown host")
	}
}

func TestAChangedHostKeyIsRefused(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	impostor := newCLI(t, ucmfake.CLIConfig{HostKey: signer})
	// known_hosts lists the impostor's address with the real server's key.
	path := filepath.Join(t.TempDir(), "known_hosts")
	line := strings.Replace(pub.KnownHostsLine(), knownHostsName(pub.Addr), knownHostsName(impostor.Addr), 1)
	if err := os.WriteFile(path, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := sshProvider(t, map[string]string{"ssh_host": impostor.Addr, "ssh_user": cliUser, "ssh_known_hosts": path}, cliPassword)
	_, _, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{})
	if !errs.Is(err, errs.KindRefused) || !strings.Contains(err.Error(), "changed") || !strings.Contains(err.Error(), impostor.Fingerprint()) {
		t.Errorf("err = %v", err)
	}
	if len(impostor.Logins()) != 0 {
		t.Error("the client logged in to the impostor")
	}
}

func TestTheHostKeyTypeKnownHostsRecordsIsTheOneAskedFor(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, _ := ssh.NewSignerFromKey(rsaKey)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edSigner, _ := ssh.NewSignerFromKey(edKey)
	// The server has an RSA and an Ed25519 key; the SSH library asks for
	// RSA first by default, but known_hosts records only the Ed25519 one.
	pub := newCLI(t, ucmfake.CLIConfig{HostKey: rsaSigner, ExtraHostKeys: []ssh.Signer{edSigner}})
	path := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(pub.Addr)}, edSigner.PublicKey())
	if err := os.WriteFile(path, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": path}, cliPassword)
	if _, err := p.ListKeys(context.Background()); err != nil {
		t.Fatalf("the recorded Ed25519 key was not asked for: %v", err)
	}
}

func knownHostsName(addr string) string {
	host, port, _ := strings.Cut(addr, ":")
	return "[" + host + "]:" + port
}

func TestAPinnedFingerprintReplacesKnownHosts(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	absent := filepath.Join(t.TempDir(), "absent")
	p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": absent, "ssh_host_key_sha256": pub.Fingerprint()}, cliPassword)
	if _, res, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{}); err != nil || res.NewKID != pub.KeyID("signing") {
		t.Fatalf("res %+v err %v", res, err)
	}
	other := newCLI(t, ucmfake.CLIConfig{})
	p = sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": knownHosts(t, pub), "ssh_host_key_sha256": other.Fingerprint()}, cliPassword)
	_, _, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindRefused, "not the pinned "+other.Fingerprint())
}

func TestTheCLIRefusingToRegenerateIsAnError(t *testing.T) {
	tests := []struct {
		name string
		mode ucmfake.Regen
		kind errs.Kind
		part string
	}{
		{"cancelled", ucmfake.RegenCancelled, errs.KindRefused, "Operation cancelled: another certificate operation is in progress."},
		{"a CLI error", ucmfake.RegenFails, errs.KindRefused, "Executed command unsuccessfully / Error: unable to store the new authz signing key: keystore is locked"},
		{"no verdict and no change", ucmfake.RegenSilent, errs.KindUnknown, "cannot tell whether the signing key was regenerated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := newCLI(t, ucmfake.CLIConfig{})
			pub.SetRegen(tt.mode)
			old := pub.KeyID("signing")
			p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": knownHosts(t, pub)}, cliPassword)
			_, res, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{})
			if errs.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.part) {
				t.Errorf("err = %v (kind %v), result %+v", err, errs.KindOf(err), res)
			}
			if pub.KeyID("signing") != old {
				t.Error("the key changed")
			}
		})
	}
}

func TestRestartingServicesReachesEveryIMAndPresenceNode(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	imp1 := newCLI(t, ucmfake.CLIConfig{})
	imp2 := newCLI(t, ucmfake.CLIConfig{KeyboardInteractive: true})
	p := sshProvider(t, map[string]string{
		"ssh_host":        pub.Addr,
		"ssh_user":        cliUser,
		"ssh_known_hosts": knownHosts(t, pub, imp1, imp2),
		"imp_nodes":       imp1.Addr + "," + imp2.Addr,
	}, cliPassword)
	_, res, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{RestartServices: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*ucmfake.CLI{imp1, imp2} {
		if got := n.Restarts(); len(got) != 1 || got[0] != "Cisco XCP Authentication Service" {
			t.Errorf("%s restarts = %q", n.Addr, got)
		}
		if got := n.Commands(); len(got) != 2 || got[0] != restartXCPAuth {
			t.Errorf("%s commands = %q", n.Addr, got)
		}
	}
	if len(pub.Restarts()) != 0 {
		t.Error("the publisher was restarted")
	}
	notes := strings.Join(res.Notes, "\n")
	for _, n := range []*ucmfake.CLI{imp1, imp2} {
		if !strings.Contains(notes, "XCP Authentication Service restarted on "+n.Addr+" (Cisco XCP Authentication Service[STARTED])") {
			t.Errorf("notes lack %s:\n%s", n.Addr, notes)
		}
	}
}

func TestARestartFailureAfterTheRegenerationIsAPartialFailure(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	good := newCLI(t, ucmfake.CLIConfig{})
	bad := newCLI(t, ucmfake.CLIConfig{})
	bad.SetRestartFails(true)
	p := sshProvider(t, map[string]string{
		"ssh_host":        pub.Addr,
		"ssh_user":        cliUser,
		"ssh_known_hosts": knownHosts(t, pub, good, bad),
		"imp_nodes":       good.Addr + "," + bad.Addr,
	}, cliPassword)
	_, res, err := rotate(t, p, provider.KeySigning, provider.RotateOptions{RestartServices: true})
	if !errs.Is(err, errs.KindPartial) || !strings.Contains(err.Error(), "failed on 1 of 2") || !strings.Contains(err.Error(), bad.Addr) {
		t.Fatalf("err = %v", err)
	}
	if res == nil || res.NewKID != pub.KeyID("signing") || len(good.Restarts()) != 1 {
		t.Errorf("result %+v, good restarts %v", res, good.Restarts())
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "NOT restarted on "+bad.Addr) {
		t.Errorf("notes = %q", res.Notes)
	}
}

func TestListKeysReadsBothAuthzKeys(t *testing.T) {
	pub := newCLI(t, ucmfake.CLIConfig{})
	p := sshProvider(t, map[string]string{"ssh_host": pub.Addr, "ssh_user": cliUser, "ssh_known_hosts": knownHosts(t, pub)}, cliPassword)
	keys, err := p.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].KID != pub.KeyID("signing") || keys[0].Use != "sig" || keys[1].KID != pub.KeyID("encryption") || keys[1].Use != "enc" {
		t.Errorf("keys = %+v", keys)
	}
	want := []string{"show key authz signing", "show key authz encryption", "exit"}
	if got := pub.Commands(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("commands = %q", got)
	}
}

func TestCLIOutputIsParsedWithoutKeyMaterial(t *testing.T) {
	out := "authz encryption key\n  Key ID : enc-42\n  Value  : 3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w3q2+7w==\n\x1b[0m\n"
	if got := parseKeyID(normalize(out)); got != "enc-42" {
		t.Errorf("kid = %q", got)
	}
	lines := cleanLines(normalize(out))
	if strings.Contains(strings.Join(lines, "\n"), "3q2+7w") || len(lines) != 3 {
		t.Errorf("lines = %q", lines)
	}
	fp := "  SHA256 Fingerprint: SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
	if got := parseKeyID(fp); got != "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8" {
		t.Errorf("labelled fingerprint = %q", got)
	}
}

func TestQuestionsAndPromptsAreRecognised(t *testing.T) {
	tests := []struct {
		text             string
		prompt, question bool
	}{
		{"output\nadmin:", true, false},
		{"admin:", true, false},
		{"text admin:", false, false},
		{"WARNING ...\nDo you want to continue (yes/no)? ", false, true},
		{"Proceed? [y/n]:", false, true},
		{"Continue with regeneration (yes/no) ", false, true},
		{"Tokens will no longer continue to work.\nPlease wait", false, false},
	}
	for _, tt := range tests {
		if got := cliPrompt().MatchString(tt.text); got != tt.prompt {
			t.Errorf("%q prompt = %v", tt.text, got)
		}
		if got := cliQuestion().MatchString(tt.text); got != tt.question {
			t.Errorf("%q question = %v", tt.text, got)
		}
	}
}
