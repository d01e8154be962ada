// Package googlefake is a contract fake of the Google APIs idpctl's google
// adapter calls, built as a route table from Google's documents:
//
//   - Admin SDK Directory API v1, discovery document admin:directory_v1
//     (https://admin.googleapis.com/$discovery/rest?version=directory_v1):
//     users.signOut (POST /admin/directory/v1/users/{userKey}/signOut, 204
//     empty), tokens.list (GET .../users/{userKey}/tokens, a tokenList
//     without paging, items absent when none) and tokens.delete (DELETE
//     .../users/{userKey}/tokens/{clientId}, 204); a userKey is the primary
//     email, an alias or the user id;
//   - Google's OAuth 2.0 token endpoint for service accounts, "Using OAuth
//     2.0 for Server to Server Applications" (the JWT bearer grant of RFC
//     7523: grant_type urn:ietf:params:oauth:grant-type:jwt-bearer and an
//     RS256 assertion with iss, sub, scope, aud, iat, exp of at most an
//     hour).
//
// Errors take Google's shape {"error":{"code","message","errors":[{"message",
// "domain","reason"}],"status"}}: 404 notFound, 403 forbidden, and quota as
// 429 RESOURCE_EXHAUSTED or 403 userRateLimitExceeded ("Admin SDK: limits
// and quotas"), which clients retry with exponential backoff.
package googlefake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Doc is cited in every contract failure.
const Doc = "Admin SDK Directory API v1 (discovery document admin:directory_v1)"

// TokenDoc is cited for the token endpoint.
const TokenDoc = "Google OAuth 2.0 for Server to Server Applications (JWT bearer grant, RFC 7523)"

// Scope is the only scope the fake grants.
const Scope = "https://www.googleapis.com/auth/admin.directory.user.security"

// QuotaForbidden is Google's other quota answer: 403 with reason
// userRateLimitExceeded.
const QuotaForbidden = fakekit.VendorFault

// User is a Workspace user.
type User struct {
	ID, Email string
	Aliases   []string
}

// Grant is one third-party application's access granted by a user.
type Grant struct {
	UserID, ClientID, DisplayText string
	Scopes                        []string
}

// Fake is a Workspace domain and Google's token endpoint.
type Fake struct {
	fakekit.Loopback
	*fakekit.Mux
	Faults *fakekit.Faults

	// ClientEmail and ClientID name the service account; Admin is the
	// subject it may act as; Delegated says whether the domain granted the
	// client id the scope.
	ClientEmail, ClientID, Admin string
	Delegated                    bool

	key *rsa.PrivateKey
	kid string

	mu       sync.Mutex
	users    []User
	grants   []Grant
	signOuts map[string]int
	issued   map[string]bool
	seq      int
}

// New starts the fake with a fresh service account key, delegated for Scope
// and acting as admin.
func New(t testing.TB, admin string) *Fake {
	f := &Fake{
		ClientEmail: "idpctl-offboarding@example-project.iam.gserviceaccount.com",
		ClientID:    "108234567890123456789",
		Admin:       admin,
		Delegated:   true,
		key:         fakekit.NewRSAKey(),
		kid:         "3f1b2c7d9e0a4b5c6d7e8f9012345678abcdef01",
		signOuts:    map[string]int{},
		issued:      map[string]bool{},
	}
	bearer := map[string]string{"Authorization": "Bearer ya29.*"}
	users := "/admin/directory/v1/users/{userKey}"
	f.Mux = fakekit.NewMux(t,
		fakekit.Route{Pattern: "POST /token", Doc: TokenDoc, ContentType: "application/x-www-form-urlencoded",
			Body: &fakekit.Schema{Type: "object", Required: []string{"grant_type", "assertion"}, Properties: map[string]*fakekit.Schema{
				"grant_type": {Type: "string", Enum: []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}},
				"assertion":  {Type: "string"},
			}}, Answer: f.token},
		fakekit.Route{Pattern: "POST " + users + "/signOut", Doc: Doc + " (users.signOut)", Header: bearer, Answer: f.signOut},
		fakekit.Route{Pattern: "GET " + users + "/tokens", Doc: Doc + " (tokens.list)", Header: bearer, Answer: f.listTokens},
		fakekit.Route{Pattern: "DELETE " + users + "/tokens/{clientId}", Doc: Doc + " (tokens.delete)", Header: bearer, Answer: f.deleteToken},
	)
	f.Faults = &fakekit.Faults{
		Body: func(h http.Header, fault fakekit.Fault) any {
			switch fault {
			case fakekit.HTMLPage:
				return fakekit.BadGateway()
			case fakekit.Unauthorized:
				h.Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
				return ErrorBody(401, "Login Required.", "authError", "UNAUTHENTICATED")
			case fakekit.Forbidden:
				return ErrorBody(403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED")
			case fakekit.RateLimited:
				return ErrorBody(429, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'", "rateLimitExceeded", "RESOURCE_EXHAUSTED")
			case fakekit.Unavailable:
				return ErrorBody(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE")
			}
			return ErrorBody(500, "Internal error encountered.", "backendError", "INTERNAL")
		},
		JSON: func(w http.ResponseWriter, status int, v any) {
			fakekit.WriteJSON(w, status, "application/json; charset=UTF-8", v)
		},
	}
	f.Loopback = fakekit.Serve(http.HandlerFunc(f.serve))
	return f
}

// serve answers scheduled faults, Google's 403 quota answer included, and
// hands everything else to the route table.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if in, ok := f.Faults.Take(r); ok {
		f.Mux.Record(fakekit.Capture(r))
		if in.Fault == QuotaForbidden {
			f.Faults.JSON(w, http.StatusForbidden, ErrorBody(403, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'", "userRateLimitExceeded", "PERMISSION_DENIED"))
			return
		}
		f.Faults.Answer(w, in)
		return
	}
	f.Mux.ServeHTTP(w, r)
}

// ErrorBody is Google's error document.
func ErrorBody(code int, message, reason, status string) map[string]any {
	domain := "global"
	if strings.Contains(reason, "RateLimit") || strings.Contains(reason, "rateLimit") {
		domain = "usageLimits"
	}
	return map[string]any{"error": map[string]any{
		"code": code, "message": message, "status": status,
		"errors": []map[string]any{{"message": message, "domain": domain, "reason": reason}},
	}}
}

func answerError(code int, message, reason, status string) fakekit.Answer {
	return fakekit.Answer{Status: code, JSON: ErrorBody(code, message, reason, status), ContentType: "application/json; charset=UTF-8"}
}

// KeyFile is the service account's JSON key file, as the Cloud console
// downloads it. Its token_uri names Google's real endpoint: the adapter
// must send the assertion to the token URL it is configured with instead.
func (f *Fake) KeyFile() string {
	der, err := x509.MarshalPKCS8PrivateKey(f.key)
	if err != nil {
		panic(err)
	}
	doc := map[string]string{
		"type":                        "service_account",
		"project_id":                  "example-project",
		"private_key_id":              f.kid,
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                f.ClientEmail,
		"client_id":                   f.ClientID,
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   "https://oauth2.googleapis.com/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/" + f.ClientEmail,
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// AddUser adds a user to the domain.
func (f *Fake) AddUser(u User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users = append(f.users, u)
}

// Grant records that a user granted an application access.
func (f *Fake) Grant(g Grant) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grants = append(f.grants, g)
}

// Grants lists a user's live grants.
func (f *Fake) Grants(userID string) []Grant {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Grant
	for _, g := range f.grants {
		if g.UserID == userID {
			out = append(out, g)
		}
	}
	return out
}

// SignOuts counts the sign-outs of a user.
func (f *Fake) SignOuts(userID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signOuts[userID]
}

// RevokeIssued makes every access token issued so far invalid, as when an
// admin token is revoked or expires during a run.
func (f *Fake) RevokeIssued() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok := range f.issued {
		f.issued[tok] = false
	}
}

// IssuedTokens counts the access tokens the token endpoint issued.
func (f *Fake) IssuedTokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.issued)
}

func tokenError(status int, code, desc string) fakekit.Answer {
	return fakekit.Answer{Status: status, JSON: map[string]string{"error": code, "error_description": desc}}
}

// token checks the JWT bearer assertion as Google does and issues an
// access token for the delegated admin.
func (f *Fake) token(r *http.Request, body any) fakekit.Answer {
	assertion, _ := body.(map[string]any)["assertion"].(string)
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return tokenError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
	}
	var header struct {
		Alg, Kid, Typ string
	}
	var claims struct {
		Iss, Sub, Scope, Aud string
		Iat, Exp             int64
	}
	if decodePart(parts[0], &header) != nil || decodePart(parts[1], &claims) != nil {
		return tokenError(400, "invalid_grant", "Invalid JWT: unreadable.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || header.Alg != "RS256" || rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return tokenError(400, "invalid_grant", "Invalid JWT Signature.")
	}
	now := time.Now().Unix()
	switch {
	case header.Kid != f.kid || claims.Iss != f.ClientEmail:
		return tokenError(400, "invalid_grant", "Invalid grant: account not found")
	case claims.Aud != "http://"+r.Host+"/token":
		return tokenError(400, "invalid_grant", "Invalid JWT: audience is not the token URL.")
	case claims.Exp-claims.Iat > 3600 || claims.Exp < now || claims.Iat > now+300:
		return tokenError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
	case claims.Sub != f.Admin:
		return tokenError(400, "invalid_grant", "Invalid email or User ID")
	case claims.Scope != Scope || !f.Delegated:
		return tokenError(401, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	tok := fmt.Sprintf("ya29.fake-access-token-%04d", f.seq)
	f.issued[tok] = true
	return fakekit.Answer{JSON: map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"}}
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// authorized checks the bearer was issued by the token endpoint; a
// forged or foreign token is Google's 401.
func (f *Fake) authorized(r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
}

var unauthorized = answerError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "authError", "UNAUTHENTICATED")

// user finds a user by id, primary email or alias (emails without regard
// to case); the caller holds mu.
func (f *Fake) user(key string) *User {
	for i, u := range f.users {
		if u.ID == key || strings.EqualFold(u.Email, key) {
			return &f.users[i]
		}
		for _, a := range u.Aliases {
			if strings.EqualFold(a, key) {
				return &f.users[i]
			}
		}
	}
	return nil
}

var notFound = answerError(404, "Resource Not Found: userKey", "notFound", "NOT_FOUND")

func (f *Fake) signOut(r *http.Request, _ any) fakekit.Answer {
	if !f.authorized(r) {
		return unauthorized
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user(r.PathValue("userKey"))
	if u == nil {
		return notFound
	}
	f.signOuts[u.ID]++
	return fakekit.Answer{Status: http.StatusNoContent}
}

func (f *Fake) listTokens(r *http.Request, _ any) fakekit.Answer {
	if !f.authorized(r) {
		return unauthorized
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user(r.PathValue("userKey"))
	if u == nil {
		return notFound
	}
	doc := map[string]any{"kind": "admin#directory#tokenList", "etag": `"etag-list"`}
	var items []map[string]any
	for _, g := range f.grants {
		if g.UserID == u.ID {
			items = append(items, map[string]any{"kind": "admin#directory#token", "etag": `"etag-` + g.ClientID + `"`,
				"clientId": g.ClientID, "displayText": g.DisplayText, "anonymous": false, "nativeApp": false,
				"userKey": u.ID, "scopes": g.Scopes})
		}
	}
	if len(items) > 0 {
		doc["items"] = items
	}
	return fakekit.Answer{JSON: doc, ContentType: "application/json; charset=UTF-8"}
}

func (f *Fake) deleteToken(r *http.Request, _ any) fakekit.Answer {
	if !f.authorized(r) {
		return unauthorized
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user(r.PathValue("userKey"))
	if u == nil {
		return notFound
	}
	for i, g := range f.grants {
		if g.UserID == u.ID && g.ClientID == r.PathValue("clientId") {
			f.grants = append(f.grants[:i], f.grants[i+1:]...)
			return fakekit.Answer{Status: http.StatusNoContent}
		}
	}
	return answerError(404, "Resource Not Found: clientId", "notFound", "NOT_FOUND")
}
