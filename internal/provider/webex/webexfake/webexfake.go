// Package webexfake is a contract fake of the Webex admin APIs idpctl
// calls, built as a route table from Webex's API reference:
//
//   - Authorizations: OpenAPI "webex-authorizations-api" 1.0.0 (GET
//     /authorizations with personId or personEmail, no pagination; DELETE
//     /authorizations/{authorizationId} answering 204);
//   - People: "List People" (GET /people?email=, or ?max= for an admin
//     listing the organisation) and "Get Person Details"
//     (GET /people/{personId}).
//
// Errors take Webex's shape {"message","errors":[{"description"}],
// "trackingId"}; 429 and 503 carry Retry-After in seconds.
package webexfake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/fakekit"
)

// Doc is cited in every contract failure.
const Doc = "Webex API reference: Authorizations (webex-authorizations-api 1.0.0), People"

// Person is a user the fake knows.
type Person struct {
	ID    string
	Email string
	Name  string
}

// Authorization is one grant to an integration.
type Authorization struct {
	ID, PersonID, ClientID, ApplicationName, Type string
}

// Fake is a Webex org.
type Fake struct {
	fakekit.Loopback
	*fakekit.Mux
	Token string

	mu     sync.Mutex
	people []Person
	auths  []Authorization
	seq    int
}

// New starts a fake accepting the bearer token.
func New(t testing.TB, token string) *Fake {
	f := &Fake{Token: token}
	// Any bearer keeps the contract; a token Webex does not know is
	// refused with 401 before the route answers (serve).
	bearer := map[string]string{"Authorization": "Bearer *"}
	f.Mux = fakekit.NewMux(t,
		fakekit.Route{Pattern: "GET /v1/people", Doc: Doc + " (List People)", Header: bearer, OptionalQuery: []string{"email", "max"}, Answer: f.listPeople},
		fakekit.Route{Pattern: "GET /v1/people/{personId}", Doc: Doc + " (Get Person Details)", Header: bearer, Answer: f.getPerson},
		fakekit.Route{Pattern: "GET /v1/authorizations", Doc: Doc + " (List authorizations for a user)", Header: bearer, OptionalQuery: []string{"personId", "personEmail"}, Answer: f.listAuths},
		fakekit.Route{Pattern: "DELETE /v1/authorizations/{authorizationId}", Doc: Doc + " (Delete authorization)", Header: bearer, Answer: f.deleteAuth},
	)
	f.Mux.Faults = &fakekit.Faults{
		Body: func(h http.Header, fault fakekit.Fault) any {
			if fault == fakekit.HTMLPage {
				return fakekit.BadGateway()
			}
			return errorBody(fmt.Sprintf("fault %s", fault))
		},
		JSON:       func(w http.ResponseWriter, status int, v any) { fakekit.WriteJSON(w, status, "", v) },
		RetryAfter: "2",
	}
	f.Loopback = fakekit.Serve(http.HandlerFunc(f.serve))
	return f
}

// serve refuses an unknown bearer as Webex does, then hands the request to
// the route table.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("Authorization"); strings.HasPrefix(got, "Bearer ") && got != "Bearer "+f.Token {
		if f.Mux.Faults == nil || !f.Mux.Faults.Serve(w, r) {
			f.Mux.Record(fakekit.Capture(r))
			fakekit.WriteJSON(w, http.StatusUnauthorized, "", errorBody("The request requires a valid access token set in the Authorization request header."))
		}
		return
	}
	f.Mux.ServeHTTP(w, r)
}

func errorBody(msg string) map[string]any {
	return map[string]any{"message": msg, "errors": []map[string]string{{"description": msg}}, "trackingId": "ROUTER_FAKE"}
}

// AddPerson adds a user.
func (f *Fake) AddPerson(p Person) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.people = append(f.people, p)
}

// Grant adds an authorization of a person to a client and returns its id.
func (f *Fake) Grant(personID, clientID, app, typ string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("auth-%d", f.seq)
	f.auths = append(f.auths, Authorization{ID: id, PersonID: personID, ClientID: clientID, ApplicationName: app, Type: typ})
	return id
}

// Authorizations lists the live authorizations of a person.
func (f *Fake) Authorizations(personID string) []Authorization {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Authorization
	for _, a := range f.auths {
		if a.PersonID == personID {
			out = append(out, a)
		}
	}
	return out
}

func (f *Fake) listPeople(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	limit := len(f.people)
	if m, err := strconv.Atoi(q.Get("max")); q.Has("max") && (err != nil || m < 1) {
		return fakekit.Answer{Status: http.StatusBadRequest, JSON: errorBody("max must be a positive integer.")}
	} else if q.Has("max") {
		limit = m
	}
	items := []map[string]any{}
	for _, p := range f.people {
		// Webex matches emails without regard to case; an admin may list
		// the whole organisation by leaving the email out.
		if (!q.Has("email") || equalFold(p.Email, q.Get("email"))) && len(items) < limit {
			items = append(items, personJSON(p))
		}
	}
	return fakekit.Answer{JSON: map[string]any{"items": items}}
}

func (f *Fake) getPerson(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.people {
		if p.ID == r.PathValue("personId") {
			return fakekit.Answer{JSON: personJSON(p)}
		}
	}
	return fakekit.Answer{Status: http.StatusNotFound, JSON: errorBody("The requested resource could not be found.")}
}

func personJSON(p Person) map[string]any {
	return map[string]any{"id": p.ID, "emails": []string{p.Email}, "displayName": p.Name}
}

func (f *Fake) listAuths(r *http.Request, _ any) fakekit.Answer {
	q := r.URL.Query()
	id, email := q.Get("personId"), q.Get("personEmail")
	if (id == "") == (email == "") {
		return fakekit.Answer{Status: http.StatusBadRequest, JSON: errorBody("Either personId or personEmail must be provided.")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if email != "" {
		for _, p := range f.people {
			if equalFold(p.Email, email) {
				id = p.ID
			}
		}
	}
	items := []map[string]any{}
	for _, a := range f.auths {
		if a.PersonID == id {
			items = append(items, map[string]any{"id": a.ID, "applicationId": "app-" + a.ClientID, "applicationName": a.ApplicationName,
				"personId": a.PersonID, "clientId": a.ClientID, "created": "2026-01-02T03:04:05+00:00", "type": a.Type})
		}
	}
	return fakekit.Answer{JSON: map[string]any{"items": items}}
}

func (f *Fake) deleteAuth(r *http.Request, _ any) fakekit.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("authorizationId")
	for i, a := range f.auths {
		if a.ID == id {
			f.auths = append(f.auths[:i], f.auths[i+1:]...)
			return fakekit.Answer{Status: http.StatusNoContent}
		}
	}
	return fakekit.Answer{Status: http.StatusNotFound, JSON: errorBody("The requested resource could not be found.")}
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
