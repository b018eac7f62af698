package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/ebsp/ebsp/biometric"
)

// A shard log is the durable copy of a matcher's shard: an append-only
// file of records, each
//
//	u32 payload length | u32 CRC-32C of the payload | payload
//
// with the payload
//
//	u8 op (1 enrol, 2 remove, 3 remove templates) | u16 len, identity |
//	for enrol: u16 templates, each u16 len, id | u8 position | u32 len, data
//	for remove templates: u16 templates, each u16 len, id
//
// (big-endian). A request is acknowledged only after its record is
// written and synced, so an acknowledged enrolment survives kill -9; a
// record torn by a crash can only be the last, and is cut off on open.
// A bad record followed by more data is corruption, which Open refuses to
// load rather than load a part silently.
type shardLog struct {
	f    *os.File
	size int64
}

const (
	logEnrol  = 1
	logRemove = 2
	// logRemoveTemplates erases some templates of an identity (retention
	// of an expired encounter or sample).
	logRemoveTemplates = 3
	// maxRecord bounds a record, so that a corrupt length cannot make the
	// reader allocate without limit.
	maxRecord = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// logRecord is one decoded record.
type logRecord struct {
	op       byte
	identity string
	tmpl     []Template
}

// errLogOffset says that a snapshot's log position is not a record
// boundary of the log: the snapshot belongs to another log.
var errLogOffset = errors.New("cluster: the snapshot's log position is not in this shard log")

// openShardLog opens (creating) the log at path and replays the records
// at or after offset from through apply (those before it are checked,
// not applied: a snapshot holds them). A torn last record is truncated
// away.
func openShardLog(path string, from int64, apply func(logRecord) error) (*shardLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: shard log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cluster: shard log: %w", err)
	}
	boundary := from == 0
	off, err := readRecords(f, st.Size(), path, func(at int64, rec logRecord) error {
		if at == from {
			boundary = true
		}
		if at < from {
			return nil
		}
		if err := apply(rec); err != nil {
			return fmt.Errorf("cluster: shard log %s: record at offset %d: %w", path, at, err)
		}
		return nil
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	if !boundary && from != off {
		f.Close()
		return nil, errLogOffset
	}
	if off != st.Size() {
		if err := f.Truncate(off); err != nil {
			f.Close()
			return nil, fmt.Errorf("cluster: shard log: cut torn tail: %w", err)
		}
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &shardLog{f: f, size: off}, nil
}

// readRecords reads the records of a log of size bytes from its start,
// calling fn with each record's offset, and returns the offset where the
// good records end: a torn last record is left out, a bad one followed
// by more data is an error.
func readRecords(f io.Reader, size int64, path string, fn func(off int64, rec logRecord) error) (int64, error) {
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return off, nil // the end, or a partial header at the end: torn
		}
		n, sum := binary.BigEndian.Uint32(hdr[:4]), binary.BigEndian.Uint32(hdr[4:])
		if n > maxRecord {
			return off, fmt.Errorf("cluster: shard log %s: record at offset %d claims %d bytes (at most %d): corrupt", path, off, n, maxRecord)
		}
		if off+8+int64(n) > size {
			return off, nil // torn: the record runs past the end of the file
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return off, nil
		}
		if crc32.Checksum(payload, crcTable) != sum {
			if off+8+int64(n) == size {
				return off, nil // the last record, torn in place
			}
			return off, fmt.Errorf("cluster: shard log %s: record at offset %d fails its checksum and is not the last: corrupt", path, off)
		}
		rec, err := decodeRecord(payload)
		if err != nil {
			return off, fmt.Errorf("cluster: shard log %s: record at offset %d: %w", path, off, err)
		}
		if err := fn(off, rec); err != nil {
			return off, err
		}
		off += 8 + int64(n)
	}
}

// append writes records and syncs the file.
func (l *shardLog) append(recs ...logRecord) error {
	var buf []byte
	for _, rec := range recs {
		p := encodeRecord(rec)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(p)))
		buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(p, crcTable))
		buf = append(buf, p...)
	}
	if _, err := l.f.Write(buf); err != nil {
		return fmt.Errorf("cluster: shard log: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("cluster: shard log: %w", err)
	}
	l.size += int64(len(buf))
	return nil
}

func (l *shardLog) close() error { return l.f.Close() }

func encodeRecord(r logRecord) []byte {
	b := []byte{r.op}
	b = appendString16(b, r.identity)
	if r.op == logEnrol {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.tmpl)))
		for _, t := range r.tmpl {
			b = appendString16(b, t.ID)
			b = append(b, byte(t.Position))
			b = binary.BigEndian.AppendUint32(b, uint32(len(t.Data)))
			b = append(b, t.Data...)
		}
	}
	if r.op == logRemoveTemplates {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.tmpl)))
		for _, t := range r.tmpl {
			b = appendString16(b, t.ID)
		}
	}
	return b
}

func appendString16(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

var errShort = errors.New("record ends early")

func decodeRecord(p []byte) (logRecord, error) {
	var r logRecord
	if len(p) < 1 {
		return r, errShort
	}
	r.op, p = p[0], p[1:]
	var ok bool
	if r.identity, p, ok = readString16(p); !ok {
		return r, errShort
	}
	switch r.op {
	case logRemove:
	case logRemoveTemplates:
		if len(p) < 2 {
			return r, errShort
		}
		n := int(binary.BigEndian.Uint16(p))
		p = p[2:]
		for range n {
			var t Template
			if t.ID, p, ok = readString16(p); !ok {
				return r, errShort
			}
			r.tmpl = append(r.tmpl, t)
		}
	case logEnrol:
		if len(p) < 2 {
			return r, errShort
		}
		n := int(binary.BigEndian.Uint16(p))
		p = p[2:]
		for range n {
			var t Template
			if t.ID, p, ok = readString16(p); !ok || len(p) < 5 {
				return r, errShort
			}
			t.Position = biometric.FingerPosition(p[0])
			dl := int(binary.BigEndian.Uint32(p[1:]))
			p = p[5:]
			if dl > len(p) {
				return r, errShort
			}
			t.Data, p = p[:dl:dl], p[dl:]
			r.tmpl = append(r.tmpl, t)
		}
	default:
		return r, fmt.Errorf("unknown operation %d", r.op)
	}
	if len(p) != 0 {
		return r, fmt.Errorf("%d bytes after the record", len(p))
	}
	return r, nil
}

func readString16(p []byte) (string, []byte, bool) {
	if len(p) < 2 {
		return "", p, false
	}
	n := int(binary.BigEndian.Uint16(p))
	if len(p) < 2+n {
		return "", p, false
	}
	return string(p[2 : 2+n]), p[2+n:], true
}
