package search

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/ebsp/ebsp/biometric"
)

// PreparedCodec is an Engine whose prepared gallery forms can be written
// and read back, so that a gallery restarts from a snapshot instead of
// preparing every template again.
type PreparedCodec interface {
	// PreparedVersion names the stored form; it changes whenever the
	// prepared form or the stage-1 vector of the same template would, so
	// that a snapshot of another version is rebuilt, never loaded.
	PreparedVersion() string
	MarshalPrepared(prepared any) ([]byte, error)
	UnmarshalPrepared(data []byte) (any, error)
}

// A snapshot is
//
//	"EBSPGSN1" | str16 engine algorithm | str16 prepared version |
//	u32 vector length | u32 len, meta | u64 entries |
//	entries: str16 identity | str16 template id | u8 position |
//	         vector | u32 len, prepared form |
//	u32 CRC-32C of everything before it
//
// (big-endian; str16 is a u16 length and the bytes).
const snapshotMagic = "EBSPGSN1"

// ErrSnapshotStale is returned by ReadSnapshot for a snapshot of another
// engine, prepared-form version or vector length: the caller rebuilds.
var ErrSnapshotStale = errors.New("search: snapshot made by another engine or version")

// maxSnapshotField bounds one field of a snapshot, so that a corrupt
// length cannot make the reader allocate without limit.
const maxSnapshotField = 1 << 20

// snapshotVersion is the engine's prepared version, or "" when the gallery
// keeps vectors only.
func (g *Gallery) snapshotVersion() (string, error) {
	if g.vecOnly {
		return "vector-only", nil
	}
	c, ok := g.engine.(PreparedCodec)
	if !ok {
		return "", fmt.Errorf("search: engine %s cannot store prepared templates", g.engine.Algorithm())
	}
	return c.PreparedVersion(), nil
}

// WriteSnapshot writes every template of the gallery, prepared, with its
// stage-1 vector and the caller's meta bytes (a log position, say).
func (g *Gallery) WriteSnapshot(w io.Writer, meta []byte) error {
	ver, err := g.snapshotVersion()
	if err != nil {
		return err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<20)
	var b []byte
	b = append(b, snapshotMagic...)
	b = appendStr16(b, g.engine.Algorithm())
	b = appendStr16(b, ver)
	b = binary.BigEndian.AppendUint32(b, uint32(g.dim))
	b = binary.BigEndian.AppendUint32(b, uint32(len(meta)))
	b = append(b, meta...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(g.entries)))
	if _, err := bw.Write(b); err != nil {
		return err
	}
	codec, _ := g.engine.(PreparedCodec)
	for i := range g.entries {
		e := &g.entries[i]
		b = appendStr16(b[:0], g.ids.names[e.ord])
		b = appendStr16(b, e.templateID)
		b = append(b, byte(e.position))
		for _, x := range g.vecs[i*g.dim : (i+1)*g.dim] {
			b = append(b, byte(x))
		}
		var p []byte
		if !g.vecOnly {
			if p, err = codec.MarshalPrepared(e.prepared); err != nil {
				return fmt.Errorf("search: snapshot template %s: %w", e.templateID, err)
			}
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err = w.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// SaveSnapshot writes the gallery's snapshot (WriteSnapshot) to path
// atomically: to a temporary file beside it, synced, then renamed, so
// that a crash leaves the old snapshot or the new one, never a part.
func (g *Gallery) SaveSnapshot(path string, meta []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("search: snapshot: %w", err)
	}
	err = g.WriteSnapshot(f, meta)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("search: snapshot %s: %w", path, err)
	}
	return nil
}

// ReadSnapshot replaces the gallery's templates with a snapshot's and
// returns its meta bytes. A snapshot of another engine or version gives
// ErrSnapshotStale; a damaged one (checksum, lengths, a prepared form the
// engine refuses) an error; in both cases the gallery is left as it was.
func (g *Gallery) ReadSnapshot(r io.Reader) ([]byte, error) {
	fresh := NewGallery(g.engine, g.workers)
	fresh.compacted = g.compacted
	meta, err := g.readSnapshot(r, func(batch []snapEntry) {
		for k := range batch {
			e := &batch[k]
			fresh.add(e.id, entry{templateID: e.tid, position: e.pos, prepared: e.prepared}, e.vec)
		}
	})
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.entries, g.vecs, g.bias, g.ids = fresh.entries, fresh.vecs, fresh.bias, fresh.ids
	return meta, nil
}

// SnapshotTemplate is one template of a snapshot, ready to add to a
// gallery of the same engine (AddSnapshotTemplate) without preparing it.
type SnapshotTemplate struct {
	Identity string
	Position biometric.FingerPosition
	prepared any
	vec      []int8
}

// ReadSnapshotTemplates reads a snapshot as ReadSnapshot does (the same
// checks: version, lengths, checksum) but returns its templates by
// template id instead of loading them, for a loader that takes from it
// only what its own store still holds; nothing is returned unless the
// whole snapshot is good.
func (g *Gallery) ReadSnapshotTemplates(r io.Reader) (meta []byte, templates map[string]SnapshotTemplate, err error) {
	templates = map[string]SnapshotTemplate{}
	meta, err = g.readSnapshot(r, func(batch []snapEntry) {
		for k := range batch {
			e := &batch[k]
			templates[e.tid] = SnapshotTemplate{Identity: e.id, Position: e.pos, prepared: e.prepared, vec: e.vec}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return meta, templates, nil
}

// AddSnapshotTemplate adds a template read by ReadSnapshotTemplates from a
// snapshot of this gallery's engine and version.
func (g *Gallery) AddSnapshotTemplate(templateID string, t SnapshotTemplate) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.add(t.Identity, entry{templateID: templateID, position: t.Position, prepared: t.prepared}, t.vec)
}

// readSnapshot checks a snapshot's header, reads its entries in batches,
// decodes their prepared forms and hands each batch to add; it returns
// the meta bytes once the checksum is good.
func (g *Gallery) readSnapshot(r io.Reader, add func([]snapEntry)) ([]byte, error) {
	ver, err := g.snapshotVersion()
	if err != nil {
		return nil, err
	}
	crc := crc32.New(crcTable)
	sr := &snapReader{r: io.TeeReader(bufio.NewReaderSize(r, 1<<20), crc)}
	if string(sr.bytes(len(snapshotMagic))) != snapshotMagic || sr.err != nil {
		return nil, fmt.Errorf("search: snapshot: no %q header", snapshotMagic)
	}
	alg, sver, dim := sr.str16(), sr.str16(), int(sr.u32())
	if sr.err != nil {
		return nil, fmt.Errorf("search: snapshot header: %w", sr.err)
	}
	if alg != g.engine.Algorithm() || sver != ver || dim != g.dim {
		return nil, fmt.Errorf("%w: %s %s vectors of %d, this gallery %s %s vectors of %d", ErrSnapshotStale,
			alg, sver, dim, g.engine.Algorithm(), ver, g.dim)
	}
	meta := sr.bytes(int(sr.u32()))
	n := sr.u64()
	if sr.err != nil {
		return nil, fmt.Errorf("search: snapshot header: %w", sr.err)
	}
	// Entries are read in batches and their prepared forms decoded on
	// every worker: decoding (a fingerprint's pair table is rebuilt) is
	// most of a load's CPU.
	var batch []snapEntry
	for i := uint64(0); i < n; i++ {
		e := snapEntry{i: i, id: sr.str16(), tid: sr.str16(), pos: biometric.FingerPosition(sr.byte()), vec: make([]int8, dim)}
		for j, x := range sr.bytes(dim) {
			e.vec[j] = int8(x)
		}
		e.raw = sr.bytes(int(sr.u32()))
		if sr.err != nil {
			return nil, fmt.Errorf("search: snapshot entry %d: %w", i, sr.err)
		}
		if e.id == "" {
			return nil, fmt.Errorf("search: snapshot entry %d: empty identity", i)
		}
		if batch = append(batch, e); len(batch) == snapBatch || i == n-1 {
			if err := g.decodeSnapBatch(batch); err != nil {
				return nil, err
			}
			add(batch)
			batch = batch[:0]
		}
	}
	sum := crc.Sum32()
	var tail [4]byte
	if _, err := io.ReadFull(sr.r, tail[:]); err != nil || binary.BigEndian.Uint32(tail[:]) != sum {
		return nil, errors.New("search: snapshot fails its checksum")
	}
	return meta, nil
}

// snapBatch is how many snapshot entries are decoded together.
const snapBatch = 4096

// snapEntry is one snapshot entry as read, its prepared form still
// encoded.
type snapEntry struct {
	i        uint64
	id, tid  string
	pos      biometric.FingerPosition
	vec      []int8
	raw      []byte
	prepared any
	err      error
}

// decodeSnapBatch decodes a batch's prepared forms on the gallery's
// workers (compacted when the gallery keeps compact forms).
func (g *Gallery) decodeSnapBatch(batch []snapEntry) error {
	if !g.vecOnly {
		codec := g.engine.(PreparedCodec)
		c, compact := g.engine.(Compacter)
		compact = compact && g.compacted
		var wg sync.WaitGroup
		for w := range min(g.workers, len(batch)) {
			wg.Go(func() {
				for k := w; k < len(batch); k += g.workers {
					e := &batch[k]
					if e.prepared, e.err = codec.UnmarshalPrepared(e.raw); e.err == nil && compact {
						e.prepared = c.Compact(e.prepared)
					}
					e.raw = nil
				}
			})
		}
		wg.Wait()
	}
	for k := range batch {
		if err := batch[k].err; err != nil {
			return fmt.Errorf("search: snapshot entry %d: %w", batch[k].i, err)
		}
	}
	return nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func appendStr16(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// snapReader reads a snapshot's fields, keeping the first error.
type snapReader struct {
	r   io.Reader
	err error
	buf [8]byte
}

func (s *snapReader) bytes(n int) []byte {
	if s.err != nil {
		return nil
	}
	if n < 0 || n > maxSnapshotField {
		s.err = fmt.Errorf("field of %d bytes (at most %d)", n, maxSnapshotField)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = fmt.Errorf("ends early: %w", err)
		return nil
	}
	return b
}

func (s *snapReader) fixed(n int) []byte {
	if s.err != nil {
		return s.buf[:n]
	}
	if _, err := io.ReadFull(s.r, s.buf[:n]); err != nil {
		s.err = fmt.Errorf("ends early: %w", err)
	}
	return s.buf[:n]
}

func (s *snapReader) byte() byte    { return s.fixed(1)[0] }
func (s *snapReader) u32() uint32   { return binary.BigEndian.Uint32(s.fixed(4)) }
func (s *snapReader) u64() uint64   { return binary.BigEndian.Uint64(s.fixed(8)) }
func (s *snapReader) str16() string { return string(s.bytes(int(binary.BigEndian.Uint16(s.fixed(2))))) }
