package node

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/search"
	"github.com/ebsp/ebsp/store"
)

// loadBatch is how many stored templates the loader reads before it
// prepares them on every core: large enough to keep the cores busy, small
// enough that the copies it holds stay a few megabytes.
const loadBatch = 1024

// LoadGallery fills the in-memory galleries from the store and marks the
// node ready. progress, when not nil, is called every 10,000 templates.
//
// Reading the store is cheap next to preparing a template (a fingerprint's
// cylinders take about 0.5 ms: BenchmarkPrepare in package fingerprint),
// so the store is read in batches and each batch is prepared on all
// cores, then added in the store's order. Better still, a template whose
// prepared form is in the gallery's snapshot (DataDir/gallery-MODALITY.snap,
// written by Close and after a load that prepared anything) is taken from
// it, without preparing, when the store holds it under the same identity
// and position: the store decides what is in the gallery, the snapshot
// only saves work, so a snapshot older than the store cannot bring back an
// erased template. A snapshot of another engine or prepared-form version,
// or a damaged one, is not used (and is rewritten).
//
// With a cluster configuration the sharded modalities are not loaded
// here: the node starts (or connects to) NATS and the matchers, which load
// their shards from their own logs and snapshots, and sends them any
// stored template they miss (openCluster). Close stops them.
func (n *Node) LoadGallery(ctx context.Context, progress func(modality biometric.Modality, loaded int)) error {
	if n.cfg.Cluster != nil && n.clusterParts == nil {
		if err := n.openCluster(ctx); err != nil {
			return err
		}
	}
	for m, g := range n.galleries {
		l := galleryLoader{g: g, alg: g.Engine().Algorithm(), workers: runtime.GOMAXPROCS(0), size: loadBatch}
		var state string
		l.snap, state = n.readGallerySnapshot(m, g)
		l.progress = func(k int) {
			if progress != nil {
				progress(m, k)
			}
		}
		if err := n.store.Gallery(ctx, m, l.take); err != nil {
			return fmt.Errorf("node: load %s gallery: %w", m, err)
		}
		if err := l.flush(); err != nil {
			return fmt.Errorf("node: load %s gallery: %w", m, err)
		}
		l.progress(l.count)
		n.snapshots.record(m, snapshotLoad{state: state, reused: l.reused, prepared: l.count - l.reused, unused: len(l.snap)})
		l.snap = nil
		n.log.Info("gallery loaded", "modality", string(m), "templates", l.count, "from_snapshot", l.reused,
			"prepared", l.count-l.reused, "snapshot", state)
	}
	// Before ready, not in the background: a node that is never closed
	// (tests, embedders) must not be writing into its data directory
	// after LoadGallery returns. A failed write only costs the next start
	// its preparation; it is logged.
	_ = n.saveGallerySnapshots()
	n.metrics.setGallery(n)
	n.ready.Store(true)
	return nil
}

// galleryLoader batches one modality's stored templates for preparation.
type galleryLoader struct {
	g       *search.Gallery
	alg     string
	workers int
	size    int // templates per batch
	batch   []store.GalleryEntry
	count   int
	// snap holds the templates of the gallery's snapshot not yet taken;
	// reused counts those taken.
	snap     map[string]search.SnapshotTemplate
	reused   int
	progress func(loaded int)
}

// take is the store's callback for one entry. The entry's bytes are copied:
// a store may reuse its row buffer once the callback returns.
func (l *galleryLoader) take(e store.GalleryEntry) error {
	if e.Algorithm != l.alg {
		return nil // another engine's template; kept in the store
	}
	if t, ok := l.snap[e.TemplateID]; ok && t.Identity == e.IdentityID && t.Position == e.Position && e.IdentityID != "" {
		delete(l.snap, e.TemplateID)
		l.g.AddSnapshotTemplate(e.TemplateID, t)
		l.reused++
		if l.count++; l.count%10000 == 0 {
			l.progress(l.count)
		}
		return nil
	}
	e.Data = append([]byte(nil), e.Data...)
	l.batch = append(l.batch, e)
	if len(l.batch) >= l.size {
		return l.flush()
	}
	return nil
}

// flush prepares the batch in parallel and adds it to the gallery in order.
func (l *galleryLoader) flush() error {
	k := len(l.batch)
	if k == 0 {
		return nil
	}
	prepared, errs := make([]any, k), make([]error, k)
	var wg sync.WaitGroup
	for w := range min(l.workers, k) {
		wg.Go(func() {
			for i := w; i < k; i += l.workers {
				prepared[i], errs[i] = l.g.Engine().PrepareGallery(l.batch[i].Data)
			}
		})
	}
	wg.Wait()
	for i, e := range l.batch {
		if errs[i] != nil {
			return fmt.Errorf("template %s: %w", e.TemplateID, errs[i])
		}
		if e.IdentityID == "" {
			return fmt.Errorf("template %s: empty identity id", e.TemplateID)
		}
		l.g.AddPrepared(e.IdentityID, e.TemplateID, e.Position, prepared[i])
		l.count++
		if l.count%10000 == 0 {
			l.progress(l.count)
		}
	}
	clear(l.batch) // drop the copied template bytes
	l.batch = l.batch[:0]
	return nil
}
