package ciscoucm

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/redact"
)

const (
	dialTimeout = 30 * time.Second
	// The platform CLI takes a while to start ("Command Line Interface is
	// starting up, please wait ...").
	startupTimeout = 3 * time.Minute
	// maxOutput bounds what one command may print before we give up on it.
	maxOutput = 1 << 20
	// maxAuthRounds bounds keyboard-interactive questions.
	maxAuthRounds = 4
)

var (
	ansiEscape = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]`)
	})
	// The prompt ends the output, at the start of a line.
	cliPrompt = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:^|\n)admin:[ \t]*\z`) })
	// A question waiting for an answer: the last line mentions yes/no,
	// y/n, continue or proceed and ends like a prompt. The wording is not
	// documented, so the match is loose but anchored to the end.
	cliQuestion = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(?:^|\n)[^\n]*(?:yes/no|y/n|\bcontinue\b|\bproceed\b)[^\n]*[?:)\]>][ \t]*\z`)
	})
	cliFailure = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?im)unsuccessful|\bfail(?:ed|ure|s)?\b|\berror\b|\bcancel+ed\b|\baborted\b|^\s*invalid\b|not (?:allowed|permitted|authori[sz]ed)`)
	})
	cliSuccess = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\bsuccess(?:ful(?:ly)?)?\b|\bregenerated\b|\bcompleted\b`)
	})
)

// cli is an interactive platform CLI session on a PTY.
type cli struct {
	target  sshTarget
	client  *ssh.Client
	session *ssh.Session
	stdin   io.WriteCloser
	chunks  chan []byte
	readErr chan error
	pending strings.Builder // normalised output not yet consumed
	stop    chan struct{}
}

// dialCLI logs in, verifies the host key, opens a shell on a PTY and waits
// for the first prompt.
func dialCLI(ctx context.Context, t sshTarget) (*cli, error) {
	var hostKeyErr error
	cfg := &ssh.ClientConfig{
		User:              t.user,
		Auth:              []ssh.AuthMethod{ssh.Password(t.password), ssh.KeyboardInteractive(answerPassword(t.password))},
		HostKeyCallback:   hostKeyCallback(t, &hostKeyErr),
		Timeout:           dialTimeout,
		BannerCallback:    func(string) error { return nil },
		HostKeyAlgorithms: knownAlgorithms(t),
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx, t)
		}
		return nil, errs.New(errs.KindNetwork, "cisco-ucm: cannot connect to %s for SSH: %s", t.addr, innermost(err))
	}
	_ = conn.SetDeadline(time.Now().Add(dialTimeout))
	cc, chans, reqs, err := ssh.NewClientConn(conn, t.addr, cfg)
	if err != nil {
		_ = conn.Close()
		switch {
		case hostKeyErr != nil:
			return nil, hostKeyErr
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, errs.New(errs.KindRefused, "cisco-ucm: %s refused the SSH login of %q: check ssh_user and the admin secret (the platform administrator's password)", t.addr, t.user)
		default:
			return nil, errs.New(errs.KindNetwork, "cisco-ucm: SSH handshake with %s failed: %s", t.addr, innermost(err))
		}
	}
	_ = conn.SetDeadline(time.Time{})
	client := ssh.NewClient(cc, chans, reqs)
	c := &cli{target: t, client: client, chunks: make(chan []byte, 64), readErr: make(chan error, 1), stop: make(chan struct{})}
	if err := c.openShell(); err != nil {
		c.Close()
		return nil, err
	}
	if _, _, _, err := c.waitFor(ctx, startupTimeout, "the CLI prompt", cliPrompt()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *cli) openShell() error {
	s, err := c.client.NewSession()
	if err != nil {
		return errs.New(errs.KindNetwork, "cisco-ucm: opening an SSH session on %s: %s", c.target.addr, innermost(err))
	}
	c.session = s
	// A wide terminal keeps long output lines from wrapping; the CLI is
	// interactive and needs a PTY.
	modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
	if err := s.RequestPty("vt100", 50, 250, modes); err != nil {
		return errs.New(errs.KindNetwork, "cisco-ucm: %s refused a terminal: %s", c.target.addr, innermost(err))
	}
	if c.stdin, err = s.StdinPipe(); err != nil {
		return fmt.Errorf("cisco-ucm: SSH stdin: %w", err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		return fmt.Errorf("cisco-ucm: SSH stdout: %w", err)
	}
	if err := s.Shell(); err != nil {
		return errs.New(errs.KindNetwork, "cisco-ucm: %s refused a shell: %s", c.target.addr, innermost(err))
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				chunk := append([]byte(nil), buf[:n]...)
				select {
				case c.chunks <- chunk:
				case <-c.stop:
					return
				}
			}
			if err != nil {
				c.readErr <- err
				return
			}
		}
	}()
	return nil
}

// logoutWait is how long Close waits for the CLI to end the session after
// "exit", so the platform logs a clean logout rather than a dropped one.
const logoutWait = 3 * time.Second

// Close logs out and closes the connection.
func (c *cli) Close() {
	select {
	case <-c.stop:
		return
	default:
	}
	if c.stdin != nil && c.session != nil {
		if _, err := io.WriteString(c.stdin, "exit\n"); err == nil {
			timer := time.NewTimer(logoutWait)
		wait:
			for {
				select {
				case <-c.chunks:
				case <-c.readErr:
					break wait
				case <-timer.C:
					break wait
				}
			}
			timer.Stop()
		}
	}
	close(c.stop)
	if c.session != nil {
		_ = c.session.Close()
	}
	_ = c.client.Close()
}

// waitFor reads output until one of the patterns matches the end of it,
// and returns which one and the text before the match.
func (c *cli) waitFor(ctx context.Context, timeout time.Duration, what string, patterns ...*regexp.Regexp) (int, string, string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		text := c.pending.String()
		for i, re := range patterns {
			if loc := re.FindStringIndex(text); loc != nil {
				c.pending.Reset()
				return i, text[:loc[0]], text[loc[0]:loc[1]], nil
			}
		}
		if len(text) > maxOutput {
			return 0, "", "", errs.New(errs.KindUnknown, "cisco-ucm: %s printed more than %d bytes without showing %s", c.target.addr, maxOutput, what)
		}
		select {
		case chunk := <-c.chunks:
			c.pending.WriteString(normalize(string(chunk)))
		case err := <-c.readErr:
			// Drain what arrived before the end.
			for {
				select {
				case chunk := <-c.chunks:
					c.pending.WriteString(normalize(string(chunk)))
					continue
				default:
				}
				break
			}
			text := c.pending.String()
			for i, re := range patterns {
				if loc := re.FindStringIndex(text); loc != nil {
					c.pending.Reset()
					return i, text[:loc[0]], text[loc[0]:loc[1]], nil
				}
			}
			reason := "closed the session"
			if err != nil && !errors.Is(err, io.EOF) {
				reason = "dropped the session: " + innermost(err)
			}
			return 0, "", "", errs.New(errs.KindNetwork, "cisco-ucm: %s %s while waiting for %s%s", c.target.addr, reason, what, lastWords(text))
		case <-timer.C:
			return 0, "", "", errs.New(errs.KindNetwork, "cisco-ucm: %s did not show %s within %s%s", c.target.addr, what, timeout, lastWords(c.pending.String()))
		case <-ctx.Done():
			return 0, "", "", ctxError(ctx, c.target)
		}
	}
}

// run sends a command and returns its output once the prompt is back.
func (c *cli) run(ctx context.Context, command string) (string, error) {
	if err := c.send(command); err != nil {
		return "", err
	}
	_, out, _, err := c.waitFor(ctx, c.target.timeout, "the prompt after "+command, cliPrompt())
	return stripEcho(out, command), err
}

// runConfirm sends a command that may ask for confirmation, answers it,
// and returns the output before the question, the question ("" when none
// was asked) and the output after the answer, once the prompt is back.
func (c *cli) runConfirm(ctx context.Context, command, answer string) (before, question, after string, err error) {
	if err := c.send(command); err != nil {
		return "", "", "", err
	}
	i, out, match, err := c.waitFor(ctx, c.target.timeout, "the prompt after "+command, cliPrompt(), cliQuestion())
	if err != nil {
		return "", "", "", err
	}
	before = stripEcho(out, command)
	if i == 0 {
		return before, "", "", nil
	}
	question = strings.TrimSpace(match)
	if err := c.send(answer); err != nil {
		return before, question, "", err
	}
	_, out, _, err = c.waitFor(ctx, c.target.timeout, "the prompt after answering "+answer, cliPrompt())
	return before, question, stripEcho(out, answer), err
}

func (c *cli) send(line string) error {
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return errs.New(errs.KindNetwork, "cisco-ucm: sending %q to %s: %s", line, c.target.addr, innermost(err))
	}
	return nil
}

// normalize removes terminal escapes and turns CR LF and lone CR into LF.
func normalize(s string) string {
	s = ansiEscape().ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// stripEcho drops the echo of what was typed and blank lines at the ends.
func stripEcho(out, typed string) string {
	lines := strings.Split(out, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) == strings.TrimSpace(typed) {
			continue
		}
		kept = append(kept, l)
	}
	return strings.Trim(strings.Join(kept, "\n"), "\n ")
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n ")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// lastWords quotes the end of the output for an error, cleaned.
func lastWords(s string) string {
	l := blankTokens(lastLine(s), nil)
	if l == "" {
		return ""
	}
	return fmt.Sprintf(" (last output: %q)", l)
}

func ctxError(ctx context.Context, t sshTarget) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return errs.New(errs.KindInterrupted, "cisco-ucm: the CLI session with %s was interrupted", t.addr)
	}
	return errs.New(errs.KindNetwork, "cisco-ucm: the CLI session with %s ran out of time", t.addr)
}

// innermost keeps the last cause of a wrapped network error: the addresses
// are already in our message.
func innermost(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// answerPassword answers every keyboard-interactive question with the
// password: the platform CLI asks only for it.
func answerPassword(password string) ssh.KeyboardInteractiveChallenge {
	rounds := 0
	return func(_, _ string, questions []string, _ []bool) ([]string, error) {
		rounds++
		if rounds > maxAuthRounds {
			return nil, errors.New("too many keyboard-interactive questions")
		}
		answers := make([]string, len(questions))
		for i := range answers {
			answers[i] = password
		}
		return answers, nil
	}
}

// hostKeyCallback checks the pinned fingerprint, or known_hosts. Its
// verdict is stored in *verdict, because the SSH library wraps the error
// in a generic handshake failure.
func hostKeyCallback(t sshTarget, verdict *error) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		got := ssh.FingerprintSHA256(key)
		if t.pin != "" {
			if strings.TrimRight(got, "=") != strings.TrimRight(t.pin, "=") {
				*verdict = errs.New(errs.KindRefused, "cisco-ucm: the SSH host key of %s is %s, not the pinned %s (ssh_host_key_sha256): refusing to log in", t.addr, got, t.pin)
				return *verdict
			}
			return nil
		}
		cb, err := knownhosts.New(t.knownHosts)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				*verdict = errs.New(errs.KindUsage, "cisco-ucm: reading %s: %s", t.knownHosts, innermost(err))
				return *verdict
			}
			*verdict = unknownHost(t, key)
			return *verdict
		}
		err = cb(hostname, remote, key)
		if err == nil {
			return nil
		}
		var keyErr *knownhosts.KeyError
		var revoked *knownhosts.RevokedError
		switch {
		case errors.As(err, &revoked):
			*verdict = errs.New(errs.KindRefused, "cisco-ucm: the SSH host key %s of %s is marked revoked in %s", got, t.addr, t.knownHosts)
		case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
			*verdict = unknownHost(t, key)
		case errors.As(err, &keyErr):
			*verdict = errs.New(errs.KindRefused, "cisco-ucm: the SSH host key of %s changed: it presents %s, which %s does not list for it (%s:%d); the server was reinstalled or the connection is intercepted; check before trusting it", t.addr, got, t.knownHosts, keyErr.Want[0].Filename, keyErr.Want[0].Line)
		default:
			*verdict = errs.New(errs.KindRefused, "cisco-ucm: checking the SSH host key of %s: %s", t.addr, innermost(err))
		}
		return *verdict
	}
}

// knownAlgorithms lists the host key algorithms of the keys known_hosts
// holds for the target. Without it the server may present a key of
// another type than the one recorded, which would look like a changed key
// (x/crypto/ssh/knownhosts recommends this). Nil means the defaults.
func knownAlgorithms(t sshTarget) []string {
	if t.pin != "" {
		return nil
	}
	cb, err := knownhosts.New(t.knownHosts)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil
	}
	var keyErr *knownhosts.KeyError
	if err := cb(t.addr, &net.TCPAddr{IP: net.IPv4zero, Port: 22}, probe); !errors.As(err, &keyErr) {
		return nil
	}
	var algs []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algs = append(algs, a)
		}
	}
	for _, k := range keyErr.Want {
		if k.Key.Type() == ssh.KeyAlgoRSA {
			// An RSA key signs with SHA-2 on current servers.
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		}
		add(k.Key.Type())
	}
	return algs
}

func unknownHost(t sshTarget, key ssh.PublicKey) error {
	fp := ssh.FingerprintSHA256(key)
	host, port, _ := net.SplitHostPort(t.addr)
	return errs.New(errs.KindRefused,
		"cisco-ucm: the SSH host key of %s is not known: it presents %s %s; if that matches the server (compare it on the console), pin it with the admin setting ssh_host_key_sha256: %s, or add the host to %s (ssh-keyscan -p %s %s >> %s)",
		t.addr, key.Type(), fp, fp, t.knownHosts, port, host, t.knownHosts)
}

// keyLabel() finds a labelled identifier in "show key authz" output; the
// format is not documented, so several labels are tried.
var keyLabel = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?im)^\s*(?:key\s*id|kid|key\s*identifier|serial(?:\s*number)?|(?:sha-?256\s*)?fingerprint|thumbprint)\s*[:=]\s*(\S[^\n]*?)\s*$`)
})

func parseKeyID(out string) string {
	if m := keyLabel().FindStringSubmatch(out); m != nil {
		return cleanText(m[1])
	}
	return ""
}

// longValue() matches what could be key material in unlabelled lines.
var longValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/=_:-]{40,}`) })

// cleanLines keeps the output's lines for notes: no echo, no blank lines,
// no long unlabelled values (the encryption key is symmetric; its value
// must never be printed even if a CLI version showed it), at most 20.
func cleanLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !keyLabel().MatchString(l) {
			l = longValue().ReplaceAllString(l, redact.Mask)
		}
		if l = cleanText(l); l != "" {
			lines = append(lines, l)
		}
		if len(lines) == 20 {
			break
		}
	}
	return lines
}

// cleanText makes CLI text safe to print on one line. Long values are
// kept: labelled key ids and fingerprints are long.
func cleanText(s string) string { return provider.Clean(s) }
