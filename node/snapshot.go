package node

import (
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/search"
)

// gallerySnapshots is the state of the in-process galleries' snapshots.
type gallerySnapshots struct {
	mu    sync.Mutex // one writer at a time; guards last and dirty
	last  map[biometric.Modality]snapshotLoad
	dirty map[biometric.Modality]bool // the snapshot on disk is not the gallery as loaded
}

// snapshotLoad says how a gallery used its snapshot at load.
type snapshotLoad struct {
	// state is "none" (no snapshot), "loaded", "unsupported" (an engine
	// without a stored prepared form), or "rebuilt: " and why it was not
	// used (stale, damaged).
	state            string
	reused, prepared int
	// unused counts the snapshot's templates the store no longer holds.
	unused int
}

func (s *gallerySnapshots) record(m biometric.Modality, l snapshotLoad) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[biometric.Modality]snapshotLoad{}
	}
	if s.dirty == nil {
		s.dirty = map[biometric.Modality]bool{}
	}
	s.last[m] = l
	// A snapshot with templates the store no longer holds is rewritten
	// too, so that erased templates do not stay in it.
	s.dirty[m] = s.dirty[m] || l.state != "loaded" && l.state != "unsupported" || l.prepared > 0 || l.unused > 0
}

// touch notes that modality m's gallery changed since its snapshot.
func (s *gallerySnapshots) touch(m biometric.Modality) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty == nil {
		s.dirty = map[biometric.Modality]bool{}
	}
	s.dirty[m] = true
}

func (n *Node) gallerySnapshotPath(m biometric.Modality) string {
	return filepath.Join(n.cfg.DataDir, "gallery-"+string(m)+".snap")
}

// readGallerySnapshot reads modality m's snapshot, for LoadGallery.
func (n *Node) readGallerySnapshot(m biometric.Modality, g *search.Gallery) (map[string]search.SnapshotTemplate, string) {
	if _, ok := g.Engine().(search.PreparedCodec); !ok {
		if vt, ok := g.Engine().(search.VectorTemplate); !ok || !vt.VectorIsTemplate() {
			return nil, "unsupported"
		}
	}
	f, err := os.Open(n.gallerySnapshotPath(m))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "none"
	}
	if err != nil {
		return nil, "rebuilt: " + err.Error()
	}
	defer f.Close()
	_, ts, err := g.ReadSnapshotTemplates(f)
	if err != nil {
		n.log.Warn("gallery snapshot not used: every template is prepared from the store", "modality", string(m), "err", err.Error())
		return nil, "rebuilt: " + err.Error()
	}
	return ts, "loaded"
}

// saveGallerySnapshots writes the snapshot of every in-process gallery
// that changed since its snapshot was read or written (SaveSnapshot:
// atomically).
func (n *Node) saveGallerySnapshots() error {
	s := &n.snapshots
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for m, g := range n.galleries {
		if l, ok := s.last[m]; !ok || l.state == "unsupported" || !s.dirty[m] {
			continue
		}
		if err := g.SaveSnapshot(n.gallerySnapshotPath(m), nil); err != nil {
			n.log.Error("gallery snapshot not written", "modality", string(m), "err", err.Error())
			errs = append(errs, err)
			continue
		}
		s.dirty[m] = false
	}
	return errors.Join(errs...)
}
