package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/privacy"
)

// The key setup of an agreement's encrypted search runs between the two
// nodes over the partner endpoint, as signed envelopes over mutual TLS
// like every other message. Its two rounds are large (tens of MiB each way
// at the deployment parameters), so each round message travels in chunks
// of at most KeyChunkBytes, each its own envelope; the requester drives
// everything (the responder never calls back):
//
//	start          requester's nonce → responder's nonce; both derive the
//	               common reference seed, the responder makes its round 1
//	put round 1    the requester's round 1, chunk by chunk; with the last
//	               chunk the responder makes its round 2
//	get round 1    the responder's round 1, chunk by chunk
//	put round 2    the requester's round 2; with the last chunk the
//	               responder finishes and stores its key material
//	get round 2    the responder's round 2; the requester finishes and
//	               stores its key material
//
// Every put carries the SHA-256 of the whole round message and its byte
// offset: the receiver accepts only the next offset (a repeated chunk is
// answered with the offset it expects, so a sender resumes from there) and
// checks the digest and the exact length, which the parameters fix, before
// it parses anything. The responder keeps one session per agreement, in
// memory: a new start replaces it, a restart of either node needs a new
// start. Leaves: one when a session starts, one when the responder
// finishes, with the bytes received; chunk replies prove the session's
// latest leaf.

// PathKeySetup is the key-setup endpoint.
const PathKeySetup = "/exchange/v1/keysetup"

// Key-setup message types.
const (
	MsgKeySetupRequest MsgType = "key_setup_request"
	MsgKeySetupReply   MsgType = "key_setup_reply"
)

// KeyChunkBytes bounds the data of one key-setup envelope: base64 in JSON
// keeps it below MaxEnvelopeBytes.
const KeyChunkBytes = 2 << 20

// Key-setup operations.
const (
	KeyOpStart = "start"
	KeyOpPut   = "put"
	KeyOpGet   = "get"
)

// KeySetupRequest is one step of a key setup.
type KeySetupRequest struct {
	Session       string `json:"session"`          // 32 hex digits the requester chose
	Op            string `json:"op"`               // start, put or get
	Nonce         []byte `json:"nonce,omitempty"`  // start: the requester's 32 random bytes
	Round         int    `json:"round,omitempty"`  // put, get: 1 or 2
	Offset        int64  `json:"offset"`           // put, get: where the chunk starts in the round message
	Digest        []byte `json:"digest,omitempty"` // put: SHA-256 of the whole round message
	Data          []byte `json:"data,omitempty"`   // put: the chunk
	KnownTreeSize int64  `json:"known_tree_size"`
}

// KeySetupReply answers a KeySetupRequest.
type KeySetupReply struct {
	InReplyTo string     `json:"in_reply_to"`
	Session   string     `json:"session"`
	Nonce     []byte     `json:"nonce,omitempty"`    // start: the responder's 32 random bytes
	Received  int64      `json:"received"`           // put: bytes of the round received so far
	Digest    []byte     `json:"digest,omitempty"`   // get: SHA-256 of the responder's whole round message
	Data      []byte     `json:"data,omitempty"`     // get: the chunk
	Finished  bool       `json:"finished,omitempty"` // put round 2: the responder stored its key material
	Audit     AuditProof `json:"audit"`
}

// OutcomeKeySetupStarted and OutcomeKeySetupFinished are the outcomes of
// key-setup leaves.
const (
	OutcomeKeySetupStarted  = "key_setup_started"
	OutcomeKeySetupFinished = "key_setup_finished"
)

// keySeed derives the common reference seed from both nonces.
func keySeed(a *Agreement, session string, nonceA, nonceB []byte) []byte {
	h := sha256.New()
	h.Write([]byte("ebsp encrypted-search key setup v1\x00" + a.ID + "\x00" + session + "\x00"))
	h.Write(nonceA)
	h.Write(nonceB)
	return h.Sum(nil)
}

// inbound is a round message being received. Its buffer is made at the
// round's first chunk, not when the session starts, so that starts alone
// (a partner may send many) hold no round-sized memory.
type inbound struct {
	size   int // the round message's exact length
	buf    []byte
	got    int
	digest []byte
}

// put appends a chunk; it reports whether the message is complete and
// checked.
func (in *inbound) put(req *KeySetupRequest) (bool, *Refusal) {
	if len(req.Digest) != sha256.Size {
		return false, refuse(http.StatusBadRequest, ReasonMalformed, "key setup: digest must be %d bytes", sha256.Size)
	}
	if in.digest == nil {
		in.digest = bytes.Clone(req.Digest)
	} else if !bytes.Equal(in.digest, req.Digest) {
		return false, refuse(http.StatusBadRequest, ReasonMalformed, "key setup: the digest changed within round %d", req.Round)
	}
	if req.Offset != int64(in.got) {
		return false, nil // not the next chunk: the reply says where to resume
	}
	if len(req.Data) == 0 || len(req.Data) > KeyChunkBytes || in.got+len(req.Data) > in.size || in.buf == nil && in.got > 0 {
		return false, refuse(http.StatusBadRequest, ReasonMalformed, "key setup: chunk of %d bytes at %d does not fit the %d-byte round %d", len(req.Data), req.Offset, in.size, req.Round)
	}
	if in.buf == nil {
		in.buf = make([]byte, in.size)
	}
	in.got += copy(in.buf[in.got:], req.Data)
	if in.got < in.size {
		return false, nil
	}
	sum := sha256.Sum256(in.buf)
	if subtle.ConstantTimeCompare(sum[:], in.digest) != 1 {
		in.got, in.digest = 0, nil
		return false, refuse(http.StatusBadRequest, ReasonMalformed, "key setup: round %d does not match its digest; send it again", req.Round)
	}
	return true, nil
}

// keySession is the responder's side of one key setup.
type keySession struct {
	id         string
	partner    Address
	party      *privacy.Party
	own1, own2 []byte
	in1, in2   inbound
	finished   bool
	leaf       int64
}

// KeySetupStartInterval is the least time between two key-setup starts of
// one agreement at a responder: each start costs the responder a round-one
// computation (seconds of CPU and tens of MiB at the deployment
// parameters), and a setup needs only one.
const KeySetupStartInterval = time.Minute

// ReasonKeySetupTooSoon refuses a key-setup start that comes less than
// KeySetupStartInterval after the agreement's previous one.
const ReasonKeySetupTooSoon = "key_setup_too_soon"

// keySetupStartAllowed records a start of agreement a's key setup, or
// refuses it if the previous one was less than KeySetupStartInterval ago.
func (r *Responder) keySetupStartAllowed(a *Agreement) *Refusal {
	now := r.now()
	r.keyMu.Lock()
	defer r.keyMu.Unlock()
	if last, ok := r.keyStarts[a.ID]; ok && now.Sub(last) < KeySetupStartInterval && !now.Before(last) {
		return refuse(http.StatusTooManyRequests, ReasonKeySetupTooSoon, "a key setup of agreement %s started %s ago; retry after %s",
			a.ID, now.Sub(last).Round(time.Second), KeySetupStartInterval)
	}
	if r.keyStarts == nil {
		r.keyStarts = map[string]time.Time{}
	}
	r.keyStarts[a.ID] = now
	return nil
}

// chunk returns the part of msg at offset.
func chunk(msg []byte, off int64) ([]byte, bool) {
	if off < 0 || off >= int64(len(msg)) {
		return nil, false
	}
	return msg[off:min(int64(len(msg)), off+KeyChunkBytes)], true
}

func (r *Responder) keySetup(env *Envelope, a *Agreement) Response {
	partner := env.From.State
	var req KeySetupRequest
	if err := decodeBody(env.Body, &req); err != nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "key-setup request: %v", err))
	}
	defer clear(req.Data)
	if rf := r.inForce(a, r.now()); rf != nil {
		return r.refusal(env, a, partner, "", rf)
	}
	if a.EncryptedSearch == nil || r.keys == nil {
		return r.refusal(env, a, partner, "", refuse(http.StatusForbidden, ReasonEncryption, "agreement %s has no encrypted search here", a.ID))
	}
	if s, err := hex.DecodeString(req.Session); err != nil || len(s) != 16 {
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "key setup: session must be 32 hex digits"))
	}
	params := a.EncryptedSearch.params
	reply := KeySetupReply{InReplyTo: env.HeaderHash(), Session: req.Session}
	if req.Op == KeyOpStart {
		if len(req.Nonce) != 32 {
			return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "key setup: nonce must be 32 bytes"))
		}
		if rf := r.keySetupStartAllowed(a); rf != nil {
			return r.refusal(env, a, partner, "", rf)
		}
		reply.Nonce = make([]byte, 32)
		if _, err := rand.Read(reply.Nonce); err != nil {
			return r.internal(env, a, err)
		}
		pa, err := privacy.NewParty(params, keySeed(a, req.Session, req.Nonce, reply.Nonce))
		var r1 *privacy.Round1
		if err == nil {
			r1, err = pa.Round1()
		}
		var own1 []byte
		if err == nil {
			own1, err = params.MarshalRound1(r1)
		}
		if err != nil {
			return r.internal(env, a, err)
		}
		s := &keySession{id: req.Session, partner: env.From, party: pa, own1: own1,
			in1: inbound{size: params.Round1Size()}, in2: inbound{size: params.Round2Size()}}
		r.keyMu.Lock()
		r.keySessions[a.ID] = s
		r.keyMu.Unlock()
		leaf := audit.Leaf{Time: r.now(), Kind: audit.KindKeySetup, Partner: partner, Agreement: a.ID, Case: req.Session,
			Outcome: OutcomeKeySetupStarted, Message: env.HeaderHash(), BytesOut: int64(len(own1))}
		idx, err := r.log.Append(leaf)
		if err != nil {
			return r.internal(env, a, err)
		}
		s.leaf = idx
		r.logger.Info("key setup started", "partner", partner, "agreement", a.ID, "session", req.Session)
		return r.replyProving(env, a, MsgKeySetupReply, idx, &reply.Audit, &reply, req.KnownTreeSize)
	}
	// The session is used by one requester at a time; keyMu serialises
	// its steps (the rounds' computation included).
	r.keyMu.Lock()
	defer r.keyMu.Unlock()
	s := r.keySessions[a.ID]
	if s == nil || s.id != req.Session || s.partner != env.From {
		return r.refusal(env, a, partner, "", refuse(http.StatusNotFound, ReasonUnknownCase, "no key-setup session %s", req.Session))
	}
	switch {
	case req.Op == KeyOpPut && req.Round == 1:
		done, rf := s.in1.put(&req)
		if rf != nil {
			return r.refusal(env, a, partner, "", rf)
		}
		if done && s.own2 == nil {
			peer, err := params.UnmarshalRound1(s.in1.buf)
			if err != nil {
				s.in1 = inbound{size: s.in1.size, buf: s.in1.buf}
				return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "key setup: %v", err))
			}
			r2, err := s.party.Round2(peer)
			if err == nil {
				s.own2, err = params.MarshalRound2(r2)
			}
			if err != nil {
				return r.internal(env, a, err)
			}
			s.in1.buf = nil // no longer needed; keep the count
		}
		reply.Received = int64(s.in1.got)
	case req.Op == KeyOpPut && req.Round == 2:
		if s.own2 == nil {
			return r.refusal(env, a, partner, "", refuse(http.StatusConflict, ReasonUnexpectedMessage, "key setup: round 2 before round 1 is complete"))
		}
		if !s.finished {
			done, rf := s.in2.put(&req)
			if rf != nil {
				return r.refusal(env, a, partner, "", rf)
			}
			if done {
				peer, err := params.UnmarshalRound2(s.in2.buf)
				if err != nil {
					s.in2 = inbound{size: s.in2.size, buf: s.in2.buf}
					return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "key setup: %v", err))
				}
				if err := s.party.Finish(peer); err != nil {
					return r.internal(env, a, err)
				}
				if err := r.keys.put(a, s.party); err != nil {
					return r.internal(env, a, err)
				}
				s.finished = true
				leaf := audit.Leaf{Time: r.now(), Kind: audit.KindKeySetup, Partner: partner, Agreement: a.ID, Case: s.id,
					Outcome: OutcomeKeySetupFinished, Message: env.HeaderHash(), BytesIn: int64(s.in1.got + s.in2.got),
					BytesOut: int64(len(s.own1) + len(s.own2))}
				idx, err := r.log.Append(leaf)
				if err != nil {
					return r.internal(env, a, err)
				}
				s.leaf = idx
				r.logger.Info("key setup finished", "partner", partner, "agreement", a.ID, "session", s.id)
			}
		}
		reply.Received, reply.Finished = int64(s.in2.got), s.finished
	case req.Op == KeyOpGet && (req.Round == 1 || req.Round == 2):
		msg := s.own1
		if req.Round == 2 {
			msg = s.own2
		}
		if msg == nil {
			return r.refusal(env, a, partner, "", refuse(http.StatusConflict, ReasonUnexpectedMessage, "key setup: round 2 is made once round 1 is received"))
		}
		data, ok := chunk(msg, req.Offset)
		if !ok {
			return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "key setup: offset %d outside the %d-byte round %d", req.Offset, len(msg), req.Round))
		}
		sum := sha256.Sum256(msg)
		reply.Data, reply.Digest = data, sum[:]
	default:
		return r.refusal(env, a, partner, "", refuse(http.StatusBadRequest, ReasonMalformed, "key setup: unknown operation %q round %d", req.Op, req.Round))
	}
	return r.replyProving(env, a, MsgKeySetupReply, s.leaf, &reply.Audit, &reply, req.KnownTreeSize)
}

// KeySetupResult reports a finished key setup.
type KeySetupResult struct {
	Session   string
	BytesUp   int64 // round messages sent
	BytesDown int64 // round messages received
	Messages  int   // envelopes sent (each answered by one)
}

// SetupEncryptedSearch runs the key setup of the agreement's encrypted
// search with the partner and stores this node's key material in the
// keyring. It replaces an earlier setup on both sides.
func (c *Client) SetupEncryptedSearch(ctx context.Context) (*KeySetupResult, error) {
	if c.a.EncryptedSearch == nil || c.keys == nil {
		return nil, fmt.Errorf("exchange: agreement %s has no encrypted search here (or no keyring)", c.a.ID)
	}
	params := c.a.EncryptedSearch.params
	var sid [16]byte
	nonce := make([]byte, 32)
	rand.Read(sid[:])
	rand.Read(nonce)
	res := &KeySetupResult{Session: hex.EncodeToString(sid[:])}
	step := func(req KeySetupRequest) (*KeySetupReply, error) {
		req.Session = res.Session
		var rep KeySetupReply
		res.Messages++
		if _, err := c.roundTripSlow(ctx, res.Session, PathKeySetup, MsgKeySetupRequest, MsgKeySetupReply,
			func(known int64) any { req.KnownTreeSize = known; return &req }, &rep, func() *AuditProof { return &rep.Audit }); err != nil {
			return nil, err
		}
		if rep.Session != res.Session {
			return nil, errors.New("exchange: key-setup reply is about another session")
		}
		return &rep, nil
	}
	put := func(round int, msg []byte) (*KeySetupReply, error) {
		sum := sha256.Sum256(msg)
		var rep *KeySetupReply
		for off, tries := int64(0), 0; off < int64(len(msg)); tries++ {
			if tries > 2*len(msg)/KeyChunkBytes+4 {
				return nil, fmt.Errorf("exchange: key setup: the partner does not take round %d", round)
			}
			data, _ := chunk(msg, off)
			var err error
			if rep, err = step(KeySetupRequest{Op: KeyOpPut, Round: round, Offset: off, Digest: sum[:], Data: data}); err != nil {
				return nil, err
			}
			res.BytesUp += int64(len(data))
			off = rep.Received
		}
		return rep, nil
	}
	get := func(round, size int) ([]byte, error) {
		msg := make([]byte, 0, size)
		var digest []byte
		for len(msg) < size {
			rep, err := step(KeySetupRequest{Op: KeyOpGet, Round: round, Offset: int64(len(msg))})
			if err != nil {
				return nil, err
			}
			if len(rep.Data) == 0 || len(msg)+len(rep.Data) > size || (digest != nil && !bytes.Equal(digest, rep.Digest)) {
				return nil, fmt.Errorf("exchange: key setup: the partner's round %d does not fit its %d bytes", round, size)
			}
			digest = rep.Digest
			msg = append(msg, rep.Data...)
			res.BytesDown += int64(len(rep.Data))
		}
		if sum := sha256.Sum256(msg); !bytes.Equal(sum[:], digest) {
			return nil, fmt.Errorf("exchange: key setup: the partner's round %d does not match its digest", round)
		}
		return msg, nil
	}

	rep, err := step(KeySetupRequest{Op: KeyOpStart, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	if len(rep.Nonce) != 32 {
		return nil, errors.New("exchange: key setup: the partner's nonce is not 32 bytes")
	}
	pa, err := privacy.NewParty(params, keySeed(c.a, res.Session, nonce, rep.Nonce))
	if err != nil {
		return nil, err
	}
	own1, err := pa.Round1()
	if err != nil {
		return nil, err
	}
	raw1, err := params.MarshalRound1(own1)
	if err != nil {
		return nil, err
	}
	if _, err := put(1, raw1); err != nil {
		return nil, err
	}
	raw1 = nil
	peer1raw, err := get(1, params.Round1Size())
	if err != nil {
		return nil, err
	}
	peer1, err := params.UnmarshalRound1(peer1raw)
	if err != nil {
		return nil, fmt.Errorf("exchange: key setup: %v", err)
	}
	peer1raw = nil
	own2, err := pa.Round2(peer1)
	if err != nil {
		return nil, err
	}
	raw2, err := params.MarshalRound2(own2)
	if err != nil {
		return nil, err
	}
	if rep, err = put(2, raw2); err != nil {
		return nil, err
	}
	if !rep.Finished {
		return nil, errors.New("exchange: key setup: the partner did not finish")
	}
	peer2raw, err := get(2, params.Round2Size())
	if err != nil {
		return nil, err
	}
	peer2, err := params.UnmarshalRound2(peer2raw)
	if err != nil {
		return nil, fmt.Errorf("exchange: key setup: %v", err)
	}
	if err := pa.Finish(peer2); err != nil {
		return nil, err
	}
	if err := c.keys.put(c.a, pa); err != nil {
		return nil, err
	}
	if c.log != nil {
		c.log.Append(audit.Leaf{Time: c.now(), Kind: audit.KindKeySetup, Partner: c.partner.State, Agreement: c.a.ID, Case: res.Session,
			Outcome: OutcomeKeySetupFinished, BytesIn: res.BytesDown, BytesOut: res.BytesUp})
	}
	return res, nil
}

// keySetupTimeout bounds one key-setup or encrypted-search exchange: the
// responder computes a round (seconds of CPU at the deployment
// parameters) before it answers.
const keySetupTimeout = 10 * time.Minute
