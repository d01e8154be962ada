// Package cognitofake is a contract fake of the Amazon Cognito user pools
// API idpctl's cognito adapter calls, built as a route table from the AWS
// API model cognito-idp 2016-04-18 (as compiled into
// github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider) and the
// Amazon Cognito API Reference.
//
// The protocol is awsJson1_1: every operation is POST / with the header
// X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>, the body
// in application/x-amz-json-1.1, and a SigV4 Authorization header
// (AWS4-HMAC-SHA256 Credential=<AKID>/<yyyymmdd>/<region>/cognito-idp/aws4_request,
// SignedHeaders=..., Signature=...), which the fake verifies with the
// secret key it was given. The route table is keyed by the target: the
// fake serves each operation at "POST /<Operation>" internally after
// checking that it came to "/".
//
// Errors are {"__type":"<Code>","message":"..."} with HTTP 400 (500 for
// InternalErrorException); throttling is TooManyRequestsException, which
// the SDK retries. UpdateUserPoolClient resets every attribute it is not
// sent to its default, as the API reference says of it.
//
// The pool's signing keys are served at GET /{userPoolId}/.well-known/jwks.json.
package cognitofake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Doc is cited in every contract failure.
const Doc = "AWS API model cognito-idp 2016-04-18 (Amazon Cognito user pools API Reference)"

const targetPrefix = "AWSCognitoIdentityProviderService."

// ContentType is the awsJson1_1 media type.
const ContentType = "application/x-amz-json-1.1"

// Throttled is Cognito's throttling answer: 400 TooManyRequestsException.
const Throttled = fakekit.VendorFault

// User is a user of the pool.
type User struct {
	Username, Sub, Email string
}

// Fake is one user pool in one region.
type Fake struct {
	fakekit.Loopback
	*fakekit.Mux
	Faults *fakekit.Faults

	PoolID, Region, AccessKeyID, SecretKey string
	// PageSize, when positive, pages ListUserPoolClients.
	PageSize int

	t        testing.TB
	mu       sync.Mutex
	users    []User
	signOuts map[string]int
	clients  map[string]map[string]any
	order    []string
	keys     []map[string]any
}

// New starts a pool accepting SigV4 signatures of accessKeyID/secretKey.
func New(t testing.TB, poolID, region, accessKeyID, secretKey string) *Fake {
	f := &Fake{PoolID: poolID, Region: region, AccessKeyID: accessKeyID, SecretKey: secretKey, t: t,
		signOuts: map[string]int{}, clients: map[string]map[string]any{}}
	k := fakekit.NewRSAKey()
	jwk := fakekit.PublicMembers(&k.PublicKey)
	jwk["kid"], jwk["alg"], jwk["use"] = "cognito-kid-1", "RS256", "sig"
	f.keys = []map[string]any{jwk}
	str := &fakekit.Schema{Type: "string"}
	strs := &fakekit.Schema{Type: "array", Items: str}
	integer := &fakekit.Schema{Type: "integer"}
	boolean := &fakekit.Schema{Type: "boolean"}
	units := &fakekit.Schema{Type: "string", Enum: []string{"seconds", "minutes", "hours", "days"}}
	obj := func(required []string, props map[string]*fakekit.Schema) *fakekit.Schema {
		return &fakekit.Schema{Type: "object", Required: required, Properties: props}
	}
	route := func(op string, body *fakekit.Schema, answer func(*http.Request, any) fakekit.Answer) fakekit.Route {
		return fakekit.Route{
			Pattern: "POST /" + op, Doc: Doc + " (" + op + ")", ContentType: ContentType, Body: body,
			Header: map[string]string{"X-Amz-Target": targetPrefix + op, "X-Amz-Date": fakekit.Any,
				"Authorization": "AWS4-HMAC-SHA256 Credential=" + accessKeyID + "/*"},
			Answer: answer,
		}
	}
	pool := map[string]*fakekit.Schema{"UserPoolId": str, "Username": str}
	f.Mux = fakekit.NewMux(t,
		route("AdminGetUser", obj([]string{"UserPoolId", "Username"}, pool), f.adminGetUser),
		route("ListUsers", obj([]string{"UserPoolId"}, map[string]*fakekit.Schema{"UserPoolId": str, "Filter": str, "Limit": integer,
			"AttributesToGet": strs, "PaginationToken": str}), f.listUsers),
		route("AdminUserGlobalSignOut", obj([]string{"UserPoolId", "Username"}, pool), f.signOut),
		route("DescribeUserPoolClient", obj([]string{"UserPoolId", "ClientId"}, map[string]*fakekit.Schema{"UserPoolId": str, "ClientId": str}), f.describe),
		route("ListUserPoolClients", obj([]string{"UserPoolId"}, map[string]*fakekit.Schema{"UserPoolId": str, "MaxResults": integer, "NextToken": str}), f.listClients),
		route("UpdateUserPoolClient", obj([]string{"UserPoolId", "ClientId"}, map[string]*fakekit.Schema{
			"UserPoolId": str, "ClientId": str, "ClientName": str,
			"RefreshTokenValidity": integer, "AccessTokenValidity": integer, "IdTokenValidity": integer,
			"TokenValidityUnits": obj(nil, map[string]*fakekit.Schema{"AccessToken": units, "IdToken": units, "RefreshToken": units}),
			"ReadAttributes":     strs, "WriteAttributes": strs,
			"ExplicitAuthFlows":          strs,
			"SupportedIdentityProviders": strs, "CallbackURLs": strs, "LogoutURLs": strs, "DefaultRedirectURI": str,
			"AllowedOAuthFlows":  &fakekit.Schema{Type: "array", Items: &fakekit.Schema{Type: "string", Enum: []string{"code", "implicit", "client_credentials"}}},
			"AllowedOAuthScopes": strs, "AllowedOAuthFlowsUserPoolClient": boolean,
			"AnalyticsConfiguration": obj(nil, map[string]*fakekit.Schema{"ApplicationId": str, "ApplicationArn": str, "RoleArn": str,
				"ExternalId": str, "UserDataShared": boolean}),
			"PreventUserExistenceErrors":               &fakekit.Schema{Type: "string", Enum: []string{"LEGACY", "ENABLED"}},
			"EnableTokenRevocation":                    boolean,
			"EnablePropagateAdditionalUserContextData": boolean,
			"AuthSessionValidity":                      integer,
			"RefreshTokenRotation": obj([]string{"Feature"}, map[string]*fakekit.Schema{
				"Feature": {Type: "string", Enum: []string{"ENABLED", "DISABLED"}}, "RetryGracePeriodSeconds": integer}),
		}), f.update),
		fakekit.Route{Pattern: "GET /{pool}/.well-known/jwks.json", Doc: "Amazon Cognito: verifying a JSON Web Token (the pool's JWKS)", Answer: f.jwks},
	)
	f.Faults = &fakekit.Faults{}
	f.Loopback = fakekit.Serve(http.HandlerFunc(f.serve))
	return f
}

var authPattern = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/([a-z-]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// serve checks the awsJson1_1 envelope and the SigV4 signature, answers
// scheduled faults in Cognito's shapes, and hands the operation to the
// route table.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if r.URL.Path != "/" {
			f.violate(w, r, "an awsJson1_1 operation goes to POST /, not %s", r.URL.Path)
			return
		}
		if problem := f.checkSignature(r, body); problem != "" {
			// A well-formed request signed with the wrong key is AWS's
			// refusal, not a broken contract.
			switch {
			case problem == badSignature:
				f.Mux.Record(fakekit.Capture(r))
				writeError(w, http.StatusBadRequest, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
			case strings.HasPrefix(problem, unknownKey):
				f.Mux.Record(fakekit.Capture(r))
				writeError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
			default:
				f.violate(w, r, "%s", problem)
			}
			return
		}
		// Route by operation: awsJson1_1 posts every one to "/".
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = "/"+op, ""
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r = r2
	}
	if in, ok := f.Faults.Take(r); ok {
		f.Mux.Record(fakekit.Capture(r))
		switch in.Fault {
		case Throttled:
			writeError(w, http.StatusBadRequest, "TooManyRequestsException", "Rate exceeded")
		case fakekit.Unauthorized:
			writeError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		case fakekit.Forbidden:
			writeError(w, http.StatusBadRequest, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/offboarding is not authorized to perform: cognito-idp:"+strings.TrimPrefix(r.URL.Path, "/")+" on resource: arn:aws:cognito-idp:"+f.Region+":123456789012:userpool/"+f.PoolID)
		case fakekit.HTMLPage:
			p := fakekit.BadGateway()
			fakekit.WriteText(w, http.StatusBadGateway, p.ContentType, p.HTML)
		default:
			writeError(w, http.StatusInternalServerError, "InternalErrorException", "An internal error occurred.")
		}
		return
	}
	f.Mux.ServeHTTP(w, r)
}

func (f *Fake) violate(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	f.Mux.Record(fakekit.Capture(r))
	msg := f.Mux.Violate("%s %s: "+format+" (%s)", append([]any{r.Method, r.URL.Path}, append(args, Doc+", Signature Version 4")...)...)
	f.t.Errorf("cognitofake: contract violation: %s", msg)
	writeError(w, http.StatusTeapot, "ContractViolation", msg)
}

// checkSignature recomputes the SigV4 signature over the headers the
// client signed, with the SDK's own signer, and compares.
func (f *Fake) checkSignature(r *http.Request, body []byte) string {
	m := authPattern.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "the Authorization header is not AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/cognito-idp/aws4_request, SignedHeaders=..., Signature=..."
	}
	akid, date, region, service, signed := m[1], m[2], m[3], m[4], strings.Split(m[5], ";")
	switch {
	case akid != f.AccessKeyID:
		return unknownKey + akid
	case region != f.Region:
		return "the credential scope names region " + region + ", want " + f.Region
	case service != "cognito-idp":
		return "the credential scope names service " + service + ", want cognito-idp"
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != date {
		return "X-Amz-Date is missing or does not match the credential scope date"
	}
	for _, h := range []string{"host", "x-amz-date", "x-amz-target", "content-type"} {
		if !contains(signed, h) {
			return "the signature does not cover " + h
		}
	}
	check, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range signed {
		if h != "host" {
			check.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	check.Host = r.Host
	if contains(signed, "content-length") {
		check.ContentLength = int64(len(body))
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != "" && got != hex.EncodeToString(sum[:]) {
		return "X-Amz-Content-Sha256 is not the body's hash"
	}
	creds := aws.Credentials{AccessKeyID: f.AccessKeyID, SecretAccessKey: f.SecretKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, check, hex.EncodeToString(sum[:]), "cognito-idp", f.Region, at); err != nil {
		return "the fake could not sign: " + err.Error()
	}
	if want := authPattern.FindStringSubmatch(check.Header.Get("Authorization")); want == nil || want[6] != m[6] {
		return badSignature
	}
	return ""
}

// The two ways a well-formed signature is refused.
const (
	badSignature = "the SigV4 signature does not verify"
	unknownKey   = "the credential names access key "
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code+":")
	w.Header().Set("X-Amzn-Requestid", "4c2b6e1f-0000-4000-8000-"+strconv.Itoa(status)+"fake")
	fakekit.WriteJSON(w, status, ContentType, map[string]string{"__type": code, "message": msg})
}

func apiError(code, msg string) fakekit.Answer {
	return fakekit.Answer{Status: http.StatusBadRequest, ContentType: ContentType, JSON: map[string]string{"__type": code, "message": msg},
		Header: http.Header{"X-Amzn-Errortype": {code + ":"}, "X-Amzn-Requestid": {"4c2b6e1f-0000-4000-8000-400fake"}}}
}

func ok(v any) fakekit.Answer {
	return fakekit.Answer{ContentType: ContentType, JSON: v, Header: http.Header{"X-Amzn-Requestid": {"4c2b6e1f-0000-4000-8000-200fake"}}}
}

// AddUser adds a user to the pool.
func (f *Fake) AddUser(u User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users = append(f.users, u)
}

// SignOuts counts the global sign-outs of a username.
func (f *Fake) SignOuts(username string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signOuts[username]
}

// AddClient adds an app client with the attributes given (as the API
// returns them); UserPoolId, ClientId and the defaults of attributes not
// given are filled in.
func (f *Fake) AddClient(id string, attrs map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := fakekit.Clone(attrs)
	c["UserPoolId"], c["ClientId"] = f.PoolID, id
	// A created client holds the defaults of what it was not given.
	for k, v := range defaults {
		if _, has := c[k]; !has {
			c[k] = v
		}
	}
	c["CreationDate"], c["LastModifiedDate"] = 1.7e9, 1.7e9
	f.clients[id] = c
	f.order = append(f.order, id)
}

// Client returns an app client's attributes as stored.
func (f *Fake) Client(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakekit.Clone(f.clients[id])
}

func (f *Fake) pool(body any) (map[string]any, *fakekit.Answer) {
	m := body.(map[string]any)
	if m["UserPoolId"] != f.PoolID {
		a := apiError("ResourceNotFoundException", fmt.Sprintf("User pool %v does not exist.", m["UserPoolId"]))
		return nil, &a
	}
	return m, nil
}

func (f *Fake) find(username string) *User {
	for i, u := range f.users {
		if u.Username == username {
			return &f.users[i]
		}
	}
	return nil
}

func attributes(u User) []map[string]string {
	return []map[string]string{{"Name": "sub", "Value": u.Sub}, {"Name": "email", "Value": u.Email}, {"Name": "email_verified", "Value": "true"}}
}

func (f *Fake) adminGetUser(_ *http.Request, body any) fakekit.Answer {
	m, bad := f.pool(body)
	if bad != nil {
		return *bad
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.find(m["Username"].(string))
	if u == nil {
		return apiError("UserNotFoundException", "User does not exist.")
	}
	return ok(map[string]any{"Username": u.Username, "UserAttributes": attributes(*u), "UserStatus": "CONFIRMED", "Enabled": true,
		"UserCreateDate": 1.7e9, "UserLastModifiedDate": 1.7e9})
}

var filterPattern = regexp.MustCompile(`^(\w+) (=|\^=) "((?:[^"\\]|\\.)*)"$`)

func (f *Fake) listUsers(_ *http.Request, body any) fakekit.Answer {
	m, bad := f.pool(body)
	if bad != nil {
		return *bad
	}
	if n, has := fakekit.Int(m["Limit"]); has && (n < 0 || n > 60) {
		return apiError("InvalidParameterException", "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60")
	}
	filter, _ := m["Filter"].(string)
	var name, value string
	if filter != "" {
		fm := filterPattern.FindStringSubmatch(filter)
		if fm == nil || fm[2] != "=" {
			return apiError("InvalidParameterException", "Error while parsing filter.")
		}
		name, value = fm[1], strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(fm[3])
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	users := []map[string]any{}
	for _, u := range f.users {
		if name == "email" && u.Email != value || name == "username" && u.Username != value || name == "sub" && u.Sub != value {
			continue
		}
		users = append(users, map[string]any{"Username": u.Username, "Attributes": attributes(u), "UserStatus": "CONFIRMED", "Enabled": true})
	}
	return ok(map[string]any{"Users": users})
}

func (f *Fake) signOut(_ *http.Request, body any) fakekit.Answer {
	m, bad := f.pool(body)
	if bad != nil {
		return *bad
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.find(m["Username"].(string))
	if u == nil {
		return apiError("UserNotFoundException", "User does not exist.")
	}
	f.signOuts[u.Username]++
	return ok(map[string]any{})
}

func (f *Fake) describe(_ *http.Request, body any) fakekit.Answer {
	m, bad := f.pool(body)
	if bad != nil {
		return *bad
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, found := f.clients[m["ClientId"].(string)]
	if !found {
		return apiError("ResourceNotFoundException", "User pool client "+m["ClientId"].(string)+" does not exist.")
	}
	return ok(map[string]any{"UserPoolClient": fakekit.Clone(c)})
}

func (f *Fake) listClients(_ *http.Request, body any) fakekit.Answer {
	m, bad := f.pool(body)
	if bad != nil {
		return *bad
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := append([]string(nil), f.order...)
	start := 0
	if tok, _ := m["NextToken"].(string); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil {
			return apiError("InvalidParameterException", "Invalid pagination token.")
		}
		start = n
	}
	end := len(ids)
	if f.PageSize > 0 && start+f.PageSize < end {
		end = start + f.PageSize
	}
	var out []map[string]any
	for _, id := range ids[start:end] {
		out = append(out, map[string]any{"ClientId": id, "UserPoolId": f.PoolID, "ClientName": f.clients[id]["ClientName"]})
	}
	doc := map[string]any{"UserPoolClients": out}
	if end < len(ids) {
		doc["NextToken"] = "page-" + strconv.Itoa(end)
	}
	return ok(doc)
}

// defaults are what UpdateUserPoolClient sets an attribute it is not sent to.
var defaults = map[string]any{"RefreshTokenValidity": 30, "AllowedOAuthFlowsUserPoolClient": false, "PreventUserExistenceErrors": "LEGACY",
	"EnableTokenRevocation": true, "EnablePropagateAdditionalUserContextData": false, "AuthSessionValidity": 3}

func (f *Fake) update(_ *http.Request, body any) fakekit.Answer {
	m, bad := f.pool(body)
	if bad != nil {
		return *bad
	}
	if msg := checkValidity(m); msg != "" {
		return apiError("InvalidParameterException", msg)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := m["ClientId"].(string)
	old, found := f.clients[id]
	if !found {
		return apiError("ResourceNotFoundException", "User pool client "+id+" does not exist.")
	}
	c := map[string]any{}
	for k, v := range defaults {
		c[k] = v
	}
	for k, v := range m {
		c[k] = v
	}
	for _, k := range []string{"ClientSecret", "CreationDate"} {
		if v, has := old[k]; has {
			c[k] = v
		}
	}
	c["LastModifiedDate"] = float64(time.Now().Unix())
	f.clients[id] = c
	return ok(map[string]any{"UserPoolClient": fakekit.Clone(c)})
}

// checkValidity applies the API's limits: access and ID tokens 5 minutes
// to 1 day, refresh tokens 60 minutes to 10 years, in their units
// (default hours, hours, days).
func checkValidity(m map[string]any) string {
	units, _ := m["TokenValidityUnits"].(map[string]any)
	size := func(key, def string) time.Duration {
		u, _ := units[key].(string)
		if u == "" {
			u = def
		}
		return map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour}[u]
	}
	for _, c := range []struct {
		attr, unit, def string
		min, max        time.Duration
	}{
		{"AccessTokenValidity", "AccessToken", "hours", 5 * time.Minute, 24 * time.Hour},
		{"IdTokenValidity", "IdToken", "hours", 5 * time.Minute, 24 * time.Hour},
		{"RefreshTokenValidity", "RefreshToken", "days", time.Hour, 3650 * 24 * time.Hour},
	} {
		n, has := fakekit.Int(m[c.attr])
		if !has {
			continue
		}
		if d := time.Duration(n) * size(c.unit, c.def); d < c.min || d > c.max {
			return fmt.Sprintf("Invalid range for token validity: %s %d %s is outside %s to %s.", c.attr, n, c.unit, c.min, c.max)
		}
	}
	return ""
}

func (f *Fake) jwks(r *http.Request, _ any) fakekit.Answer {
	if r.PathValue("pool") != f.PoolID {
		return fakekit.Answer{Status: http.StatusNotFound, JSON: map[string]string{"message": "User pool " + r.PathValue("pool") + " does not exist."}}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakekit.Answer{JSON: map[string]any{"keys": f.keys}}
}

// Targets lists the operations the fake was called with, in order.
func (f *Fake) Targets() []string {
	var out []string
	for _, r := range f.Requests() {
		if r.Method == http.MethodPost {
			out = append(out, strings.TrimPrefix(r.Path, "/"))
		}
	}
	return out
}

// Body is the decoded body of the last call of op.
func (f *Fake) Body(op string) map[string]any {
	reqs := f.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == "/"+op {
			m, _ := fakekit.DecodeObject(reqs[i].Body)
			return m
		}
	}
	return nil
}
