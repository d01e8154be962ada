package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/hostile"
)

// hostileSecret is the client secret every client of a hostile IdP uses;
// it must never come back in a message.
const hostileSecret = "client-secret-of-a-hostile-idp-client"

// hostileClient is a confidential client of s (client_secret_basic, the
// secret in a file) with a memory store: nothing cached between runs.
func hostileClient(t testing.TB, s *hostile.Server) *Env {
	t.Helper()
	e := newEnv(t).Set("IDPCTL_STORE", "memory").Set("IDPCTL_ISSUER", s.URL).Set("IDPCTL_CLIENT_ID", "hostile-client")
	e.Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "client-secret", hostileSecret+"\n", true))
	return e
}

// checkOneLineError checks how a failure is told: the exit status, one
// line on stderr (besides warnings) with no stack trace, no echo of the
// server's body and no secret, and the words say.
func checkOneLineError(t testing.TB, e *Env, r Result, code int, say ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("want exit %d\n%s", code, r)
		return
	}
	lines := messageLines(r.Stderr)
	if len(lines) != 1 {
		t.Errorf("want a one-line message, got %d lines:\n%s", len(lines), r.Stderr)
	}
	for _, bad := range []string{hostile.BodyMarker, "goroutine ", "panic:", ".go:"} {
		if strings.Contains(r.Stderr, bad) {
			t.Errorf("the message contains %q (a body dump or a stack trace):\n%s", bad, r.Stderr)
		}
	}
	if msg := strings.Join(lines, "\n"); len(msg) > 600 {
		t.Errorf("the message is %d bytes long; one line for a person is shorter:\n%s", len(msg), msg)
	}
	for _, s := range e.Secrets() {
		if strings.Contains(r.Stderr, s) || (code != 0 && strings.Contains(r.Stdout, s)) {
			t.Errorf("the output quotes a secret of %d characters", len(s))
		}
	}
	if jwtShape.MatchString(r.Stderr) {
		t.Error("the message quotes a JWT")
	}
	low := strings.ToLower(r.Stderr)
	for _, s := range say {
		if !strings.Contains(low, strings.ToLower(s)) {
			t.Errorf("the message should contain %q:\n%s", s, r.Stderr)
		}
	}
}

// hostileCase is one misbehaviour of an IdP and what idpctl must make of it.
type hostileCase struct {
	name   string
	config hostile.Config
	// leaf, when set, serves https with a certificate from a test CA;
	// trustCA passes that CA with --ca-file.
	leaf    *hostile.Leaf
	trustCA bool
	// args default to `token get`; stdin, when set, is made from the
	// running server (a token for `token inspect -`).
	args  []string
	stdin func(s *hostile.Server) string
	code  int
	say   []string
	// tokenPOSTs is the exact number of requests the token endpoint must
	// see: never more than one, since a repeated POST can replay a grant.
	tokenPOSTs int
	// discoveries, when not zero, is the range of discovery requests.
	discoveries [2]int
	// jwksFetches, when not zero, is the exact number of JWKS requests.
	jwksFetches int
	// slowest and fastest bound the run's duration, when not zero.
	slowest, fastest time.Duration
	// check looks further at a successful run.
	check func(t *testing.T, s *hostile.Server, r Result)
}

const (
	rateLimitWait = 2 * time.Second
	shortTimeout  = "2s"
)

func hostileCases() []hostileCase {
	inspect := []string{"token", "inspect", "-"}
	minutes := func(n int) int64 { return time.Now().Add(time.Duration(n) * time.Minute).Unix() }
	signed := func(extra map[string]any) func(*hostile.Server) string {
		return func(s *hostile.Server) string { return s.SignRS256(hostile.KeyID, s.Claims(extra)) }
	}
	// expiredAgo signs when the run starts, not when the cases are listed:
	// a parallel case may wait its turn for longer than d.
	expiredAgo := func(d time.Duration) func(*hostile.Server) string {
		return func(s *hostile.Server) string {
			return s.SignRS256(hostile.KeyID, s.Claims(map[string]any{"iat": minutes(-60), "exp": time.Now().Add(-d).Unix()}))
		}
	}
	oneRequest := [2]int{1, 1}
	issuedToken := func(t *testing.T, s *hostile.Server, r Result) {
		if tok := tokenLine(t, r); !slices.Contains(s.Issued(), tok) {
			t.Errorf("token get did not print the token the IdP issued")
		}
	}
	jsonExpiry := func(lo, hi time.Duration) func(*testing.T, *hostile.Server, Result) {
		return func(t *testing.T, s *hostile.Server, r Result) {
			var doc struct {
				AccessToken string `json:"access_token"`
				ExpiresAt   string `json:"expires_at"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
				t.Fatalf("-o json: %v\n%s", err, r)
			}
			at, err := time.Parse(time.RFC3339, doc.ExpiresAt)
			if err != nil {
				t.Fatalf("expires_at %q is not RFC 3339: %v", doc.ExpiresAt, err)
			}
			if d := time.Until(at); d < lo || d > hi {
				t.Errorf("expires_at is %s away, want between %s and %s", d.Round(time.Second), lo, hi)
			}
		}
	}
	cases := []hostileCase{
		// Discovery.
		{
			name: "discovery answering an HTML page is a network error", code: 5, say: []string{"HTML"},
			config: hostile.Config{Discovery: hostile.HTML(http.StatusOK)}, discoveries: oneRequest,
		},
		{
			name: "truncated discovery JSON is a network error", code: 5, say: []string{"malformed JSON"},
			config: hostile.Config{Discovery: hostile.Truncated()}, discoveries: oneRequest,
		},
		{
			name: "a 50 MB discovery document is cut off at the size cap", code: 5, say: []string{"larger than"},
			config: hostile.Config{Discovery: hostile.Oversized(50 << 20)}, discoveries: oneRequest,
		},
		{
			name: "discovery trickled at one byte a second is cut by --timeout", code: 5, say: []string{"within 2s"},
			config: hostile.Config{Discovery: hostile.Trickle(time.Second)}, args: []string{"token", "get", "--timeout", shortTimeout},
			// Discovery is idempotent, so a timeout may be retried, but
			// only a bounded number of times.
			discoveries: [2]int{1, 5}, slowest: 30 * time.Second,
		},
		{
			name: "discovery naming another issuer is refused", code: 4, say: []string{"issuer", "OIDC Discovery §4.3"},
			config: hostile.Config{Issuer: "http://127.0.0.1:1/someone-else"}, discoveries: oneRequest,
		},
		{
			name: "a plain-http token endpoint on another host is refused before any request", code: 4, say: []string{"non-https", "idp.example.invalid"},
			config: hostile.Config{Endpoints: map[string]string{"token_endpoint": "http://idp.example.invalid/token"}}, discoveries: oneRequest,
		},
		{
			name: "a 429 with Retry-After in seconds on discovery is waited out and retried", code: 0,
			config:      hostile.Config{Discovery: hostile.Limited(1, http.StatusTooManyRequests, hostile.RetryAfterSeconds(rateLimitWait), nil)},
			discoveries: [2]int{2, 2}, tokenPOSTs: 1, fastest: rateLimitWait - 500*time.Millisecond, check: issuedToken,
		},
		{
			name: "a 503 with Retry-After as an HTTP date on discovery is waited out and retried", code: 0,
			config:      hostile.Config{Discovery: hostile.Limited(1, http.StatusServiceUnavailable, hostile.RetryAfterDate(rateLimitWait), nil)},
			discoveries: [2]int{2, 2}, tokenPOSTs: 1, fastest: rateLimitWait - 500*time.Millisecond, check: issuedToken,
		},
		{
			name: "a 429 on discovery that does not clear is a network error after a bounded number of tries", code: 5, say: []string{"429"},
			config:      hostile.Config{Discovery: hostile.Limited(-1, http.StatusTooManyRequests, hostile.RetryAfterSeconds(0), nil)},
			discoveries: [2]int{2, 5}, slowest: 20 * time.Second,
		},

		// The JWKS, fetched by token inspect.
		{
			name: "a token signed with the published key verifies", code: 0,
			args: inspect, stdin: signed(nil), jwksFetches: 1,
		},
		{
			name: "a JWKS answering an HTML page is a network error", code: 5, say: []string{"JWKS", "JSON"},
			config: hostile.Config{JWKS: hostile.HTML(http.StatusOK)}, args: inspect, stdin: signed(nil),
		},
		{
			name: "a truncated JWKS is a network error", code: 5, say: []string{"JWKS", "JSON"},
			config: hostile.Config{JWKS: hostile.Truncated()}, args: inspect, stdin: signed(nil),
		},
		{
			name: "a 50 MB JWKS is cut off at the size cap", code: 5, say: []string{"larger than"},
			config: hostile.Config{JWKS: hostile.Oversized(50 << 20)}, args: inspect, stdin: signed(nil),
		},
		{
			name: "a token whose kid the JWKS lacks is refused after one refetch", code: 1, say: []string{"kid", "rotated-away"},
			args: inspect, jwksFetches: 2,
			stdin: func(s *hostile.Server) string { return s.SignRS256("rotated-away", s.Claims(nil)) },
		},
		{
			name: "an unsigned token (alg none) is refused", code: 1, say: []string{"alg none"},
			args: inspect, stdin: func(s *hostile.Server) string { return s.Unsigned(s.Claims(nil)) },
		},
		{
			name: "an HS256 token keyed with the RSA public key is refused", code: 1, say: []string{"HS256", "not allowed"},
			args: inspect, stdin: func(s *hostile.Server) string { return s.HS256WithPublicKey(s.Claims(nil)) },
		},
		{
			name: "a token expired ten minutes ago is refused", code: 1, say: []string{"expired"},
			args: inspect, stdin: signed(map[string]any{"iat": minutes(-70), "exp": minutes(-10)}),
		},
		{
			name: "a token expired ten minutes ago holds with --leeway 15m", code: 0,
			args: append(inspect, "--leeway", "15m"), stdin: signed(map[string]any{"iat": minutes(-70), "exp": minutes(-10)}),
		},
		{
			name: "a token expired 30 seconds ago holds within the default leeway of a minute", code: 0,
			args:  inspect,
			stdin: expiredAgo(30 * time.Second),
		},
		{
			name: "a token expired 30 seconds ago is refused with --leeway 0s", code: 1, say: []string{"expired"},
			args:  append(inspect, "--leeway", "0s"),
			stdin: expiredAgo(30 * time.Second),
		},
		{
			name: "a token not valid for another ten minutes is refused", code: 1, say: []string{"not valid before"},
			args: inspect, stdin: signed(map[string]any{"nbf": minutes(10), "exp": minutes(70)}),
		},
		{
			name: "a token not valid for another ten minutes holds with --leeway 15m", code: 0,
			args: append(inspect, "--leeway", "15m"), stdin: signed(map[string]any{"nbf": minutes(10), "exp": minutes(70)}),
		},
		{
			name: "a token issued ten minutes in the future is refused", code: 1, say: []string{"issued in the future"},
			args: inspect, stdin: signed(map[string]any{"iat": minutes(10), "exp": minutes(70)}),
		},
		{
			name: "a token issued ten minutes in the future holds with --leeway 15m", code: 0,
			args: append(inspect, "--leeway", "15m"), stdin: signed(map[string]any{"iat": minutes(10), "exp": minutes(70)}),
		},

		// The token endpoint.
		{
			name: "a token endpoint answering an HTML page is a network error", code: 5, say: []string{"HTML"},
			config: hostile.Config{Token: hostile.HTML(http.StatusOK)}, tokenPOSTs: 1,
		},
		{
			name: "a truncated token response is a network error", code: 5, say: []string{"malformed JSON"},
			config: hostile.Config{Token: hostile.Truncated()}, tokenPOSTs: 1,
		},
		{
			name: "a 50 MB token response is cut off at the size cap", code: 5, say: []string{"larger than"},
			config: hostile.Config{Token: hostile.Oversized(50 << 20)}, tokenPOSTs: 1,
		},
		{
			name: "a token response trickled at one byte a second is cut by --timeout and not retried", code: 5, say: []string{"within 2s"},
			config: hostile.Config{Token: hostile.Trickle(time.Second)}, args: []string{"token", "get", "--timeout", shortTimeout},
			tokenPOSTs: 1, slowest: 10 * time.Second,
		},
		{
			name: "a token response without expires_in is used", code: 0,
			config: hostile.Config{Token: hostile.Token(map[string]any{"expires_in": nil})}, tokenPOSTs: 1, check: issuedToken,
		},
		{
			name: "expires_in as a numeric string is read", code: 0, args: []string{"token", "get", "-o", "json"},
			config: hostile.Config{Token: hostile.Token(map[string]any{"expires_in": "3600"})}, tokenPOSTs: 1,
			check: jsonExpiry(59*time.Minute, 61*time.Minute),
		},
		{
			name: "expires_in as a word is refused", code: 5, say: []string{"expires_in"},
			config: hostile.Config{Token: hostile.Token(map[string]any{"expires_in": "soon"})}, tokenPOSTs: 1,
		},
		{
			name: "a negative expires_in is refused", code: 5, say: []string{"expires_in"},
			config: hostile.Config{Token: hostile.Token(map[string]any{"expires_in": -60})}, tokenPOSTs: 1,
		},
		{
			name: "a huge expires_in is capped to a date that can be printed", code: 0, args: []string{"token", "get", "-o", "json"},
			config: hostile.Config{Token: hostile.Token(map[string]any{"expires_in": 1e300})}, tokenPOSTs: 1,
			check: jsonExpiry(365*24*time.Hour, 11*365*24*time.Hour),
		},
		{
			name: "a MAC token is refused", code: 4, say: []string{`"mac"`, "Bearer"},
			config: hostile.Config{Token: hostile.Token(map[string]any{"token_type": "mac"})}, tokenPOSTs: 1,
		},
		{
			name: "a DPoP-bound token is refused", code: 4, say: []string{"DPoP"},
			config: hostile.Config{Token: hostile.Token(map[string]any{"token_type": "DPoP"})}, tokenPOSTs: 1,
		},
		// TLS.
		{
			name: "https with a certificate from a trusted CA works", code: 0, trustCA: true,
			leaf: leafPtr(hostile.LoopbackLeaf()), tokenPOSTs: 1, check: issuedToken,
		},
		{
			name: "https with a certificate from an unknown CA names --ca-file", code: 5, say: []string{"unknown authority", "--ca-file"},
			leaf: leafPtr(hostile.LoopbackLeaf()),
		},
		{
			name: "https with an expired certificate is a network error", code: 5, say: []string{"expired"}, trustCA: true,
			leaf: leafPtr(hostile.Leaf{
				IPs:       []net.IP{net.IPv4(127, 0, 0, 1)},
				NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
			}),
		},
		{
			name: "https with a certificate for another host name is a network error", code: 5, say: []string{"not valid for"}, trustCA: true,
			leaf: leafPtr(hostile.Leaf{DNSNames: []string{"idp.example.test"}}),
		},
	}
	return append(cases, tokenRateLimitCases()...)
}

// tokenRateLimitCases are 429 and 503 answers of the token endpoint, with
// Retry-After in both of its forms and with and without an OAuth error
// body. None may be retried: some IdPs answer 429 after consuming the
// grant, and a replayed refresh token revokes the whole grant (RFC 9700
// §4.14.2). Each is a network error (exit 5: "a 429 that did not clear",
// "5xx"), whatever the body says.
func tokenRateLimitCases() []hostileCase {
	var out []hostileCase
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		say, code := "rate limit", "too_many_requests"
		if status == http.StatusServiceUnavailable {
			say, code = "503", "temporarily_unavailable"
		}
		for _, ra := range []struct {
			name  string
			value func() string
		}{
			{"in seconds", hostile.RetryAfterSeconds(time.Second)},
			{"as an HTTP date", hostile.RetryAfterDate(time.Second)},
		} {
			for _, body := range []struct {
				name string
				doc  []byte
			}{
				{"without a body", nil},
				{"with an OAuth error body", hostile.OAuthError(code, "Global limit has been reached")},
			} {
				out = append(out, hostileCase{
					name: fmt.Sprintf("a %d with Retry-After %s %s on the token endpoint is not retried", status, ra.name, body.name),
					code: 5, say: []string{say}, tokenPOSTs: 1,
					config: hostile.Config{Token: hostile.Limited(-1, status, ra.value, body.doc)},
				})
			}
		}
	}
	return out
}

func leafPtr(l hostile.Leaf) *hostile.Leaf { return &l }

func TestHostileIdPAnswersAreToldInOneLineWithTheDocumentedExitCode(t *testing.T) {
	t.Parallel()
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := c.config
			var caFile string
			if c.leaf != nil {
				ca := hostile.NewCA(t)
				cfg.Certificate = ca.Issue(t, *c.leaf)
				caFile = ca.WriteFile(t, t.TempDir())
			}
			s := hostile.Start(t, cfg)
			e := hostileClient(t, s)
			args := c.args
			if args == nil {
				args = []string{"token", "get"}
			}
			if c.trustCA {
				args = append(append([]string(nil), args...), "--ca-file", caFile)
			}
			stdin := ""
			if c.stdin != nil {
				stdin = c.stdin(s) + "\n"
				e.Secret(strings.TrimSpace(stdin))
			}

			began := time.Now()
			r := run(t, e, stdin, args...)
			took := time.Since(began)
			e.Secret(s.Issued()...)

			if c.code == 0 {
				if r.Code != 0 {
					t.Fatalf("want exit 0\n%s", r)
				}
				if c.check != nil {
					c.check(t, s, r)
				}
			} else {
				checkOneLineError(t, e, r, c.code, c.say...)
				// token inspect prints its report, which is data, even for
				// a token that does not hold; other failures print nothing.
				if r.Stdout != "" && args[1] != "inspect" {
					t.Errorf("a failing command printed on stdout:\n%s", r)
				}
			}

			if n := s.Hits(hostile.PathToken); n != c.tokenPOSTs {
				t.Errorf("the token endpoint saw %d requests, want %d", n, c.tokenPOSTs)
			}
			if lo, hi := c.discoveries[0], c.discoveries[1]; hi > 0 {
				if n := s.Hits(hostile.PathDiscovery); n < lo || n > hi {
					t.Errorf("the discovery endpoint saw %d requests, want %d to %d", n, lo, hi)
				}
			}
			if c.jwksFetches > 0 {
				if n := s.Hits(hostile.PathJWKS); n != c.jwksFetches {
					t.Errorf("the JWKS was fetched %d times, want %d", n, c.jwksFetches)
				}
			}
			if c.slowest > 0 && took > c.slowest {
				t.Errorf("the run took %s, want at most %s", took.Round(time.Millisecond), c.slowest)
			}
			if c.fastest > 0 && took < c.fastest {
				t.Errorf("the run took %s: it did not wait as Retry-After asked (at least %s)", took.Round(time.Millisecond), c.fastest)
			}
		})
	}
}

func TestARedirectFromTheTokenEndpointIsNotFollowedWithTheCredentials(t *testing.T) {
	t.Parallel()
	// RFC 9110 §15.4.8: a client following a 307 repeats the POST, body
	// and all, at the new location; with client_secret_basic the
	// Authorization header would go along too (Go's client drops it only
	// across hosts, and 127.0.0.1 ports are the same host name).
	other := hostile.Start(t, hostile.Config{})
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run("with "+method, func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, hostile.Config{Token: hostile.Redirect(http.StatusTemporaryRedirect, other.URL+hostile.PathToken)})
			e := hostileClient(t, s)
			// A redirect where a token was due is an answer that cannot be
			// used: exit 5, naming the status.
			r := run(t, e, "", "token", "get", "--client-auth", method)
			checkOneLineError(t, e, r, 5, "307")
			if n := s.Hits(hostile.PathToken); n != 1 {
				t.Errorf("the token endpoint saw %d requests, want 1", n)
			}
			if !s.Received(hostileSecret) && method == "client_secret_post" {
				t.Error("the first server never saw the client secret: the test proves nothing")
			}
		})
	}
	t.Cleanup(func() {
		reqs := other.Requests()
		if len(reqs) == 0 {
			return
		}
		t.Errorf("the server the redirect pointed at received %d requests (first: %s %s, with an Authorization header: %v)",
			len(reqs), reqs[0].Method, reqs[0].Path, reqs[0].Header.Get("Authorization") != "")
		if other.Received(hostileSecret) {
			t.Error("the client secret was sent to the server the redirect pointed at")
		}
	})
}
