package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/hostile"
	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// wiretap is an HTTP forward proxy (IDPCTL_PROXY) that records, as secrets
// of an Env, every credential that crosses it: what idpctl sends (client
// secrets, client assertions, codes, PKCE verifiers, refresh tokens) and
// what the IdP answers (access, refresh and ID tokens). A leak test then
// knows the secrets a run handled, including the ones no test could learn
// otherwise, such as the code verifier.
type wiretap struct {
	URL string
	env *Env
	out http.RoundTripper

	mu   sync.Mutex
	seen map[string]int // form parameter or JSON member -> times learnt
}

// secretFormFields are the form parameters that carry credentials
// (RFC 6749 §2.3.1, §4.1.3, §6; RFC 7636 §4.5; RFC 7523; RFC 7009; RFC 7662;
// RFC 8628; RFC 8693).
var secretFormFields = []string{
	"client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "access_token",
	"token", "assertion", "subject_token", "actor_token", "device_code", "id_token_hint", "password",
}

// secretJSONMembers are the members of a token or device response that are
// credentials.
var secretJSONMembers = []string{"access_token", "refresh_token", "id_token", "device_code"}

func startWiretap(t testing.TB, e *Env) *wiretap {
	t.Helper()
	// Without a proxy of its own, and with compression left to the
	// transport, so that answers are read as the IdP meant them.
	out := http.DefaultTransport.(*http.Transport).Clone()
	out.Proxy = nil
	w := &wiretap{env: e, out: out, seen: map[string]int{}}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

func (w *wiretap) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !r.URL.IsAbs() || r.Method == http.MethodConnect {
		http.Error(rw, "the wiretap forwards plain http requests only", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.learnRequest(r.Header, body)
	req, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), bytes.NewReader(body))
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	for _, h := range []string{"Proxy-Connection", "Proxy-Authorization", "Connection", "Accept-Encoding"} {
		req.Header.Del(h)
	}
	resp, err := w.out.RoundTrip(req)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	w.learnResponse(answer)
	for k, vs := range resp.Header {
		if k == "Content-Length" || k == "Content-Encoding" {
			continue
		}
		rw.Header()[k] = vs
	}
	rw.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	rw.WriteHeader(resp.StatusCode)
	_, _ = rw.Write(answer)
}

func (w *wiretap) learnRequest(h http.Header, body []byte) {
	if auth := h.Get("Authorization"); auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		w.env.Secret(cred)
		if strings.EqualFold(scheme, "Basic") {
			if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
				// RFC 6749 §2.3.1: id and secret are form-encoded first.
				if _, secret, ok := strings.Cut(string(raw), ":"); ok {
					if s, err := url.QueryUnescape(secret); err == nil {
						w.env.Secret(s)
					}
				}
			}
		}
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		for _, k := range secretFormFields {
			w.learn(k, form[k]...)
		}
	}
	w.env.Secret(jwtShape.FindAllString(string(body), -1)...)
}

func (w *wiretap) learnResponse(body []byte) {
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		for _, k := range secretJSONMembers {
			if s, ok := doc[k].(string); ok {
				w.learn(k, s)
			}
		}
	}
	w.env.Secret(jwtShape.FindAllString(string(body), -1)...)
}

func (w *wiretap) learn(field string, vals ...string) {
	w.env.Secret(vals...)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[field] += len(vals)
}

// learnt is how many values of a form parameter or JSON member crossed.
func (w *wiretap) learnt(field string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[field]
}

// learnCredentialFile records every credential in the file store: the
// stored client secrets and the tokens of every profile.
func learnCredentialFile(t testing.TB, e *Env) {
	t.Helper()
	raw := mustRead(t, filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "credentials.json"))
	var doc struct {
		Items map[string][]byte `json:"items"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse the file store: %v", err)
	}
	for key, item := range doc.Items {
		if strings.HasSuffix(key, ":client_secret") {
			e.Secret(string(item))
			continue
		}
		var rec map[string]any
		if json.Unmarshal(item, &rec) != nil {
			continue
		}
		for _, k := range secretJSONMembers {
			if s, ok := rec[k].(string); ok {
				e.Secret(s)
			}
		}
	}
}

// procCmdline is the argument vector of a running process as the kernel
// shows it to every user of the machine (ps, /proc/PID/cmdline).
func procCmdline(t testing.TB, pid int) []string {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatalf("read the command line of pid %d: %v", pid, err)
	}
	return strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
}

// procTree is pid and its descendants, from /proc/PID/task/*/children.
func procTree(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(out[i]) + "/task/*/children")
		for _, f := range tasks {
			raw, _ := os.ReadFile(f)
			for _, c := range strings.Fields(string(raw)) {
				if n, err := strconv.Atoi(c); err == nil {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// checkArgvOfRunningProcess reads the command line of a running idpctl and
// of any process it started, and fails on a secret in any of them. want
// are arguments that must be there, which proves the right process was read.
func checkArgvOfRunningProcess(t testing.TB, p *Proc, e *Env, want ...string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Log("the command line of a running process is read from /proc/PID/cmdline, which only Linux has: not checked")
		return
	}
	argv := procCmdline(t, p.PID())
	for _, w := range want {
		if !strings.Contains(strings.Join(argv, " "), w) {
			t.Fatalf("the command line of pid %d lacks %q: not the idpctl under test? %q", p.PID(), w, argv)
		}
	}
	secrets := e.Secrets()
	for _, pid := range procTree(p.PID()) {
		args := argv
		if pid != p.PID() {
			raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if err != nil {
				continue // the child has gone
			}
			args = strings.Split(string(raw), "\x00")
		}
		if i := argvLeak(args, secrets); i >= 0 {
			t.Errorf("argument %d of running pid %d carries a secret, visible to every user in ps", i, pid)
		}
	}
}

// leakScan collects the output of every run and the files idpctl wrote,
// and checks them against the secrets of an Env.
type leakScan struct {
	texts map[string]string // what -> text
}

func (s *leakScan) add(what, text string) {
	if s.texts == nil {
		s.texts = map[string]string{}
	}
	s.texts[what] += text
}

// result adds a run's stderr, and its stdout unless tokenOnStdout: the
// stdout of `token get` is the token, by contract, and is checked to be
// exactly that instead.
func (s *leakScan) result(t testing.TB, r Result, tokenOnStdout bool) {
	t.Helper()
	name := "idpctl " + strings.Join(r.Args, " ")
	s.add(name+" (stderr)", r.Stderr)
	if tokenOnStdout {
		tokenLine(t, r)
		return
	}
	s.add(name+" (stdout)", r.Stdout)
}

func TestLeakNoSecretReachesOutputOrAnyFileButTheCredentialFile(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	pt := oidcpeer.Start(t, oidcpeer.Config{TLS: true})

	// One home for every profile, so that the files of all runs pile up
	// where the scan looks; the file store, so that credentials.json is the
	// one file allowed to hold them.
	base := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "file")
	tap := startWiretap(t, base)
	// The wiretap is on loopback like the IdP; loopback traffic goes
	// through a proxy only when asked.
	base.Set("IDPCTL_PROXY", tap.URL).Set("IDPCTL_PROXY_LOOPBACK", "1")
	client := func(id string) *Env {
		c := base.WithNewProfile(t).Set("IDPCTL_CLIENT_ID", id).Unset("IDPCTL_CLIENT_SECRET_FILE")
		if s, ok := p.Secrets[id]; ok {
			c.Set("IDPCTL_CLIENT_SECRET_FILE", c.WriteFile(t, "secret-"+id, s+"\n", true))
		}
		return c
	}
	scan := &leakScan{}
	debug := func(t *testing.T, e *Env, stdin string, args ...string) Result {
		t.Helper()
		r := mustRun(t, e, stdin, append(args, "--debug")...)
		scan.result(t, r, args[0] == "token" && args[1] == "get")
		if args[0] == "token" && args[1] == "get" {
			e.Secret(tokenLine(t, r))
		}
		return r
	}

	t.Run("token get with every client authentication method", func(t *testing.T) {
		debug(t, client(oidcpeer.ClientCCBasic), "", "token", "get", "--client-auth", "client_secret_basic")
		post := client(oidcpeer.ClientCCPost).Unset("IDPCTL_CLIENT_SECRET_FILE").Set("IDPCTL_CLIENT_SECRET", p.Secrets[oidcpeer.ClientCCPost])
		debug(t, post, "", "token", "get", "--client-auth", "client_secret_post")
		debug(t, client(oidcpeer.ClientCCSecretJWT), "", "token", "get", "--client-auth", "client_secret_jwt")
		rs := client(oidcpeer.ClientCCPrivateJWT)
		debug(t, rs, "", "token", "get", "--client-auth", "private_key_jwt", "--private-key-file", p.PrivateKeyFile["RS256"])
		es := client(oidcpeer.ClientCCPrivateJWT)
		jwk := es.WriteFile(t, "es256.jwk", string(p.PrivateKeyJWK["ES256"]), true)
		debug(t, es, "", "token", "get", "--client-auth", "private_key_jwt", "--private-key-file", jwk)

		// tls_client_auth needs https, which the wiretap cannot read; the
		// client key is the secret there, and the token comes back on stdout.
		mtls := base.WithNewProfile(t).Unset("IDPCTL_PROXY").Unset("IDPCTL_CLIENT_SECRET_FILE").
			Set("IDPCTL_ISSUER", pt.Issuer).Set("IDPCTL_CLIENT_ID", oidcpeer.ClientTLS)
		mtls.SecretPEM(mustRead(t, pt.ClientKeyFile))
		for _, s := range pt.Secrets {
			mtls.Secret(s)
		}
		debug(t, mtls, "", "token", "get", "--client-auth", "tls_client_auth", "--ca-file", pt.CAFile,
			"--client-cert-file", pt.ClientCertFile, "--client-key-file", pt.ClientKeyFile)
	})

	t.Run("login with the authorization code, then every token command", func(t *testing.T) {
		e := client(oidcpeer.ClientCLIConfidential).Unset("IDPCTL_CLIENT_SECRET_FILE").
			Set("IDPCTL_CLIENT_SECRET", p.Secrets[oidcpeer.ClientCLIConfidential]).Set("IDPCTL_SCOPES", loginScopes)
		codes := make(chan string, 1)
		proc := start(t, e, "", "login", "--no-browser", "--scope", loginScopes, "--debug")
		m := proc.waitStderr(authURLLine, 30*time.Second)
		// The secret is in the environment; the process waiting for the
		// browser must not show it in its command line.
		checkArgvOfRunningProcess(t, proc, e, "login", "--no-browser")
		browser := browse(followKeepingCode(p.Issuer, codes), m[1])
		r := proc.waitResult(runTimeout)
		if err := <-browser; err != nil || r.Code != 0 {
			t.Fatalf("login: browser %v\n%s", err, r)
		}
		select {
		case code := <-codes:
			e.Secret(code)
		default:
			t.Fatal("the browser saw no authorization code")
		}
		scan.result(t, r, false)

		debug(t, e, "", "token", "get")
		debug(t, e, "", "token", "get", "--no-cache")
		debug(t, e, "", "token", "refresh")
		debug(t, e, "", "token", "inspect", "--introspect")
		debug(t, e, "", "token", "inspect", "--id-token")
		debug(t, e, "", "token", "list")
		debug(t, e, "", "doctor")
		learnCredentialFile(t, e)
		debug(t, e, "", "token", "revoke")
	})

	t.Run("login of a public client, then logout", func(t *testing.T) {
		e := client(oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_SCOPES", loginScopes)
		codes := make(chan string, 1)
		proc := start(t, e, "", "login", "--no-browser", "--scope", loginScopes, "--debug")
		m := proc.waitStderr(authURLLine, 30*time.Second)
		browser := browse(followKeepingCode(p.Issuer, codes), m[1])
		r := proc.waitResult(runTimeout)
		if err := <-browser; err != nil || r.Code != 0 {
			t.Fatalf("login: browser %v\n%s", err, r)
		}
		scan.result(t, r, false)
		learnCredentialFile(t, e)
		debug(t, e, "", "logout")
	})

	t.Run("profile add with the secret on stdin, then profile show and a token with it", func(t *testing.T) {
		name := profileName(t)
		e := base.Clone().Unset("IDPCTL_PROFILE").Unset("IDPCTL_ISSUER").Unset("IDPCTL_CLIENT_ID").Unset("IDPCTL_CLIENT_SECRET_FILE")
		debug(t, e, p.Secrets[oidcpeer.ClientCCBasic]+"\n", "profile", "add", name,
			"--issuer", p.Issuer, "--client-id", oidcpeer.ClientCCBasic, "--client-secret-stdin")
		debug(t, e, "", "profile", "show", name)
		debug(t, e, "", "profile", "show", name, "-o", "json")
		debug(t, e, "", "token", "get", "--profile", name)
	})
	if t.Failed() {
		return
	}

	learnCredentialFile(t, base)
	home := base.Get("HOME")
	var files []string
	err := filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(home, path)
		files = append(files, rel)
		if d.Name() == "credentials.json" {
			return nil // the file store: holding credentials is its job
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scan.add(rel, string(b))
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", home, err)
	}
	// The scan covers what it claims to.
	for _, want := range []string{`config/idpctl/config\.yaml$`, `cache/idpctl/discovery/.+\.json$`, `state/idpctl/locks/.+\.lock$`, `state/idpctl/credentials\.json$`} {
		if !slicesMatch(files, want) {
			t.Errorf("no file matching %s was written; files: %q", want, files)
		}
	}
	// The wiretap saw what the runs sent and got, so the scan knows the
	// secrets no output shows on purpose.
	for field, least := range map[string]int{
		"code": 2, "code_verifier": 2, "client_assertion": 3, "client_secret": 1,
		"refresh_token": 3, "token": 2, "access_token": 8, "id_token": 2,
	} {
		if n := tap.learnt(field); n < least {
			t.Errorf("the wiretap learnt %d values of %s, want at least %d", n, field, least)
		}
	}
	secrets := base.Secrets()
	if len(secrets) < 40 {
		t.Fatalf("the test learnt only %d secrets; it would prove little", len(secrets))
	}
	for what, text := range scan.texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a secret of %d characters", what, len(s))
			}
		}
		if jwtShape.MatchString(text) {
			t.Errorf("%s shows a JWT", what)
		}
	}
	t.Logf("scanned %d outputs and files against %d secrets; files: %q", len(scan.texts), len(secrets), files)
}

func slicesMatch(list []string, pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, s := range list {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func TestLeakNoSecretOnTheCommandLineOfATokenGetWaitingForTheIdP(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/cmdline, which only Linux has")
	}
	const subjectToken = "subject-token-read-from-stdin-0123456789"
	cases := []struct {
		name string
		// setup chooses where the secrets come from; it returns the
		// arguments, stdin, and the secret the IdP must receive.
		setup func(t *testing.T, e *Env) (args []string, stdin, sent string)
	}{
		{
			name: "the client secret in the environment",
			setup: func(t *testing.T, e *Env) ([]string, string, string) {
				e.Unset("IDPCTL_CLIENT_SECRET_FILE").Set("IDPCTL_CLIENT_SECRET", hostileSecret)
				return []string{"token", "get", "--client-auth", "client_secret_post"}, "", hostileSecret
			},
		},
		{
			name: "the client secret in a file",
			setup: func(t *testing.T, e *Env) ([]string, string, string) {
				file := e.Get("IDPCTL_CLIENT_SECRET_FILE")
				e.Unset("IDPCTL_CLIENT_SECRET_FILE")
				return []string{"token", "get", "--client-auth", "client_secret_post", "--client-secret-file", file}, "", hostileSecret
			},
		},
		{
			name: "a subject token on stdin",
			setup: func(t *testing.T, e *Env) ([]string, string, string) {
				e.Secret(subjectToken)
				return []string{"token", "get", "--flow", "token-exchange", "--subject-token-file", "-"}, subjectToken + "\n", subjectToken
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{}, 1)
			s := hostile.Start(t, hostile.Config{Token: hostile.Hang(arrived)})
			e := hostileClient(t, s)
			args, stdin, sent := c.setup(t, e)
			proc := start(t, e, stdin, args...)
			select {
			case <-arrived:
			case <-proc.Done():
				t.Fatalf("idpctl ended before its token request\n%s", proc.result())
			case <-time.After(30 * time.Second):
				t.Fatal("the token request never arrived")
			}
			if !s.Received(sent) {
				t.Fatal("the waiting token request does not carry the secret: the test proves nothing")
			}
			checkArgvOfRunningProcess(t, proc, e, "token", "get")
		})
	}
}
