package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ebsp/ebsp/node"
)

// Cookie names. The session cookie is HttpOnly, SameSite=Strict, limited
// to the console's path, and Secure when the console is served over TLS.
const (
	sessionCookie = "ebsp_console"
	signinCookie  = "ebsp_signin" // the sign-in form's CSRF nonce
)

// maxSessions bounds the sessions held in memory; the oldest are dropped.
const maxSessions = 10000

// session is a signed-in person. It lives in memory only: a restart of the
// node signs everyone out.
type session struct {
	id        string
	csrf      string // the token every form of the session carries
	principal node.Principal
	// secret is the bearer token the person signed in with, kept because
	// the exchange's examiner gate checks it again on every decision (as
	// it does for the API); empty for a certificate sign-in, for which the
	// node presents its own secret of the certificate principal.
	secret  string
	certCN  string // the client certificate's CN, for a certificate sign-in
	flash   string // a notice for the next page (not in the URL, where a link could forge it)
	created time.Time
	seen    time.Time
}

type sessions struct {
	mu             sync.Mutex
	by             map[string]*session
	key            [32]byte // signs the sign-in form's CSRF token
	now            func() time.Time
	idle, lifetime time.Duration
}

func newSessions(now func() time.Time, idle, lifetime time.Duration) (*sessions, error) {
	s := &sessions{by: map[string]*session{}, now: now, idle: idle, lifetime: lifetime}
	if _, err := rand.Read(s.key[:]); err != nil {
		return nil, err
	}
	return s, nil
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// certCN returns the common name of r's verified client certificate.
func certCN(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		return r.TLS.VerifiedChains[0][0].Subject.CommonName
	}
	return ""
}

// get returns the live session of r, or nil. A certificate session also
// needs the same certificate on every request.
func (s *sessions) get(r *http.Request, n *node.Node) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.by[ck.Value]
	if ss == nil {
		return nil
	}
	if now.Sub(ss.seen) > s.idle || now.Sub(ss.created) > s.lifetime {
		delete(s.by, ss.id)
		return nil
	}
	if ss.certCN != "" && certCN(r) != ss.certCN {
		return nil
	}
	ss.seen = now
	return ss
}

// start makes a session for p and returns it.
func (s *sessions) start(p *node.Principal, secret, cn string) *session {
	now := s.now()
	ss := &session{id: randomToken(), csrf: randomToken(), principal: *p, secret: secret, certCN: cn, created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, o := range s.by {
		if now.Sub(o.seen) > s.idle || now.Sub(o.created) > s.lifetime {
			delete(s.by, id)
		}
	}
	if len(s.by) >= maxSessions {
		var oldest *session
		for _, o := range s.by {
			if oldest == nil || o.seen.Before(oldest.seen) {
				oldest = o
			}
		}
		delete(s.by, oldest.id)
	}
	s.by[ss.id] = ss
	return ss
}

func (s *sessions) setFlash(ss *session, msg string) {
	s.mu.Lock()
	ss.flash = msg
	s.mu.Unlock()
}

func (s *sessions) takeFlash(ss *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := ss.flash
	ss.flash = ""
	return m
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.by, id)
	s.mu.Unlock()
}

// signinToken is the sign-in form's CSRF token: an HMAC of the nonce in
// the sign-in cookie, so a form posted from another site (which cannot
// read the cookie) fails.
func (s *sessions) signinToken(nonce string) string {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// checkPost checks a state-changing request: the form's CSRF token must be
// the session's, and an Origin header, when the browser sends one, must be
// this host.
func checkPost(r *http.Request, want string) error {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errors.New("this form was sent from another site")
		}
	}
	got := r.PostFormValue("csrf") // parses a multipart body too
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errors.New("this form is out of date or was not sent from the console; reload the page and try again")
	}
	return nil
}

type signinData struct {
	Cert string // the CN of a client certificate the node knows, offered as a sign-in
}

func (c *Console) signinForm(w http.ResponseWriter, r *http.Request) {
	if s := c.sessions.get(r, c.n); s != nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	c.showSignin(w, r, http.StatusOK, "")
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	nonce := randomToken()
	setCookie(w, r, signinCookie, nonce, 600)
	d := signinData{}
	if cn := certCN(r); cn != "" && c.n.Authenticate(withoutToken(r)) != nil {
		d.Cert = cn
	}
	c.render(w, r, status, "signin", nil, view{Title: "Sign in", CSRF: c.sessions.signinToken(nonce), Error: msg, Data: d})
}

// withoutToken is r without its Authorization header, so that only its
// client certificate authenticates it.
func withoutToken(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	return r2
}

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ok, wait := c.n.Allow("console-signin:" + host); !ok {
		w.Header().Set("Retry-After", "1")
		c.showSignin(w, r, http.StatusTooManyRequests, "Too many attempts; wait "+time.Duration(wait*int(time.Second)).String()+".")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ck, err := r.Cookie(signinCookie)
	tok := r.PostFormValue("csrf")
	if err != nil || subtle.ConstantTimeCompare([]byte(tok), []byte(c.sessions.signinToken(ck.Value))) != 1 {
		c.showSignin(w, r, http.StatusForbidden, "The sign-in form expired or was not sent from the console; try again.")
		return
	}
	var p *node.Principal
	var secret, cn string
	if r.PostFormValue("method") == "certificate" {
		if p = c.n.Authenticate(withoutToken(r)); p != nil {
			cn = certCN(r)
		}
	} else {
		secret = r.PostFormValue("token")
		p = c.n.AuthenticateToken(secret)
	}
	if p == nil {
		c.log.Warn("console: sign-in refused", "remote", host)
		c.showSignin(w, r, http.StatusUnauthorized, "That credential is not valid on this node.")
		return
	}
	s := c.sessions.start(p, secret, cn)
	c.log.Info("console: signed in", "principal", p.Name)
	setCookie(w, r, signinCookie, "", -1)
	setCookie(w, r, sessionCookie, s.id, 0)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *session) (int, string, view) {
	c.sessions.end(s.id)
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return 0, "", view{}
}
