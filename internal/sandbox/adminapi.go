package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PathAdmin is the base of the admin API, below the issuer. It takes the
// admin credential as a bearer token and answers JSON; errors are
// {"error","error_description"} (the RFC 6749 §5.2 shape). Every answer
// carries the IETF RateLimit fields (RateLimit-Limit, -Remaining, -Reset in
// seconds), and a spent budget is a 429 with Retry-After.
//
//	GET    /admin/users[?limit=&after=]     users, paged by Link rel="next"
//	GET    /admin/users/{id}                one user's sessions and live tokens
//	DELETE /admin/users/{id}/tokens[?client_id=]  end them (sessions only without client_id)
//	GET    /admin/clients                   the clients
//	GET    /admin/clients/{id}              a client's token lifetimes
//	PUT    /admin/clients/{id}/lifetimes    replace them (both, in seconds)
//	GET    /admin/keys                      the published keys
//	POST   /admin/keys {"use":"sig"|"enc"}  add a key that becomes the active one
//	DELETE /admin/keys/{kid}                withdraw a passive key from the JWKS
const PathAdmin = "/admin"

// Limits of the admin API.
const (
	DefaultAdminRateLimit = 1000 // requests per adminWindow
	adminWindow           = 10 * time.Second
	maxUsersPage          = 200
	maxAccessLifetime     = 24 * time.Hour
	maxRefreshLifetime    = 365 * 24 * time.Hour
)

// ClientLifetimes is the admin API's view of a client.
type ClientLifetimes struct {
	ClientID             string `json:"client_id"`
	AccessTokenLifetime  int    `json:"access_token_lifetime"`
	RefreshTokenLifetime int    `json:"refresh_token_lifetime"`
	// RefreshTokenRotation is always true: the sandbox rotates.
	RefreshTokenRotation bool `json:"refresh_token_rotation"`
}

// KeyInfo is the admin API's view of a key: public facts only.
type KeyInfo struct {
	KID       string    `json:"kid"`
	Use       string    `json:"use"`
	Algorithm string    `json:"alg"`
	Status    string    `json:"status"`
	Created   time.Time `json:"created_at"`
}

func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/users", s.adminListUsers)
	mux.HandleFunc("GET /admin/users/{id}", s.adminGetUser)
	mux.HandleFunc("DELETE /admin/users/{id}/tokens", s.adminRevokeUser)
	mux.HandleFunc("GET /admin/clients", s.adminListClients)
	mux.HandleFunc("GET /admin/clients/{id}", s.adminGetClient)
	mux.HandleFunc("PUT /admin/clients/{id}/lifetimes", s.adminSetLifetimes)
	mux.HandleFunc("GET /admin/keys", s.adminListKeys)
	mux.HandleFunc("POST /admin/keys", s.adminRotateKey)
	mux.HandleFunc("DELETE /admin/keys/{kid}", s.adminRetireKey)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no admin operation %s %s", r.Method, r.URL.Path))
	})
	return noStore(s.adminAuth(s.admitted(mux)))
}

// adminAuth checks the admin bearer token (RFC 6750 §2.1), apart from the
// clients' credentials: the admin API is not an OAuth client's to call.
func (s *Server) adminAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !sameValue(strings.TrimSpace(tok), s.adminSecret) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="idpctl sandbox admin", error="invalid_token"`)
			adminError(w, http.StatusUnauthorized, "invalid_token", "the admin credential is missing or wrong")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminLimiter is a fixed-window request budget.
type adminLimiter struct {
	mu    sync.Mutex
	limit int
	start time.Time
	used  int
}

// admitted counts the request against the budget and says so in the IETF
// RateLimit fields, as vendors' admin APIs do in their own names.
func (s *Server) admitted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := &s.limiter
		now := time.Now()
		l.mu.Lock()
		if now.Sub(l.start) >= adminWindow {
			l.start, l.used = now, 0
		}
		l.used++
		used, reset := l.used, l.start.Add(adminWindow).Sub(now)
		l.mu.Unlock()
		secs := strconv.Itoa(int((reset + time.Second - 1) / time.Second))
		h := w.Header()
		h.Set("RateLimit-Limit", strconv.Itoa(l.limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(max(l.limit-used, 0)))
		h.Set("RateLimit-Reset", secs)
		if used > l.limit {
			h.Set("Retry-After", secs)
			adminError(w, http.StatusTooManyRequests, "rate_limited", "the admin API's request budget is spent")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func adminError(w http.ResponseWriter, status int, code, description string) {
	adminJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// onlyQuery refuses parameters an operation does not take, rather than
// ignoring a misspelt filter and acting on more than was asked.
func onlyQuery(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			adminError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown query parameter %q", k))
			return false
		}
	}
	return true
}

func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request) {
	if !onlyQuery(w, r, "limit", "after") {
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUsersPage {
			adminError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("limit must be 1 to %d", maxUsersPage))
			return
		}
		limit = n
	}
	after := r.URL.Query().Get("after")
	now := time.Now()
	s.store.mu.Lock()
	ids := make([]string, 0, len(s.store.users))
	for id := range s.store.users {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	more := len(ids) > limit
	ids = ids[:min(limit, len(ids))]
	page := make([]UserGrants, 0, len(ids))
	for _, id := range ids {
		page = append(page, s.store.userGrantsLocked(id, now))
	}
	s.store.mu.Unlock()
	if more {
		q := url.Values{"after": {ids[len(ids)-1]}, "limit": {strconv.Itoa(limit)}}
		w.Header().Set("Link", fmt.Sprintf(`<%s%s/users?%s>; rel="next"`, s.issuer, PathAdmin, q.Encode()))
	}
	adminJSON(w, http.StatusOK, page)
}

func (s *Server) adminGetUser(w http.ResponseWriter, r *http.Request) {
	if !onlyQuery(w, r) {
		return
	}
	id := r.PathValue("id")
	s.store.mu.Lock()
	known := s.store.users[id]
	u := s.store.userGrantsLocked(id, time.Now())
	s.store.mu.Unlock()
	if !known {
		adminError(w, http.StatusNotFound, "user_not_found", fmt.Sprintf("no user %q", id))
		return
	}
	adminJSON(w, http.StatusOK, u)
}

func (s *Server) adminRevokeUser(w http.ResponseWriter, r *http.Request) {
	if !onlyQuery(w, r, "client_id") {
		return
	}
	id, client := r.PathValue("id"), r.URL.Query().Get("client_id")
	if _, ok := s.store.clients[client]; client != "" && !ok {
		adminError(w, http.StatusNotFound, "client_not_found", fmt.Sprintf("no client %q", client))
		return
	}
	s.store.mu.Lock()
	known := s.store.users[id]
	var rev Revocation
	if known {
		rev = s.store.revokeUserLocked(id, client, time.Now())
	}
	s.store.mu.Unlock()
	if !known {
		adminError(w, http.StatusNotFound, "user_not_found", fmt.Sprintf("no user %q", id))
		return
	}
	adminJSON(w, http.StatusOK, rev)
}

func (s *Server) clientLifetimes(id string) ClientLifetimes {
	s.store.mu.Lock()
	lt := s.store.lifetimes[id]
	s.store.mu.Unlock()
	return ClientLifetimes{ClientID: id, AccessTokenLifetime: int(lt.access / time.Second), RefreshTokenLifetime: int(lt.refresh / time.Second), RefreshTokenRotation: true}
}

func (s *Server) adminListClients(w http.ResponseWriter, r *http.Request) {
	if !onlyQuery(w, r) {
		return
	}
	out := []ClientLifetimes{}
	for _, c := range s.clients {
		out = append(out, s.clientLifetimes(c.ID))
	}
	adminJSON(w, http.StatusOK, out)
}

func (s *Server) adminGetClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !onlyQuery(w, r) {
		return
	}
	if _, ok := s.store.clients[id]; !ok {
		adminError(w, http.StatusNotFound, "client_not_found", fmt.Sprintf("no client %q", id))
		return
	}
	adminJSON(w, http.StatusOK, s.clientLifetimes(id))
}

// adminSetLifetimes replaces both lifetimes, as several vendors' APIs
// replace whole objects: a client must send what it read and changed.
func (s *Server) adminSetLifetimes(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !onlyQuery(w, r) {
		return
	}
	if _, ok := s.store.clients[id]; !ok {
		adminError(w, http.StatusNotFound, "client_not_found", fmt.Sprintf("no client %q", id))
		return
	}
	var body struct {
		Access  *int `json:"access_token_lifetime"`
		Refresh *int `json:"refresh_token_lifetime"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		adminError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if body.Access == nil || body.Refresh == nil {
		adminError(w, http.StatusBadRequest, "invalid_request", "both access_token_lifetime and refresh_token_lifetime are required")
		return
	}
	access, refresh := time.Duration(*body.Access)*time.Second, time.Duration(*body.Refresh)*time.Second
	if access < time.Second || access > maxAccessLifetime || refresh < time.Second || refresh > maxRefreshLifetime {
		adminError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("access_token_lifetime must be 1 to %d seconds, refresh_token_lifetime 1 to %d", int(maxAccessLifetime/time.Second), int(maxRefreshLifetime/time.Second)))
		return
	}
	s.store.mu.Lock()
	s.store.lifetimes[id] = lifetimes{access: access, refresh: refresh}
	s.store.mu.Unlock()
	adminJSON(w, http.StatusOK, s.clientLifetimes(id))
}

func decodeStrict(body io.Reader, v any) error {
	raw, err := io.ReadAll(io.LimitReader(body, 1<<16))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body is not the expected JSON object: %v", err)
	}
	return nil
}

func (s *Server) keyInfos() []KeyInfo {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	out := make([]KeyInfo, 0, len(s.store.keys))
	for _, k := range s.store.keys {
		out = append(out, keyInfo(k))
	}
	return out
}

func keyInfo(k *managedKey) KeyInfo {
	return KeyInfo{KID: k.id, Use: k.use, Algorithm: k.alg, Status: k.status, Created: k.created.UTC()}
}

func (s *Server) adminListKeys(w http.ResponseWriter, r *http.Request) {
	if !onlyQuery(w, r) {
		return
	}
	adminJSON(w, http.StatusOK, map[string]any{"keys": s.keyInfos()})
}

func (s *Server) adminRotateKey(w http.ResponseWriter, r *http.Request) {
	if !onlyQuery(w, r) {
		return
	}
	var body struct {
		Use string `json:"use"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		adminError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if body.Use != useSig && body.Use != useEnc {
		adminError(w, http.StatusBadRequest, "invalid_request", `use must be "sig" or "enc"`)
		return
	}
	s.store.mu.Lock()
	k, err := s.store.rotateKeyLocked(body.Use, time.Now())
	var info KeyInfo
	if err == nil {
		info = keyInfo(k)
	}
	s.store.mu.Unlock()
	if err != nil {
		adminError(w, http.StatusInternalServerError, "server_error", "generating the key failed")
		return
	}
	w.Header().Set("Location", s.issuer+PathAdmin+"/keys/"+url.PathEscape(info.KID))
	adminJSON(w, http.StatusCreated, info)
}

func (s *Server) adminRetireKey(w http.ResponseWriter, r *http.Request) {
	if !onlyQuery(w, r) {
		return
	}
	kid := r.PathValue("kid")
	s.store.mu.Lock()
	found, active := s.store.retireKeyLocked(kid)
	s.store.mu.Unlock()
	switch {
	case !found:
		adminError(w, http.StatusNotFound, "key_not_found", fmt.Sprintf("no key %q", kid))
	case active:
		adminError(w, http.StatusConflict, "key_active", "the active key cannot be retired; rotate first")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
