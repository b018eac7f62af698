package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/face"
)

// Encrypted search (docs/privacy.md): the node keeps its agreements'
// key material in DataDir/exchange-keys, answers encrypted face searches
// from its face gallery, and runs a key setup with a partner when an
// administrator asks (POST /v1/exchange/agreements/{id}/keysetup).

// keyringFor opens the node's keyring when one of the agreements has an
// encrypted search, nil otherwise.
func (n *Node) keyringFor(agreements []*exchange.Agreement) (*exchange.Keyring, error) {
	for _, a := range agreements {
		if a.EncryptedSearch != nil {
			if n.cfg.Cluster != nil && slices.Contains(n.cfg.Cluster.Modalities, biometric.Face) {
				// The responder would search an empty gallery and answer
				// every encrypted search with a count of 0.
				return nil, fmt.Errorf("node: agreement %s has an encrypted face search, which is not built over a cluster's face shards: keep faces in the node (cluster.modalities without face)", a.ID)
			}
			return exchange.OpenKeyring(filepath.Join(n.cfg.DataDir, "exchange-keys"))
		}
	}
	return nil, nil
}

// nodeFaceVectors gives the responder the face gallery as float
// embeddings.
type nodeFaceVectors struct{ n *Node }

func (f nodeFaceVectors) FaceVectors(ctx context.Context) ([][]float32, error) {
	if _, ok := f.n.sharded[biometric.Face]; ok {
		return nil, errors.New("node: encrypted search over a cluster's face shards is not built")
	}
	g := f.n.galleries[biometric.Face]
	if g == nil {
		return nil, nil // no face engine: no faces to count
	}
	var out [][]float32
	for i := 0; ; i++ {
		_, tmpl, ok := g.Entry(i)
		if !ok {
			return out, ctx.Err()
		}
		e, ok := tmpl.(*face.Embedding)
		if !ok {
			return nil, fmt.Errorf("node: face gallery entry %d is a %T, not a recogniser embedding", i, tmpl)
		}
		v := make([]float32, len(e.Vector))
		for j, x := range e.Vector {
			v[j] = float32(x) * e.Scale
		}
		out = append(out, v)
	}
}

// SetupEncryptedSearch runs the key setup of agreement id's encrypted
// search with its partner, from this node.
func (n *Node) SetupEncryptedSearch(ctx context.Context, id string) (*exchange.KeySetupResult, error) {
	p, err := n.exchangeOn()
	if err != nil {
		return nil, err
	}
	self := p.setup.Credentials.State
	for _, a := range p.setup.Agreements {
		if a.ID != id {
			continue
		}
		if a.EncryptedSearch == nil {
			return nil, errf(CodeUnsupported, fmt.Sprintf("agreement %s has no encrypted search", id))
		}
		c, err := p.client(a.Partner(self).State)
		if err != nil {
			return nil, err
		}
		res, err := c.SetupEncryptedSearch(ctx)
		if err != nil {
			if e := refusalError(err); e != err {
				return nil, e
			}
			// A round that does not fit, a bad digest: the partner's
			// failure as far as this API can tell.
			return nil, &apiError{Code: CodePartnerUnavailable, Message: "key setup: " + err.Error(), cause: err}
		}
		return res, nil
	}
	return nil, errf(CodeNotFound, fmt.Sprintf("no agreement %q", id))
}
