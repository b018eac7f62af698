package node

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/ansinist"
	"github.com/ebsp/ebsp/store"
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPI }

// route is one API operation: who may call it and what it does.
type route struct {
	method, path string
	public       bool   // no authentication (liveness and readiness only)
	roles        []Role // any of these (admin always)
	handle       func(n *Node, w http.ResponseWriter, r *http.Request, p *Principal) error
}

// routes is the whole API; the OpenAPI test checks the document against it.
var routes = []route{
	{method: "GET", path: "/healthz", public: true, handle: (*Node).handleHealth},
	{method: "GET", path: "/readyz", public: true, handle: (*Node).handleReady},
	{method: "GET", path: "/metrics", roles: []Role{RoleAuditor}, handle: (*Node).handleMetrics},
	{method: "GET", path: "/v1/calibration", roles: []Role{RoleSearcher, RoleExaminer, RoleAuditor}, handle: (*Node).handleCalibration},
	{method: "GET", path: "/v1/calibration/duplicates", roles: []Role{RoleExaminer}, handle: (*Node).handleDuplicates},
	{method: "GET", path: "/v1/openapi.json", roles: []Role{RoleEnroller, RoleSearcher, RoleExaminer, RoleAuditor}, handle: (*Node).handleOpenAPI},
	{method: "GET", path: "/v1/api.html", public: true, handle: (*Node).handleAPIPage},
	{method: "POST", path: "/v1/enrolments", roles: []Role{RoleEnroller}, handle: (*Node).handleEnrol},
	{method: "POST", path: "/v1/identify", roles: []Role{RoleSearcher, RoleExaminer}, handle: (*Node).handleIdentify},
	{method: "POST", path: "/v1/verify", roles: []Role{RoleSearcher, RoleExaminer}, handle: (*Node).handleVerify},
	{method: "GET", path: "/v1/identities/{id}", roles: []Role{RoleExaminer}, handle: (*Node).handleGetIdentity},
	{method: "DELETE", path: "/v1/identities/{id}", roles: []Role{RoleAdmin}, handle: (*Node).handleErase},
	{method: "POST", path: "/v1/exchange/search", roles: []Role{RoleSearcher}, handle: (*Node).handleExchangeSearch},
	{method: "POST", path: "/v1/exchange/disclosures", roles: []Role{RoleSearcher}, handle: (*Node).handleExchangeDisclosure},
	{method: "GET", path: "/v1/exchange/disclosures/{partner}/{case}", roles: []Role{RoleSearcher}, handle: (*Node).handleExchangeStatus},
	{method: "GET", path: "/v1/exchange/cases", roles: []Role{RoleExaminer}, handle: (*Node).handleExchangeCases},
	{method: "POST", path: "/v1/exchange/cases/{id}", roles: []Role{RoleExaminer}, handle: (*Node).handleExchangeDecide},
	{method: "POST", path: "/v1/exchange/agreements/{id}/{action}", roles: []Role{RoleAdmin}, handle: (*Node).handleSuspend},
	{method: "GET", path: "/v1/audit/checkpoint", roles: []Role{RoleAuditor}, handle: (*Node).handleAuditCheckpoint},
	{method: "GET", path: "/v1/audit/tile/{path...}", roles: []Role{RoleAuditor}, handle: (*Node).handleAuditTile},
}

// Handler returns the node's HTTP API. Every route but /healthz and /readyz
// needs a bearer token or a client certificate with a permitted role.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()   // method and path
	paths := http.NewServeMux() // path only, to tell 405 from 404
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, n.wrap(rt))
		if _, p := paths.Handler(&http.Request{Method: "GET", URL: &url.URL{Path: rt.path}}); p != rt.path {
			paths.Handle(rt.path, http.NotFoundHandler())
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := n.mounted(r.URL.Path); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		if _, pat := mux.Handler(r); pat != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// ServeMux would answer in plain text; every error here is JSON.
		if _, p := paths.Handler(r); p != "" {
			w.Header().Set("Allow", allowed(p))
			writeError(w, errf(CodeMethodNotAllowed, r.Method+" is not allowed on "+p))
			return
		}
		writeError(w, errf(CodeNotFound, "no such route"))
	})
}

func allowed(path string) string {
	s := ""
	for _, rt := range routes {
		if rt.path == path {
			if s != "" {
				s += ", "
			}
			s += rt.method
		}
	}
	return s
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (a handler
// that runs longer than the server's write timeout extends its deadline).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = 200
	}
	return s.ResponseWriter.Write(b)
}

// wrap adds, in order: panic recovery, metrics and the access log,
// authentication (401), the rate limit (429: per principal, or per client
// address on the routes that need no credentials), the body limit (413) and the
// role check (403).
func (n *Node) wrap(rt route) http.Handler {
	name := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		principal := "-"
		defer func() {
			if v := recover(); v != nil {
				// Log where, never the request: it may hold biometric data.
				n.log.Error("panic in handler", "route", name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, errf(CodeInternal, "internal error"))
				}
			}
			d := time.Since(start)
			n.metrics.requests.WithLabelValues(name, strconv.Itoa(sw.status)).Inc()
			n.metrics.latency.WithLabelValues(name).Observe(d.Seconds())
			n.log.Info("request", "route", name, "status", sw.status, "principal", principal, "ms", float64(d.Microseconds())/1000)
		}()
		var p *Principal
		limited := func(l *limiters, key string) bool {
			ok, wait := l.allow(key)
			if !ok {
				sw.Header().Set("Retry-After", strconv.Itoa(wait))
				writeError(sw, errf(CodeRateLimited, fmt.Sprintf("over %v requests per second; retry after %d s", n.cfg.RatePerSecond, wait)))
			}
			return !ok
		}
		if rt.public {
			// Probes need no credentials, so they are limited per client
			// address: they cannot be turned into load on the node.
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			if limited(n.public, host) {
				return
			}
		} else {
			p = n.auth.authenticate(r)
			if p == nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ebsp"`)
				writeError(sw, errf(CodeUnauthenticated, "a valid bearer token or client certificate is required"))
				return
			}
			principal = p.Name
			if limited(n.limits, p.Name) {
				return
			}
			if !p.Has(rt.roles...) {
				writeError(sw, errf(CodeForbidden, fmt.Sprintf("%s needs one of the roles %v", name, rt.roles)))
				return
			}
		}
		r.Body = http.MaxBytesReader(sw, r.Body, n.cfg.MaxBodyBytes)
		if err := rt.handle(n, sw, r, p); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				n.log.Error("request failed", "route", name, "err", err.Error())
				if ae = n.storageError(err); ae == nil {
					ae = errf(CodeInternal, "internal error")
				}
			}
			writeError(sw, ae)
		}
	})
}

func (n *Node) handleHealth(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	writeJSON(w, 200, map[string]string{"status": "ok"})
	return nil
}

func (n *Node) handleReady(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	if n.draining.Load() {
		return errf(CodeUnavailable, "shutting down")
	}
	if !n.Ready() {
		return errf(CodeUnavailable, "gallery still loading")
	}
	if err := n.store.Ping(r.Context()); err != nil {
		n.log.Warn("store not reachable", "err", err.Error())
		return errf(CodeStorageUnavailable, "store not reachable")
	}
	if f := n.storageFault.Load(); f != nil && time.Since(f.at) < storageFaultHold {
		// 503 whatever the fault: not ready, and why.
		return &apiError{Code: f.code, status: http.StatusServiceUnavailable,
			Message: fmt.Sprintf("a write failed %s ago: %s", time.Since(f.at).Round(time.Second), f.code)}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
	return nil
}

func (n *Node) handleMetrics(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

func (n *Node) handleOpenAPI(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPI)
	return err
}

func (n *Node) handleEnrol(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	var req EnrolRequest
	if isTransaction(r) {
		// An ANSI/NIST-ITL transaction: the samples come from its records,
		// the rest from the query (identity_id, legal_basis, purpose).
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return jsonError(err) // over the body limit: 413
		}
		_, s, skipped, err := transactionSamples(data, n.cfg.MaxImagePixels)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		req = EnrolRequest{Identity: IdentityInput{ID: q.Get("identity_id")}, Encounter: EncounterInput{Purpose: q.Get("purpose")},
			Provenance: store.Provenance{LegalBasis: q.Get("legal_basis")}, Samples: s}
		if e := idempotencyKey(r, &req); e != nil {
			return e
		}
		resp, err := n.Enroll(r.Context(), &req)
		if err != nil {
			return err
		}
		writeJSON(w, enrolStatus(resp), struct {
			*EnrolResponse
			Skipped []string `json:"skipped,omitempty"`
		}{resp, skipped})
		return nil
	}
	if e := decodeJSON(r, &req); e != nil {
		return e
	}
	if e := idempotencyKey(r, &req); e != nil {
		return e
	}
	resp, err := n.Enroll(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, enrolStatus(resp), resp)
	return nil
}

// idempotencyKey takes the Idempotency-Key header as the encounter id of
// an enrolment that names none, so that a client that lost the reply can
// send the same request again and get the first result (200, "replayed")
// instead of a second enrolment.
func idempotencyKey(r *http.Request, req *EnrolRequest) *apiError {
	k := r.Header.Get("Idempotency-Key")
	switch {
	case k == "":
	case req.Encounter.ID == "":
		req.Encounter.ID = k
	case req.Encounter.ID != k:
		return errf(CodeInvalidField, "Idempotency-Key differs from encounter.id; send one or the same")
	}
	return nil
}

// enrolStatus is 201 for a new enrolment, 200 for a replayed one.
func enrolStatus(resp *EnrolResponse) int {
	if resp.Replayed {
		return http.StatusOK
	}
	return http.StatusCreated
}

func (n *Node) handleIdentify(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	if !n.Ready() {
		return errf(CodeUnavailable, "gallery still loading")
	}
	var req IdentifyRequest
	if isTransaction(r) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return jsonError(err) // over the body limit: 413
		}
		tx, resp, err := n.IdentifyTransaction(r.Context(), data)
		if err != nil {
			return err
		}
		if strings.Contains(r.Header.Get("Accept"), mediaANSINIST) {
			out, err := identifyResponseTransaction(tx, resp)
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", mediaANSINIST)
			_, err = w.Write(out)
			return err
		}
		writeJSON(w, 200, resp)
		return nil
	}
	if e := decodeJSON(r, &req); e != nil {
		return e
	}
	resp, err := n.Identify(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, 200, resp)
	return nil
}

// IdentifyTransaction searches the gallery with the fingerprints of an
// ANSI/NIST-ITL transaction (traditional or XML encoding); faces and irises
// of the transaction are not searched with them, and at most 16 fingers
// are. It returns the decoded transaction for the reply.
func (n *Node) IdentifyTransaction(ctx context.Context, data []byte) (*ansinist.Transaction, *IdentifyResponse, error) {
	tx, s, _, err := transactionSamples(data, n.cfg.MaxImagePixels)
	if err != nil {
		return nil, nil, err
	}
	var req IdentifyRequest
	for _, x := range s {
		if x.Modality == biometric.Finger {
			req.Samples = append(req.Samples, x)
		}
	}
	req.Samples = req.Samples[:min(len(req.Samples), 16)]
	resp, err := n.Identify(ctx, &req)
	return tx, resp, err
}

func (n *Node) handleVerify(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	if !n.Ready() {
		return errf(CodeUnavailable, "gallery still loading")
	}
	var req VerifyRequest
	if e := decodeJSON(r, &req); e != nil {
		return e
	}
	resp, err := n.Verify(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, 200, resp)
	return nil
}

func (n *Node) handleGetIdentity(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	rec, err := n.Identity(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, rec)
	return nil
}

func (n *Node) handleErase(w http.ResponseWriter, r *http.Request, _ *Principal) error {
	if err := n.Erase(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
