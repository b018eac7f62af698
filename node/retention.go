package node

import (
	"context"
	"time"

	"github.com/ebsp/ebsp/store"
)

// RetentionResult says what a retention sweep deleted.
type RetentionResult struct {
	Identities int `json:"identities"` // identities past their expiry
	Templates  int `json:"templates"`  // templates of samples or encounters past theirs
	Exchange   int `json:"exchange"`   // exchange cases closed by deadline or deleted past retention
}

// Retain enforces expiry: identities, encounters and samples whose expiry
// has passed are deleted from the store and forgotten by the gallery, and
// the exchange's case records past retention are dropped (each deletion
// there is itself logged). The node runs it periodically (RunRetention).
func (n *Node) Retain(ctx context.Context) (RetentionResult, error) {
	var res RetentionResult
	now := n.now()
	ids, err := n.store.ExpireBefore(ctx, now)
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		for m, g := range n.galleries {
			if g.Remove(id) > 0 {
				n.snapshots.touch(m)
			}
		}
		// The store has erased them: a shard that does not answer keeps
		// an erased identity searchable, which must be loud.
		if err := n.shardsRemove(ctx, id); err != nil {
			n.log.Error("retention: an expired identity is still in a shard", "err", err.Error())
		}
	}
	res.Identities = len(ids)
	if re, ok := n.store.(store.RecordExpirer); ok {
		gone, err := re.ExpireRecordsBefore(ctx, now)
		if err != nil {
			return res, err
		}
		byMod := map[string]map[string]bool{}
		for _, t := range gone {
			if byMod[string(t.Modality)] == nil {
				byMod[string(t.Modality)] = map[string]bool{}
			}
			byMod[string(t.Modality)][t.TemplateID] = true
		}
		for m, g := range n.galleries {
			if k := g.RemoveTemplates(byMod[string(m)]); k > 0 {
				res.Templates += k
				n.snapshots.touch(m)
			}
		}
		for _, t := range gone {
			if sg, ok := n.sharded[t.Modality]; ok {
				k, err := sg.c.RemoveTemplates(ctx, t.IdentityID, []string{t.TemplateID})
				if err != nil {
					n.log.Error("retention: an expired template is still in a shard", "modality", string(t.Modality), "err", err.Error())
				}
				res.Templates += k
				sg.templates.Add(int64(-k))
			}
		}
	}
	if n.exchange != nil {
		sw, err := n.exchange.responder.Sweep()
		if err != nil {
			return res, err
		}
		res.Exchange = sw.Expired + sw.Deleted
		n.exchange.certs.check()
	}
	n.metrics.setGallery(n)
	if res != (RetentionResult{}) {
		n.log.Info("retention sweep", "identities", res.Identities, "templates", res.Templates, "exchange_records", res.Exchange)
	}
	return res, nil
}

// RunRetention calls Retain every interval until ctx ends.
func (n *Node) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := n.Retain(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("retention sweep failed", "err", err.Error())
			}
		}
	}
}
