package exchange

import (
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
)

// Handler is the partner endpoint: POST of a signed envelope to one of the
// paths above over mutual TLS (serve it with TLSConfig). The client
// certificate's verified chain is handed to Serve, which requires its root
// to be the agreement partner's CA.
func (r *Responder) Handler() http.Handler {
	mux := http.NewServeMux()
	for path, typ := range map[string]MsgType{PathStep1: MsgStep1Request, PathStep2: MsgStep2Request, PathStatus: MsgStatusRequest} {
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
			resp := r.Serve(req.Context(), typ, req.TLS.VerifiedChains[0], raw)
			w.Header().Set("Content-Type", "application/json")
			if resp.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((resp.RetryAfter+time.Second-1)/time.Second)))
			}
			w.WriteHeader(resp.Status)
			w.Write(resp.Body)
		})
	}
	return mux
}
