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
	// UnmarshalPrepared decodes what MarshalPrepared wrote; it keeps no
	// reference to data, which the snapshot reader reuses.
	UnmarshalPrepared(data []byte) (any, error)
}

// CompactDecoder is a PreparedCodec and Compacter that decodes a stored
// prepared form straight into its compact form: what
// Compact(UnmarshalPrepared(data)) gives, without computing what Compact
// drops (a fingerprint's pair table, most of a load's CPU).
type CompactDecoder interface {
	UnmarshalCompact(data []byte) (any, error)
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
//
// Decoding (a fingerprint's pair table is rebuilt) is most of a load's
// CPU; it runs on every worker, a batch at a time, while this goroutine
// reads the next batch and adds the previous one, so that the disk, the
// parsing and the adding overlap the decoding.
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
	// Two batches take turns: one read while the other decodes. Their
	// prepared forms' bytes are read into an arena that the batch after
	// next reuses (UnmarshalPrepared keeps none of them); vectors, which
	// ReadSnapshotTemplates keeps, get a block of their own per batch.
	var (
		bufs    [2]snapBatchBuf
		cur     = &bufs[0]
		pending *snapBatchBuf
		done    = make(chan error, 1)
	)
	// finish waits for the pending batch's decoding and adds it.
	finish := func() error {
		if pending == nil {
			return nil
		}
		err := <-done
		if err == nil {
			add(pending.entries)
		}
		pending = nil
		return err
	}
	for i := uint64(0); i < n; i++ {
		if len(cur.entries) == 0 {
			cur.vecs = make([]int8, 0, snapBatch*dim)
		}
		e := snapEntry{i: i, id: sr.str16(), tid: sr.str16(), pos: biometric.FingerPosition(sr.byte())}
		e.vec = cur.vec(dim)
		for j, x := range sr.fixed(dim) {
			e.vec[j] = int8(x)
		}
		e.raw = cur.raw(sr, int(sr.u32()))
		if sr.err != nil {
			if err := finish(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("search: snapshot entry %d: %w", i, sr.err)
		}
		if e.id == "" {
			if err := finish(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("search: snapshot entry %d: empty identity", i)
		}
		if cur.entries = append(cur.entries, e); len(cur.entries) == snapBatch || i == n-1 {
			prev := pending
			if prev != nil {
				if err := <-done; err != nil {
					return nil, err
				}
			}
			pending = cur
			go func(b []snapEntry) { done <- g.decodeSnapBatch(b) }(cur.entries)
			if prev != nil {
				add(prev.entries)
				prev.reset()
				cur = prev
			} else {
				cur = &bufs[1]
			}
		}
	}
	if err := finish(); err != nil {
		return nil, err
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

// snapBatchBuf is a batch of snapshot entries as read, with the arena
// their prepared forms' bytes are read into and the block of their
// vectors.
type snapBatchBuf struct {
	entries []snapEntry
	arena   []byte
	vecs    []int8
}

// reset empties the batch for reuse, keeping its arena (the vectors'
// block is handed on with the entries, never reused).
func (b *snapBatchBuf) reset() {
	clear(b.entries)
	b.entries, b.arena = b.entries[:0], b.arena[:0]
}

// vec returns room for one vector in the batch's block.
func (b *snapBatchBuf) vec(dim int) []int8 {
	if len(b.vecs)+dim > cap(b.vecs) {
		b.vecs = make([]int8, 0, max(snapBatch*dim, dim))
	}
	b.vecs = b.vecs[:len(b.vecs)+dim]
	return b.vecs[len(b.vecs)-dim : len(b.vecs) : len(b.vecs)]
}

// raw reads a variable-length field of n bytes into the batch's arena, as
// snapReader.bytes reads one into a new slice, growing the arena by a new
// block when it is full: the entries already read keep the old block.
func (b *snapBatchBuf) raw(sr *snapReader, n int) []byte {
	if !sr.field(n) {
		return nil
	}
	if len(b.arena)+n > cap(b.arena) {
		b.arena = make([]byte, 0, max(snapArena, n))
	}
	f := b.arena[len(b.arena) : len(b.arena)+n : len(b.arena)+n]
	if !sr.fill(f) {
		return nil
	}
	b.arena = b.arena[:len(b.arena)+n]
	return f
}

// snapArena is the size of an arena block: a batch of fingerprints'
// prepared forms (about 3.7 KB each) fills four.
const snapArena = 4 << 20

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
// workers (compacted when the gallery keeps compact forms; an engine that
// can decode straight into the compact form, CompactDecoder, skips what
// Compact would drop).
func (g *Gallery) decodeSnapBatch(batch []snapEntry) error {
	if !g.vecOnly {
		codec := g.engine.(PreparedCodec)
		c, compact := g.engine.(Compacter)
		compact = compact && g.compacted
		cd, direct := g.engine.(CompactDecoder)
		direct = direct && compact
		var wg sync.WaitGroup
		for w := range min(g.workers, len(batch)) {
			wg.Go(func() {
				for k := w; k < len(batch); k += g.workers {
					e := &batch[k]
					switch {
					case direct:
						e.prepared, e.err = cd.UnmarshalCompact(e.raw)
					default:
						if e.prepared, e.err = codec.UnmarshalPrepared(e.raw); e.err == nil && compact {
							e.prepared = c.Compact(e.prepared)
						}
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
	buf []byte // fixed's, grown to the longest field it has read
}

// field reports whether a variable-length field of n bytes may be read:
// no error so far and n within maxSnapshotField (else the error is kept).
func (s *snapReader) field(n int) bool {
	if s.err != nil {
		return false
	}
	if n < 0 || n > maxSnapshotField {
		s.err = fmt.Errorf("field of %d bytes (at most %d)", n, maxSnapshotField)
		return false
	}
	return true
}

// fill reads len(b) bytes into b and reports whether it could (else the
// error is kept).
func (s *snapReader) fill(b []byte) bool {
	if s.err != nil {
		return false
	}
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = fmt.Errorf("ends early: %w", err)
		return false
	}
	return true
}

// bytes reads a variable-length field of n bytes into a new slice.
func (s *snapReader) bytes(n int) []byte {
	if !s.field(n) {
		return nil
	}
	b := make([]byte, n)
	if !s.fill(b) {
		return nil
	}
	return b
}

// fixed reads n bytes into a buffer that the next call reuses; n is the
// caller's (a vector's length, a number's), not the input's.
func (s *snapReader) fixed(n int) []byte {
	if len(s.buf) < n {
		s.buf = make([]byte, max(n, 8))
	}
	s.fill(s.buf[:n])
	return s.buf[:n]
}

func (s *snapReader) byte() byte    { return s.fixed(1)[0] }
func (s *snapReader) u32() uint32   { return binary.BigEndian.Uint32(s.fixed(4)) }
func (s *snapReader) u64() uint64   { return binary.BigEndian.Uint64(s.fixed(8)) }
func (s *snapReader) str16() string { return string(s.bytes(int(binary.BigEndian.Uint16(s.fixed(2))))) }
