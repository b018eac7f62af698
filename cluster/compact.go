package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ebsp/ebsp/internal/durable"
)

// CompactLog rewrites the shard log with what the shard holds now, one
// enrolment record per identity, dropping erased identities and
// templates, and writes a snapshot of the new log. Writes wait while it
// runs; searches do not. It returns the log's size before and after.
//
// The snapshot is removed before the new log takes the old one's name and
// written again after: a crash in between leaves a log without a snapshot,
// rebuilt from the log at the next start, never a snapshot whose log
// position points into another log.
func (m *Matcher) CompactLog() (before, after int64, err error) {
	if m.log == nil {
		return 0, 0, errors.New("cluster: a matcher without --data has no log to compact")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	before = m.log.size
	path := m.logPath()
	f, err := os.Open(path)
	if err != nil {
		return before, 0, fmt.Errorf("cluster: compact: %w", err)
	}
	var order []string
	live := map[string][]Template{}
	_, err = readRecords(f, before, path, func(_ int64, r logRecord) error {
		switch r.op {
		case logEnrol:
			if _, ok := live[r.identity]; !ok {
				order = append(order, r.identity)
			}
			live[r.identity] = append(live[r.identity], r.tmpl...)
		case logRemove:
			delete(live, r.identity)
		case logRemoveTemplates:
			if ts, ok := live[r.identity]; ok {
				live[r.identity] = slices.DeleteFunc(ts, func(t Template) bool {
					return slices.ContainsFunc(r.tmpl, func(g Template) bool { return g.ID == t.ID })
				})
			}
		}
		return nil
	})
	f.Close()
	if err != nil {
		return before, 0, err
	}
	// The log must say what the gallery holds; if not, keep both as they
	// are rather than write a log that disagrees.
	var recs []logRecord
	n := 0
	for _, id := range order {
		if ts := live[id]; len(ts) > 0 {
			recs = append(recs, logRecord{op: logEnrol, identity: id, tmpl: ts})
			n += len(ts)
			delete(live, id) // an identity erased and enrolled again is listed twice in order
		}
	}
	if held, _ := m.g.Len(); held != n {
		return before, 0, fmt.Errorf("cluster: compact: the log holds %d templates, the shard %d: not compacted", n, held)
	}
	tmp := path + ".compact"
	os.Remove(tmp)
	nl, err := openShardLog(tmp, 0, func(logRecord) error { return nil })
	if err != nil {
		return before, 0, err
	}
	for len(recs) > 0 {
		k := min(len(recs), 1024)
		if err := nl.append(recs[:k]...); err != nil {
			nl.close()
			os.Remove(tmp)
			return before, 0, err
		}
		recs = recs[k:]
	}
	// The removal is made durable before the rename: without a directory
	// sync between them, a crash may keep the rename and lose the removal.
	err = os.Remove(m.snapshotPath())
	if err == nil || errors.Is(err, os.ErrNotExist) {
		err = durable.SyncDir(filepath.Dir(m.snapshotPath()))
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		nl.close()
		os.Remove(tmp)
		return before, 0, fmt.Errorf("cluster: compact: %w", err)
	}
	_ = durable.SyncDir(filepath.Dir(path)) // the rename, durable
	m.log.close()
	m.log = nl // the same file, under its new name
	return before, nl.size, m.writeSnapshot()
}
