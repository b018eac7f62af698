package exchange

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Partner endpoint paths.
const (
	PathStep1  = "/exchange/v1/step1"
	PathStep2  = "/exchange/v1/step2"
	PathStatus = "/exchange/v1/status"

	// Read-only views of the responder's transparency log for partners and
	// their auditors (witnesses): the latest signed checkpoint, and a
	// consistency proof between two tree sizes. They hold hashes only.
	PathCheckpoint  = "/exchange/v1/audit/checkpoint"
	PathConsistency = "/exchange/v1/audit/consistency" // ?old=N&new=M
)

// ConsistencyReply is the body of PathConsistency.
type ConsistencyReply struct {
	Old   int64    `json:"old"`
	New   int64    `json:"new"`
	Proof [][]byte `json:"proof"`
}

// Handler is the partner endpoint: POST of a signed envelope to one of the
// paths above over mutual TLS (serve it with TLSConfig). The client
// certificate's verified chain is handed to Serve, which requires its root
// to be the agreement partner's CA.
func (r *Responder) Handler() http.Handler {
	mux := http.NewServeMux()
	for path, typ := range map[string]MsgType{PathStep1: MsgStep1Request, PathStep2: MsgStep2Request, PathStatus: MsgStatusRequest, PathKeySetup: MsgKeySetupRequest} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, req *http.Request) {
			if req.TLS == nil || len(req.TLS.VerifiedChains) == 0 {
				http.Error(w, "mutual TLS with a partner certificate is required", http.StatusUnauthorized)
				return
			}
			raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxEnvelopeBytes))
			if err != nil {
				http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
				return
			}
			if typ == MsgKeySetupRequest {
				// A key-setup round computes for longer than a message's
				// usual write timeout on a loaded machine.
				http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Minute))
			}
			resp := r.Serve(req.Context(), typ, req.TLS.VerifiedChains[0], raw)
			w.Header().Set("Content-Type", "application/json")
			if resp.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((resp.RetryAfter+time.Second-1)/time.Second)))
			}
			w.WriteHeader(resp.Status)
			w.Write(resp.Body)
		})
	}
	partnerOnly := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			if req.TLS == nil || len(req.TLS.VerifiedChains) == 0 {
				http.Error(w, "mutual TLS with a partner certificate is required", http.StatusUnauthorized)
				return
			}
			h(w, req)
		}
	}
	mux.HandleFunc("GET "+PathCheckpoint, partnerOnly(func(w http.ResponseWriter, req *http.Request) {
		cp, _, err := r.log.Checkpoint()
		if err != nil {
			r.logger.Error("checkpoint", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(cp)
	}))
	mux.HandleFunc("GET "+PathKeys, partnerOnly(func(w http.ResponseWriter, req *http.Request) {
		rep, err := r.keysReply()
		if err != nil {
			r.logger.Error("key rotations", "err", err)
			http.Error(w, "the log could not be read; retry later", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(rep)
	}))
	mux.HandleFunc("GET "+PathConsistency, partnerOnly(func(w http.ResponseWriter, req *http.Request) {
		old, err1 := strconv.ParseInt(req.URL.Query().Get("old"), 10, 64)
		nw, err2 := strconv.ParseInt(req.URL.Query().Get("new"), 10, 64)
		if err1 != nil || err2 != nil {
			http.Error(w, "old and new must be tree sizes", http.StatusBadRequest)
			return
		}
		proof, err := r.log.ConsistencyProof(old, nw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rep := ConsistencyReply{Old: old, New: nw}
		for _, h := range proof {
			rep.Proof = append(rep.Proof, h[:])
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(rep)
	}))
	return mux
}
