package node

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Role is what a principal may do. A principal may hold several.
type Role string

// The roles of a node. Least privilege: a searcher learns decisions and
// candidate ids but cannot read identities; nobody can list the gallery.
const (
	RoleEnroller Role = "enroller" // enrols encounters
	RoleSearcher Role = "searcher" // identifies and verifies
	RoleExaminer Role = "examiner" // identifies, verifies, reads identities to confirm matches
	RoleAuditor  Role = "auditor"  // reads metrics and oversight statistics
	RoleAdmin    Role = "admin"    // all of the above, and erasure
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleEnroller, RoleSearcher, RoleExaminer, RoleAuditor, RoleAdmin:
		return true
	}
	return false
}

// Principal is an authenticated caller.
type Principal struct {
	Name  string // for logs and rate limits; never the credential
	Roles []Role
	cert  bool // authenticated by a client certificate, not a token
}

// Has reports whether p holds one of the roles (admin holds all).
func (p *Principal) Has(roles ...Role) bool {
	if slices.Contains(p.Roles, RoleAdmin) {
		return true
	}
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// TokenHash returns the hex SHA-256 of a bearer token, the form in which a
// configuration file names tokens (so the file holds no secret).
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

type tokenEntry struct {
	hash      [sha256.Size]byte
	principal Principal
}

// authenticator checks bearer tokens and client certificates.
type authenticator struct {
	tokens      []tokenEntry
	clientRoles map[string][]Role // client certificate CN -> roles
	gateKey     [32]byte          // keys certGate; random per process
}

func newAuthenticator(c *Config) (*authenticator, error) {
	a := &authenticator{clientRoles: map[string][]Role{}}
	if _, err := rand.Read(a.gateKey[:]); err != nil {
		return nil, err
	}
	for i, t := range c.Tokens {
		raw, err := hex.DecodeString(t.SHA256)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("config: tokens[%d] (%s): sha256 must be 64 hex digits", i, t.Name)
		}
		if err := checkRoles(t.Roles); err != nil {
			return nil, fmt.Errorf("config: tokens[%d] (%s): %w", i, t.Name, err)
		}
		var e tokenEntry
		copy(e.hash[:], raw)
		e.principal = Principal{Name: t.Name, Roles: t.Roles}
		a.tokens = append(a.tokens, e)
	}
	if c.TLS != nil {
		for cn, roles := range c.TLS.ClientRoles {
			if err := checkRoles(roles); err != nil {
				return nil, fmt.Errorf("config: tls.client_roles[%q]: %w", cn, err)
			}
			a.clientRoles[cn] = roles
		}
	}
	return a, nil
}

func checkRoles(roles []Role) error {
	if len(roles) == 0 {
		return fmt.Errorf("no roles")
	}
	for _, r := range roles {
		if !r.Valid() {
			return fmt.Errorf("unknown role %q", r)
		}
	}
	return nil
}

// authenticate returns the caller, or nil when it presented no valid
// credential. A verified client certificate wins over a token.
func (a *authenticator) authenticate(r *http.Request) *Principal {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
		if roles, ok := a.clientRoles[cn]; ok {
			return &Principal{Name: "cert:" + cn, Roles: roles, cert: true}
		}
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	return a.authenticateToken(tok)
}

// authenticateToken returns the principal of a bearer token, or nil.
func (a *authenticator) authenticateToken(tok string) *Principal {
	if tok == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(tok))
	// Compare against every entry in constant time, so timing tells nothing
	// about which token, or which prefix, is close.
	var found *Principal
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].hash[:]) == 1 {
			found = &a.tokens[i].principal
		}
	}
	return found
}

// certGate is the secret with which a principal authenticated by client
// certificate opens the exchange's examiner gate (which checks a secret
// per examiner, a token for the others): an HMAC of the principal's name
// under a key that never leaves the process.
func (a *authenticator) certGate(name string) string {
	m := hmac.New(sha256.New, a.gateKey[:])
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil))
}

// certExaminer reports whether secret is the certGate secret of examiner,
// a certificate principal whose common name has the examiner role.
func (a *authenticator) certExaminer(examiner, secret string) bool {
	cn, ok := strings.CutPrefix(examiner, "cert:")
	if !ok {
		return false
	}
	p := Principal{Roles: a.clientRoles[cn]}
	return len(p.Roles) > 0 && p.Has(RoleExaminer) && hmac.Equal([]byte(secret), []byte(a.certGate(examiner)))
}
