package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The status page's sign-in: a browser cannot send the API token header,
// so it sends the token once through a form and gets a session cookie in
// return. The cookie holds no token: it is an expiry and a random session
// id, signed with a key derived from the API token, so every replica that
// shares the token accepts it and changing the token signs everyone out.
const (
	sessionCookie = "wugsync_session"
	sessionTTL    = 12 * time.Hour
	csrfField     = "csrf_token"
	// maxSignedOut bounds the signed-out sessions kept until they expire.
	maxSignedOut = 10000
)

// sessions signs, checks and revokes status page sessions.
type sessions struct {
	key []byte // HMAC key derived from the API token
	now func() time.Time

	mu        sync.Mutex
	signedOut map[string]time.Time // session id → expiry, for sign-out in this process
}

func newSessions(apiToken string) *sessions {
	m := hmac.New(sha256.New, []byte(apiToken))
	m.Write([]byte("wugsync status page session key v1"))
	return &sessions{key: m.Sum(nil), now: time.Now, signedOut: map[string]time.Time{}}
}

// session is a signed-in browser.
type session struct {
	ID      string // random, hex
	Expires time.Time
}

func (s *sessions) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(parts, "|")))
	return m.Sum(nil)
}

// create starts a session and returns its cookie. The cookie is Secure:
// browsers keep it over HTTPS and on localhost only.
func (s *sessions) create() (session, *http.Cookie) {
	var id [16]byte
	rand.Read(id[:])
	sess := session{ID: hex.EncodeToString(id[:]), Expires: s.now().Add(sessionTTL).Truncate(time.Second)}
	payload := "v1." + strconv.FormatInt(sess.Expires.Unix(), 10) + "." + sess.ID
	value := payload + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", payload))
	return sess, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", Expires: sess.Expires,
		MaxAge: int(sessionTTL / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// clearCookie is the cookie that removes the session from a browser.
func clearCookie() *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode}
}

// fromRequest returns the request's valid session, if it has one.
func (s *sessions) fromRequest(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	return s.parse(c.Value)
}

// parse checks a cookie value's signature, expiry and sign-out.
func (s *sessions) parse(value string) (session, bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return session{}, false
	}
	payload, sig := value[:i], value[i+1:]
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig) // strict: one text per signature
	if err != nil || !hmac.Equal(got, s.mac("session", payload)) {
		return session{}, false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return session{}, false
	}
	sess := session{ID: parts[2], Expires: time.Unix(exp, 0)}
	if !s.now().Before(sess.Expires) {
		return session{}, false
	}
	s.mu.Lock()
	_, out := s.signedOut[sess.ID]
	s.mu.Unlock()
	return sess, !out
}

// signOut refuses the session from now on in this process (other replicas
// accept it until it expires; the browser forgets it at once).
func (s *sessions) signOut(sess session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for id, exp := range s.signedOut {
		if !now.Before(exp) {
			delete(s.signedOut, id)
		}
	}
	if len(s.signedOut) < maxSignedOut {
		s.signedOut[sess.ID] = sess.Expires
	}
}

// csrfToken is the token the session's forms carry: bound to the session,
// so a page of another site can neither read nor forge it.
func (s *sessions) csrfToken(sess session) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", sess.ID))
}

// checkCSRF reports whether the form carries the session's CSRF token.
func (s *sessions) checkCSRF(sess session, r *http.Request) error {
	got := r.PostFormValue(csrfField)
	if got == "" {
		return fmt.Errorf("the form has no %s", csrfField)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfToken(sess))) != 1 {
		return fmt.Errorf("the form's %s does not belong to this session", csrfField)
	}
	return nil
}
