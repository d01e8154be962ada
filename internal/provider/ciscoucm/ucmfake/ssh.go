package ucmfake

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Regen is how the fake CLI answers a key regeneration.
type Regen int

const (
	RegenSucceeds  Regen = iota // asks, and regenerates on "yes"
	RegenCancelled              // asks, then reports the operation cancelled
	RegenFails                  // asks, then prints a CLI error
	RegenSilent                 // asks, prints nothing useful and changes nothing
)

// CLIConfig sets up a CLI fake.
type CLIConfig struct {
	User, Password string
	// Password and KeyboardInteractive choose the SSH authentication
	// methods offered; with neither, both are.
	PasswordAuth, KeyboardInteractive bool
	// HostKey is the server's key; nil generates an Ed25519 key.
	HostKey ssh.Signer
	// ExtraHostKeys are offered too, as servers with several key types do.
	ExtraHostKeys []ssh.Signer
}

// CLI is an in-process SSH server that behaves like the Cisco platform
// CLI: a start-up banner, the "admin:" prompt, "show key authz
// signing|encryption", "set key regen authz signing|encryption" with a
// yes/no question, and "utils service restart <service>". The texts are
// modelled on the documented procedure; their exact wording is not
// documented, which the adapter tolerates.
type CLI struct {
	// Addr is 127.0.0.1:port.
	Addr string

	cfg      CLIConfig
	signer   ssh.Signer
	listener net.Listener
	wg       sync.WaitGroup

	commands, answers, restarts, logins, errors fakekit.Log[string]

	mu          sync.Mutex
	regen       Regen
	restartFail bool
	keys        map[string]string
	gen         int
	conns       map[net.Conn]bool
	closed      bool
}

// NewCLI starts a CLI fake on a loopback port.
func NewCLI(cfg CLIConfig) (*CLI, error) {
	if !cfg.PasswordAuth && !cfg.KeyboardInteractive {
		cfg.PasswordAuth, cfg.KeyboardInteractive = true, true
	}
	signer := cfg.HostKey
	if signer == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if signer, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &CLI{Addr: l.Addr().String(), cfg: cfg, signer: signer, listener: l, conns: map[net.Conn]bool{},
		keys: map[string]string{"signing": "authz-signing-0001", "encryption": "authz-encryption-0001"}, gen: 1}
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

// Close stops the server and waits for its sessions to end.
func (c *CLI) Close() {
	c.mu.Lock()
	c.closed = true
	for conn := range c.conns {
		_ = conn.Close()
	}
	c.mu.Unlock()
	_ = c.listener.Close()
	c.wg.Wait()
}

// HostKey is the server's public host key.
func (c *CLI) HostKey() ssh.PublicKey { return c.signer.PublicKey() }

// Fingerprint is the host key's SHA256 fingerprint as ssh-keygen prints it.
func (c *CLI) Fingerprint() string { return ssh.FingerprintSHA256(c.signer.PublicKey()) }

// KnownHostsLine is the line a known_hosts file needs for this server.
func (c *CLI) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(c.Addr)}, c.signer.PublicKey())
}

// SetRegen chooses how the next regenerations go.
func (c *CLI) SetRegen(r Regen) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.regen = r
}

// SetRestartFails makes service restarts fail.
func (c *CLI) SetRestartFails(fail bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restartFail = fail
}

// KeyID is the current id of the signing or encryption key.
func (c *CLI) KeyID(use string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys[use]
}

// Commands lists the command lines typed at the prompt.
func (c *CLI) Commands() []string { return c.commands.All() }

// Answers lists what was typed in answer to questions.
func (c *CLI) Answers() []string { return c.answers.All() }

// Restarts lists the services restarted.
func (c *CLI) Restarts() []string { return c.restarts.All() }

// Logins lists the authentication method of each successful login.
func (c *CLI) Logins() []string { return c.logins.All() }

// Errors returns every contract violation seen.
func (c *CLI) Errors() []string { return c.errors.All() }

func (c *CLI) errorf(format string, args ...any) { c.errors.Add(fmt.Sprintf(format, args...)) }

func (c *CLI) serverConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{MaxAuthTries: 6}
	if c.cfg.PasswordAuth {
		cfg.PasswordCallback = func(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if meta.User() == c.cfg.User && string(pw) == c.cfg.Password {
				c.logins.Add("password")
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	if c.cfg.KeyboardInteractive {
		cfg.KeyboardInteractiveCallback = func(meta ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ask("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if meta.User() == c.cfg.User && len(answers) == 1 && answers[0] == c.cfg.Password {
				c.logins.Add("keyboard-interactive")
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	cfg.AddHostKey(c.signer)
	for _, k := range c.cfg.ExtraHostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

func (c *CLI) accept() {
	defer c.wg.Done()
	for {
		conn, err := c.listener.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			_ = conn.Close()
			return
		}
		c.conns[conn] = true
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer func() {
				c.mu.Lock()
				delete(c.conns, conn)
				c.mu.Unlock()
				_ = conn.Close()
			}()
			c.serveConn(conn)
		}()
	}
}

func (c *CLI) serveConn(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	sc, chans, reqs, err := ssh.NewServerConn(conn, c.serverConfig())
	if err != nil {
		return // failed logins are part of the tests
	}
	_ = conn.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			c.errorf("unexpected channel type %q", nc.ChannelType())
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			return
		}
		c.serveSession(ch, requests)
	}
}

func (c *CLI) serveSession(ch ssh.Channel, requests <-chan *ssh.Request) {
	defer ch.Close()
	pty := false
	for req := range requests {
		switch req.Type {
		case "pty-req":
			pty = true
			_ = req.Reply(true, nil)
		case "env", "window-change":
			_ = req.Reply(true, nil)
		case "shell":
			if !pty {
				c.errorf("a shell was requested without a terminal; the platform CLI needs one")
			}
			_ = req.Reply(true, nil)
			go ssh.DiscardRequests(requests)
			c.repl(ch)
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
			return
		default:
			c.errorf("unexpected session request %q", req.Type)
			_ = req.Reply(false, nil)
		}
	}
}

const (
	banner = "\r\nCommand Line Interface is starting up, please wait ...\r\n\r\n   Welcome to the Platform Command Line Interface\r\n\r\nVMware Installation:\r\n\t2 vCPU: Intel(R) Xeon(R) CPU\r\n\tDisk 1: 110GB, Partitions aligned\r\n\t8192 Mbytes RAM\r\n\r\n"
	prompt = "admin:"
)

// terminal reads lines the way a PTY does, echoing what is typed.
type terminal struct {
	ch  ssh.Channel
	buf []byte
}

func (t *terminal) readLine() (string, error) {
	var line []byte
	for {
		if len(t.buf) == 0 {
			b := make([]byte, 256)
			n, err := t.ch.Read(b)
			if n == 0 && err != nil {
				return "", err
			}
			t.buf = b[:n]
		}
		c := t.buf[0]
		t.buf = t.buf[1:]
		switch c {
		case '\r', '\n':
			if c == '\r' && len(t.buf) > 0 && t.buf[0] == '\n' {
				t.buf = t.buf[1:]
			}
			_, _ = io.WriteString(t.ch, "\r\n")
			return string(line), nil
		case 0x7f, 0x08:
			if len(line) > 0 {
				line = line[:len(line)-1]
			}
		default:
			line = append(line, c)
			_, _ = t.ch.Write([]byte{c})
		}
	}
}

func (t *terminal) print(s string) { _, _ = io.WriteString(t.ch, strings.ReplaceAll(s, "\n", "\r\n")) }

func (c *CLI) repl(ch ssh.Channel) {
	t := &terminal{ch: ch}
	_, _ = io.WriteString(ch, banner+prompt)
	for {
		line, err := t.readLine()
		if err != nil {
			return
		}
		cmd := strings.Join(strings.Fields(line), " ")
		if cmd == "" {
			_, _ = io.WriteString(ch, prompt)
			continue
		}
		c.commands.Add(cmd)
		switch {
		case cmd == "exit" || cmd == "quit":
			return
		case cmd == "show key authz signing" || cmd == "show key authz encryption":
			use := strings.TrimPrefix(cmd, "show key authz ")
			c.mu.Lock()
			id := c.keys[use]
			c.mu.Unlock()
			alg := "RSA 2048"
			if use == "encryption" {
				alg = "AES 256 (symmetric)"
			}
			t.print(fmt.Sprintf("\nauthz %s key\n  Key ID     : %s\n  Algorithm  : %s\n  Created    : 2025-01-02 03:04:05 UTC\n\n", use, id, alg))
		case cmd == "set key regen authz signing" || cmd == "set key regen authz encryption":
			if !c.regenerate(t, strings.TrimPrefix(cmd, "set key regen authz ")) {
				return
			}
		case strings.HasPrefix(cmd, "utils service restart "):
			if !c.restart(t, strings.TrimPrefix(cmd, "utils service restart ")) {
				return
			}
		default:
			c.errorf("unexpected command %q", cmd)
			t.print("\nExecuted command unsuccessfully\nInvalid command: " + cmd + "\n\n")
		}
		_, _ = io.WriteString(ch, prompt)
	}
}

func (c *CLI) regenerate(t *terminal, use string) bool {
	t.print("\nWARNING: This operation will regenerate the authz " + use + " key.\nAll existing OAuth access and refresh tokens that use this key will become invalid,\nand all clients will have to sign in again.\n\nDo you want to continue (yes/no)? ")
	answer, err := t.readLine()
	if err != nil {
		return false
	}
	c.answers.Add(answer)
	c.mu.Lock()
	mode := c.regen
	c.mu.Unlock()
	switch {
	case mode == RegenCancelled:
		t.print("\nOperation cancelled: another certificate operation is in progress.\n\n")
	case strings.TrimSpace(answer) != "yes":
		t.print("\nOperation cancelled.\n\n")
	case mode == RegenFails:
		t.print("\nRegenerating the authz " + use + " key ...\nExecuted command unsuccessfully\nError: unable to store the new authz " + use + " key: keystore is locked\n\n")
	case mode == RegenSilent:
		t.print("\nPlease wait ...\n\n")
	default:
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.mu.Lock()
		c.gen++
		c.keys[use] = fmt.Sprintf("authz-%s-%04d-%s", use, c.gen, hex.EncodeToString(b))
		c.mu.Unlock()
		t.print("\nRegenerating the authz " + use + " key ...\nThe authz " + use + " key was regenerated successfully.\n\n")
	}
	return true
}

func (c *CLI) restart(t *terminal, service string) bool {
	if service != "Cisco XCP Authentication Service" {
		c.errorf("unexpected service restart %q", service)
	}
	c.mu.Lock()
	fail := c.restartFail
	c.mu.Unlock()
	t.print("\nDo not press Ctrl+C while the service is restarting. If the service has not restarted properly, execute the same command again.\nService Manager is running\n")
	if fail {
		t.print(service + "[STOPPING]\nCommand failed -- " + service + " could not be started\n\n")
		return true
	}
	c.restarts.Add(service)
	t.print(service + "[STOPPING]\n" + service + "[STARTING]\n" + service + "[STARTED]\n\n")
	return true
}
