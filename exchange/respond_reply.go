package exchange

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ebsp/ebsp/audit"
)

// This file holds how the responder writes leaves and signed replies.

func (r *Responder) caseByID(id string) *caseRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cases[id]
}

// logExpiry writes the expiry leaf of a case that just expired.
func (r *Responder) logExpiry(c *caseRec, reason string, now time.Time) {
	idx, err := r.log.Append(audit.Leaf{Time: now, Kind: audit.KindExpiry, Partner: c.partner.State, Agreement: c.agreement.ID,
		Case: c.id, Purpose: string(c.purpose), Reason: reason})
	if err != nil {
		r.logger.Error("audit append failed", "err", err)
		return
	}
	r.mu.Lock()
	c.lastLeaf = idx
	r.mu.Unlock()
}

// prove fills p with a proof that leaf index is in the log under the
// latest checkpoint, and that this checkpoint extends the tree of size
// known (the requester's latest).
func (r *Responder) prove(p *AuditProof, index, known int64) error {
	cp, size, err := r.log.Checkpoint()
	if err != nil {
		return err
	}
	leaf, err := r.log.Leaf(index)
	if err != nil {
		return err
	}
	incl, err := r.log.InclusionProof(index, size)
	if err != nil {
		return err
	}
	*p = AuditProof{Index: index, Leaf: leaf, Checkpoint: cp}
	for _, h := range incl {
		p.Inclusion = append(p.Inclusion, h[:])
	}
	if known > 0 && known <= size {
		cons, err := r.log.ConsistencyProof(known, size)
		if err != nil {
			return err
		}
		p.ConsistencyFrom = known
		for _, h := range cons {
			p.Consistency = append(p.Consistency, h[:])
		}
	}
	return nil
}

// reply appends leaf, proves it into proof (a field of body), and seals
// body as a reply to env.
func (r *Responder) reply(env *Envelope, a *Agreement, typ MsgType, leaf audit.Leaf, c *caseRec, proof *AuditProof, body any, known int64) Response {
	if leaf.Message == env.HeaderHash() {
		leaf.Key = env.KeyID()
	}
	idx, err := r.log.Append(leaf)
	if err != nil {
		return r.internal(env, a, err)
	}
	if c != nil {
		r.mu.Lock()
		c.lastLeaf = idx
		r.mu.Unlock()
	}
	return r.replyProving(env, a, typ, idx, proof, body, known)
}

// replyProving seals body after proving the existing leaf idx.
func (r *Responder) replyProving(env *Envelope, a *Agreement, typ MsgType, idx int64, proof *AuditProof, body any, known int64) Response {
	if err := r.prove(proof, idx, known); err != nil {
		return r.internal(env, a, err)
	}
	raw, _, err := r.sealer.Seal(typ, a.ID, env.From, body)
	if err != nil {
		return r.internal(env, a, err)
	}
	return Response{Status: http.StatusOK, Body: raw}
}

// internal answers a failure of this node (its audit log or store full or
// unreachable, no randomness): 503 with a code and Retry-After, as the
// partner may retry. Nothing is released; the error goes to the
// operational log, not to the partner. The reply is not signed and no leaf
// is written: the log is what may have failed.
func (r *Responder) internal(env *Envelope, a *Agreement, err error) Response {
	r.logger.Error("exchange responder failure", "err", err)
	body, _ := json.Marshal(RefusalReply{Reason: ReasonStorage, Detail: "this node could not record the request durably; retry later",
		RetryAfterSeconds: int(storageRetry / time.Second)})
	return Response{Status: http.StatusServiceUnavailable, RetryAfter: storageRetry, Body: body}
}

// refusal logs a refusal leaf and answers it, signed when the sender and
// agreement are known (so the partner can show it), plain otherwise.
// partner is the state the refusal is counted against: the envelope's
// sender when it verified, else the TLS peer's CA country.
func (r *Responder) refusal(env *Envelope, a *Agreement, partner string, purpose Purpose, rf *Refusal) Response {
	now := r.now()
	leaf := audit.Leaf{Time: now, Kind: audit.KindRefusal, Partner: partner, Reason: rf.Reason, Purpose: string(purpose)}
	if a != nil {
		leaf.Agreement = a.ID
	}
	if env != nil && len(env.Nonce) > 0 {
		leaf.Message, leaf.Key = env.HeaderHash(), env.KeyID()
	}
	body := RefusalReply{Reason: rf.Reason, Detail: rf.Detail}
	if rf.RetryAfter > 0 {
		body.RetryAfterSeconds = int((rf.RetryAfter + time.Second - 1) / time.Second)
	}
	resp := Response{Status: rf.Status, RetryAfter: rf.RetryAfter}
	idx, err := r.log.Append(leaf)
	if err != nil {
		return r.internal(env, a, err)
	}
	// Sign only to a sender whose identity the envelope checks established
	// as this agreement's partner; answer anyone else in plain text.
	if env != nil && a != nil && env.From == a.Partner(r.self.State).addr() && rf.Reason != ReasonUnsigned && rf.Reason != ReasonBadSignature && rf.Reason != ReasonUntrustedCert && rf.Reason != ReasonNotAParty {
		body.InReplyTo = env.HeaderHash()
		var known struct {
			KnownTreeSize int64 `json:"known_tree_size"`
		}
		json.Unmarshal(env.Body, &known)
		body.Audit = &AuditProof{}
		if err := r.prove(body.Audit, idx, known.KnownTreeSize); err != nil {
			return r.internal(env, a, err)
		}
		raw, _, err := r.sealer.Seal(MsgRefusal, a.ID, env.From, body)
		if err != nil {
			return r.internal(env, a, err)
		}
		resp.Body = raw
		return resp
	}
	resp.Body, _ = json.Marshal(body)
	return resp
}

func (p *Party) addr() Address { return Address{p.State, p.Node} }
