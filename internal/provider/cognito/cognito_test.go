package cognito_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/cognito"
	"github.com/idpctl/idpctl/internal/provider/cognito/cognitofake"
	"github.com/idpctl/idpctl/internal/provider/fakekit"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

const (
	pool   = "eu-west-1_AbCdEf123"
	region = "eu-west-1"
	akid   = "AKIAIOSFODNN7EXAMPLE"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// noBackoff lets the SDK's retryer repeat at once.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func awsConfig() *aws.Config {
	return &aws.Config{
		Region:      "us-east-1", // the adapter's region wins
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noBackoff{}; o.MaxAttempts = 4 })
		},
	}
}

func setup(t *testing.T) (*cognitofake.Fake, *cognito.Provider) {
	t.Helper()
	f := cognitofake.New(t, pool, region, akid, secret)
	providertest.Watch(t, f.Close, f.Violations)
	env := providertest.Env(t, f.URL, &provider.AdminAuth{}, httpx.Options{Sleep: providertest.NoSleep})
	env.Settings = map[string]string{"user_pool_id": pool, "jwks_url": f.URL + "/" + pool + "/.well-known/jwks.json"}
	p, err := cognito.NewWithConfig(env, awsConfig())
	if err != nil {
		t.Fatal(err)
	}
	f.AddUser(cognitofake.User{Username: "ada", Sub: "0e2f-ada", Email: "ada@example.com"})
	f.AddUser(cognitofake.User{Username: "7d1c9a40-uuid-bob", Sub: "7d1c9a40-uuid-bob", Email: "bob@example.com"})
	f.AddUser(cognitofake.User{Username: "c3", Sub: "c3", Email: `o"hara@example.com`})
	return f, p.(*cognito.Provider)
}

func TestRevokingSignsTheUserOutGlobally(t *testing.T) {
	f, p := setup(t)
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada"})
	if err != nil || res.Outcome != provider.OutcomeRevoked || f.SignOuts("ada") != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	if !strings.Contains(res.StillValid, "60 minutes by default") || !strings.Contains(res.StillValid, "AccessTokenValidity") {
		t.Errorf("still valid: %q", res.StillValid)
	}
	if got := strings.Join(f.Targets(), ","); got != "AdminGetUser,AdminUserGlobalSignOut" {
		t.Fatalf("calls %s", got)
	}
	body := f.Body("AdminUserGlobalSignOut")
	if body["UserPoolId"] != pool || body["Username"] != "ada" {
		t.Fatalf("body %v", body)
	}
}

func TestAnEmailIsResolvedWithAnExactListUsersFilter(t *testing.T) {
	f, p := setup(t)
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "bob@example.com"})
	if err != nil || res.Outcome != provider.OutcomeRevoked || f.SignOuts("7d1c9a40-uuid-bob") != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := f.Body("ListUsers")["Filter"]; got != `email = "bob@example.com"` {
		t.Fatalf("filter %v", got)
	}
	if _, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: `o"hara@example.com`}); err != nil || f.SignOuts("c3") != 1 {
		t.Fatalf("a quote in the email: %v (filter %v)", err, f.Body("ListUsers")["Filter"])
	}
}

func TestWithAClientTheResultSaysHowLongItsTokensStayValid(t *testing.T) {
	f, p := setup(t)
	f.AddClient("3n4b5urk1ft4fl3mg5e62d9ado", map[string]any{"ClientName": "web", "AccessTokenValidity": 15, "IdTokenValidity": 2,
		"TokenValidityUnits": map[string]any{"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "days"}})
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada", Client: "3n4b5urk1ft4fl3mg5e62d9ado"})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("%+v, %v", res, err)
	}
	if !strings.Contains(res.StillValid, "15m for access tokens") || !strings.Contains(res.StillValid, "2h for ID tokens") || !strings.Contains(res.Detail, "all app clients") {
		t.Fatalf("%+v", res)
	}
	_, err = p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada", Client: "nope"})
	providertest.WantKind(t, err, errs.KindUsage, "no app client nope")
	if f.SignOuts("ada") != 1 {
		t.Fatal("a mistyped client still signed the user out")
	}
}

func TestAnUnknownUserIsNotFound(t *testing.T) {
	f, p := setup(t)
	for _, user := range []string{"nobody", "nobody@example.com"} {
		res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: user})
		if err != nil || res.Outcome != provider.OutcomeUserNotFound {
			t.Fatalf("%s: %+v, %v", user, res, err)
		}
	}
	if strings.Contains(strings.Join(f.Targets(), ","), "AdminUserGlobalSignOut") {
		t.Fatal("signed out a user not found")
	}
}

func TestThrottlingIsRetriedByTheSDK(t *testing.T) {
	f, p := setup(t)
	f.Faults.Inject(fakekit.Injection{Path: "/AdminUserGlobalSignOut", Fault: cognitofake.Throttled, Times: 2})
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada"})
	if err != nil || res.Outcome != provider.OutcomeRevoked || f.SignOuts("ada") != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := strings.Join(f.Targets(), ","); got != "AdminGetUser,AdminUserGlobalSignOut,AdminUserGlobalSignOut,AdminUserGlobalSignOut" {
		t.Fatalf("calls %s", got)
	}
	f.Faults.Inject(fakekit.Injection{Path: "/AdminUserGlobalSignOut", Fault: cognitofake.Throttled, Times: -1})
	_, err = p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada"})
	providertest.WantKind(t, err, errs.KindNetwork, "TooManyRequestsException")
}

func TestRefusalsAndProxyPagesAreClassified(t *testing.T) {
	cases := []struct {
		fault fakekit.Fault
		kind  errs.Kind
		text  string
	}{
		{fakekit.Unauthorized, errs.KindRefused, "UnrecognizedClientException"},
		{fakekit.Forbidden, errs.KindRefused, "cognito-idp:AdminGetUser"},
		{fakekit.HTMLPage, errs.KindNetwork, ""},
		{fakekit.ServerError, errs.KindNetwork, "InternalErrorException"},
	}
	for _, c := range cases {
		t.Run(c.fault.String(), func(t *testing.T) {
			f, p := setup(t)
			f.Faults.Inject(fakekit.Injection{Fault: c.fault, Times: -1})
			_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada"})
			providertest.WantKind(t, err, c.kind, c.text)
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error carries the secret key: %v", err)
			}
		})
	}
}

func TestThePlanNamesTheOperationsAndIAMActions(t *testing.T) {
	_, p := setup(t)
	calls, err := p.PlanRevokeUser(provider.RevokeUserRequest{User: "ada@example.com", Client: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, c := range calls {
		all = append(all, c.String())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{"X-Amz-Target: AWSCognitoIdentityProviderService.AdminGetUser", "AWSCognitoIdentityProviderService.ListUsers", `email = "ada@example.com"`,
		"AWSCognitoIdentityProviderService.AdminUserGlobalSignOut", cognito.ActSignOut, cognito.ActGetUser, cognito.ActListUsers, cognito.ActDescribeClient} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
}

// A client with every attribute set, as DescribeUserPoolClient answers.
func richClient() map[string]any {
	return map[string]any{
		"ClientName": "web", "ClientSecret": "client-secret-value", "RefreshTokenValidity": 30, "AccessTokenValidity": 1, "IdTokenValidity": 1,
		"ReadAttributes": []any{"email", "name"}, "WriteAttributes": []any{"name"},
		"ExplicitAuthFlows": []any{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}, "SupportedIdentityProviders": []any{"COGNITO", "Google"},
		"CallbackURLs": []any{"https://app.example.com/cb"}, "LogoutURLs": []any{"https://app.example.com/bye"}, "DefaultRedirectURI": "https://app.example.com/cb",
		"AllowedOAuthFlows": []any{"code"}, "AllowedOAuthScopes": []any{"openid", "email"}, "AllowedOAuthFlowsUserPoolClient": true,
		"AnalyticsConfiguration":     map[string]any{"ApplicationId": "pinpoint-app", "ExternalId": "ext", "RoleArn": "arn:aws:iam::123456789012:role/pinpoint", "UserDataShared": true},
		"PreventUserExistenceErrors": "ENABLED", "EnableTokenRevocation": false, "EnablePropagateAdditionalUserContextData": true, "AuthSessionValidity": 10,
		"RefreshTokenRotation": map[string]any{"Feature": "ENABLED", "RetryGracePeriodSeconds": 30},
	}
}

func TestSettingExpiryWritesEveryAttributeBackAndReadsBack(t *testing.T) {
	f, p := setup(t)
	f.AddClient("c1", richClient())
	before := f.Client("c1")
	access := 15 * time.Minute
	plan, err := p.PlanExpiry(context.Background(), "c1", provider.LifetimeChange{AccessToken: &access})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Before.AccessToken.Value != time.Hour || plan.After.AccessToken.Value != access || plan.After.RefreshToken.Value != 30*24*time.Hour {
		t.Fatalf("plan %+v -> %+v", plan.Before.AccessToken, plan.After.AccessToken)
	}
	if got := strings.Join(f.Targets(), ","); got != "DescribeUserPoolClient" {
		t.Fatalf("planning sent %s", got)
	}
	got, err := p.ApplyExpiry(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken.Value != access || got.RefreshToken.Value != 30*24*time.Hour || got.Rotation == nil || !*got.Rotation {
		t.Fatalf("read back %+v", got)
	}
	after := f.Client("c1")
	for k, v := range before {
		switch k {
		case "AccessTokenValidity", "IdTokenValidity", "TokenValidityUnits", "LastModifiedDate":
			continue
		}
		if !reflect.DeepEqual(norm(after[k]), norm(v)) {
			t.Errorf("%s was %v, is %v after the update", k, v, after[k])
		}
	}
	sent := f.Body("UpdateUserPoolClient")
	if units := sent["TokenValidityUnits"]; !reflect.DeepEqual(norm(units), norm(map[string]any{"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"})) {
		t.Errorf("units sent %v", units)
	}
	if n, _ := fakekit.Int(sent["AccessTokenValidity"]); n != 15 {
		t.Errorf("access sent %v", sent["AccessTokenValidity"])
	}
	if _, leaked := sent["ClientSecret"]; leaked {
		t.Error("the client secret was sent back")
	}
	if strings.Contains(strings.Join(got.Notes, " "), "client-secret-value") {
		t.Error("the client secret is in the result")
	}
}

// norm turns json.Number and ints into float64 for comparison.
func norm(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = norm(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case int:
		return float64(x)
	}
	if n, ok := fakekit.Int(v); ok {
		return float64(n)
	}
	return v
}

func TestLimitsAreCheckedBeforeAnythingIsSent(t *testing.T) {
	f, p := setup(t)
	f.AddClient("c1", richClient())
	d := func(s time.Duration) *time.Duration { return &s }
	for _, ch := range []provider.LifetimeChange{
		{AccessToken: d(4 * time.Minute)}, {AccessToken: d(25 * time.Hour)},
		{RefreshToken: d(59 * time.Minute)}, {RefreshToken: d(3651 * 24 * time.Hour)},
	} {
		_, err := p.PlanExpiry(context.Background(), "c1", ch)
		providertest.WantKind(t, err, errs.KindUsage, "must be whole seconds")
	}
	_, err := p.PlanExpiry(context.Background(), "c1", provider.LifetimeChange{RefreshIdle: d(time.Hour)})
	providertest.WantKind(t, err, errs.KindUnsupported, "idle")
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests for refused changes", n)
	}
	// The edges are accepted, and the fake (which applies Cognito's
	// limits) takes them.
	plan, err := p.PlanExpiry(context.Background(), "c1", provider.LifetimeChange{AccessToken: d(5 * time.Minute), RefreshToken: d(3650 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ApplyExpiry(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
}

func TestAClientWithoutUnitsIsReadInHoursAndDays(t *testing.T) {
	f, p := setup(t)
	f.AddClient("c1", map[string]any{"ClientName": "old", "AccessTokenValidity": 2, "RefreshTokenValidity": 10})
	f.AddClient("c2", map[string]any{"ClientName": "bare"})
	l, err := p.GetExpiry(context.Background(), "c1")
	if err != nil || l.AccessToken.Value != 2*time.Hour || l.RefreshToken.Value != 10*24*time.Hour {
		t.Fatalf("%+v, %v", l, err)
	}
	l, err = p.GetExpiry(context.Background(), "c2")
	if err != nil || l.AccessToken.Value != time.Hour || l.AccessToken.Source != provider.SourceInherited || l.RefreshToken.Value != 30*24*time.Hour {
		t.Fatalf("%+v, %v", l, err)
	}
	refresh := 90 * time.Minute
	plan, err := p.PlanExpiry(context.Background(), "c1", provider.LifetimeChange{RefreshToken: &refresh})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ApplyExpiry(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	// The unchanged access token keeps its 2 hours, now with its unit.
	c := f.Client("c1")
	if n, _ := fakekit.Int(c["AccessTokenValidity"]); n != 2 || c["TokenValidityUnits"].(map[string]any)["AccessToken"] != "hours" {
		t.Fatalf("client %v", c)
	}
}

// Every attribute UpdateUserPoolClient takes that DescribeUserPoolClient
// returns must be copied: one left out is reset to its default by the
// update. A new SDK attribute fails this test until UpdateInput copies it.
func TestUpdateInputCopiesEveryAttributeTheClientHas(t *testing.T) {
	var c types.UserPoolClientType
	fill(reflect.ValueOf(&c).Elem())
	in := cognito.UpdateInput(&c)
	iv, cv := reflect.ValueOf(in).Elem(), reflect.ValueOf(c)
	for i := 0; i < iv.NumField(); i++ {
		field := iv.Type().Field(i)
		if !field.IsExported() {
			continue
		}
		src := cv.FieldByName(field.Name)
		if !src.IsValid() {
			continue
		}
		if !reflect.DeepEqual(deref(iv.Field(i)), deref(src)) {
			t.Errorf("UpdateInput does not copy %s: got %v, want %v", field.Name, deref(iv.Field(i)), deref(src))
		}
	}
	_ = cip.UpdateUserPoolClientInput{}
}

func deref(v reflect.Value) any {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	return v.Interface()
}

// fill sets every exported field of v to a value that is not zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(1700000000, 0)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.String:
		v.SetString("v-" + v.Type().Name())
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(7)
	case reflect.Bool:
		v.SetBool(true)
	}
}

func TestAppsArePagedByNextToken(t *testing.T) {
	f, p := setup(t)
	f.PageSize = 1
	for _, id := range []string{"c1", "c2", "c3"} {
		f.AddClient(id, map[string]any{"ClientName": "app " + id})
	}
	apps, err := p.ListApps(context.Background())
	if err != nil || len(apps) != 3 || apps[2].ID != "c3" || apps[2].Name != "app c3" {
		t.Fatalf("%+v, %v", apps, err)
	}
}

func TestKeysAreListedFromThePoolsJWKS(t *testing.T) {
	_, p := setup(t)
	keys, err := p.ListKeys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].KID != "cognito-kid-1" || keys[0].Algorithm != "RS256" {
		t.Fatalf("%+v, %v", keys, err)
	}
}

func TestThePoolIDIsRequiredAndNamesTheRegion(t *testing.T) {
	hc := providertest.HTTP(t, httpx.Options{})
	_, err := cognito.New(&provider.Env{HTTP: hc, Settings: map[string]string{}})
	providertest.WantKind(t, err, errs.KindUsage, "user_pool_id")
	_, err = cognito.New(&provider.Env{HTTP: hc, Settings: map[string]string{"user_pool_id": "nonsense"}})
	providertest.WantKind(t, err, errs.KindUsage, "not a user pool id")
	p, err := cognito.New(&provider.Env{HTTP: hc, Settings: map[string]string{"user_pool_id": "ap-southeast-2_Xy12"}})
	if err != nil || p.(*cognito.Provider).Base.Host != "cognito-idp.ap-southeast-2.amazonaws.com" {
		t.Fatalf("%v", err)
	}
}

func TestMissingAWSCredentialsAreALoginProblem(t *testing.T) {
	f := cognitofake.New(t, pool, region, akid, secret)
	providertest.Watch(t, f.Close, f.Violations)
	env := providertest.Env(t, f.URL, &provider.AdminAuth{}, httpx.Options{Sleep: providertest.NoSleep})
	env.Settings = map[string]string{"user_pool_id": pool}
	cfg := awsConfig()
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errs.New(errs.KindUnknown, "no EC2 IMDS role found")
	})
	p, err := cognito.NewWithConfig(env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.(*cognito.Provider).RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada"})
	providertest.WantKind(t, err, errs.KindLoginRequired, "AWS_PROFILE")
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d unsigned requests", n)
	}
}

func TestConcurrentRevocationsShareOneClient(t *testing.T) {
	f, p := setup(t)
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ada"})
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if f.SignOuts("ada") != 8 {
		t.Fatalf("sign-outs %d", f.SignOuts("ada"))
	}
}
