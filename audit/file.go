package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The log file holds the leaves in order, each framed so that a write cut
// short by a crash can be told apart from a complete record:
//
//	file   = magic record*
//	magic  = "EBSPLOG1\n"
//	record = length(uint32, big endian) crc(uint32, big endian, CRC-32C of data) data
//
// The CRC only detects torn and damaged writes; it is not tamper evidence
// (anyone can recompute it). Tamper evidence is the Merkle tree and the
// signed checkpoints that others keep.
const fileMagic = "EBSPLOG1\n"

const recordHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord frames data as one record.
func appendRecord(dst, data []byte) []byte {
	var h [recordHeader]byte
	binary.BigEndian.PutUint32(h[0:4], uint32(len(data)))
	binary.BigEndian.PutUint32(h[4:8], crc32.Checksum(data, castagnoli))
	return append(append(dst, h[:]...), data...)
}

// ErrCorrupt says a log file is damaged somewhere other than its last record,
// which no crash explains.
var ErrCorrupt = errors.New("audit: log file corrupt")

// parsed is the result of reading a log file.
type parsed struct {
	leaves [][]byte
	good   int64 // length of the valid prefix of the file
	torn   bool  // the file ended in an incomplete or damaged last record
}

// parseLog reads a whole log file. A damaged or incomplete last record is
// reported as torn (the caller drops it); damage followed by more data is
// ErrCorrupt. Memory is bounded by the input: no record may claim more than
// maxLeafBytes, and data is sliced from b, not copied.
func parseLog(b []byte) (parsed, error) {
	var p parsed
	if len(b) < len(fileMagic) {
		if bytes.HasPrefix([]byte(fileMagic), b) {
			// A crash while writing the magic of a new file.
			p.torn = len(b) > 0
			return p, nil
		}
		return p, fmt.Errorf("%w: not an ebsp audit log (bad magic)", ErrCorrupt)
	}
	if string(b[:len(fileMagic)]) != fileMagic {
		return p, fmt.Errorf("%w: not an ebsp audit log (bad magic)", ErrCorrupt)
	}
	off := int64(len(fileMagic))
	var err error
	p.good, p.torn, err = scanRecords(bytes.NewReader(b[off:]), off, int64(len(b)), 0, func(at int64, data []byte) error {
		// Slice b rather than keep scanRecords' buffer, which it reuses.
		p.leaves = append(p.leaves, b[at+recordHeader:at+recordHeader+int64(len(data))])
		return nil
	})
	return p, err
}

// scanRecords reads the records of a log file sequentially from r, which
// holds the file from offset off (the start of a record) to size, and calls
// fn with each record's offset and data (a buffer reused for the next
// record: fn copies what it keeps). first is the index of the first record,
// for messages. It returns the length of the valid prefix of the file and
// whether the file ends in a torn record (incomplete, or damaged and last);
// damage followed by more data is ErrCorrupt, since no crash explains it.
// Memory is bounded: no record may claim more than maxLeafBytes.
func scanRecords(r io.Reader, off, size, first int64, fn func(off int64, data []byte) error) (good int64, torn bool, err error) {
	good = off
	var h [recordHeader]byte
	var buf []byte
	for i := first; off < size; i++ {
		rest := size - off
		if rest < recordHeader {
			return good, true, nil
		}
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return good, false, fmt.Errorf("audit: reading record %d at offset %d: %v", i, off, err)
		}
		n := binary.BigEndian.Uint32(h[0:4])
		sum := binary.BigEndian.Uint32(h[4:8])
		if n > maxLeafBytes {
			if rest <= recordHeader+int64(n) {
				// Could be a torn header whose length bytes are garbage.
				return good, true, nil
			}
			return good, false, fmt.Errorf("%w: record %d at offset %d claims %d bytes, limit %d", ErrCorrupt, i, off, n, maxLeafBytes)
		}
		end := recordHeader + int64(n)
		if rest < end {
			return good, true, nil
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n, maxLeafBytes)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return good, false, fmt.Errorf("audit: reading record %d at offset %d: %v", i, off, err)
		}
		if crc32.Checksum(buf, castagnoli) != sum {
			if rest == end {
				return good, true, nil
			}
			return good, false, fmt.Errorf("%w: record %d at offset %d fails its checksum", ErrCorrupt, i, off)
		}
		if err := fn(off, buf); err != nil {
			return good, false, err
		}
		off += end
		good = off
	}
	return good, false, nil
}

// readRecordAt reads the record at offset off of a log file and returns its
// data and the offset just after it. Any damage is ErrCorrupt: the caller
// reads records it knows to be complete.
func readRecordAt(r io.ReaderAt, off int64) (data []byte, end int64, err error) {
	var h [recordHeader]byte
	if _, err := r.ReadAt(h[:], off); err != nil {
		return nil, 0, fmt.Errorf("%w: reading record header at offset %d: %v", ErrCorrupt, off, err)
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n > maxLeafBytes {
		return nil, 0, fmt.Errorf("%w: record at offset %d claims %d bytes, limit %d", ErrCorrupt, off, n, maxLeafBytes)
	}
	data = make([]byte, n)
	if _, err := r.ReadAt(data, off+recordHeader); err != nil {
		return nil, 0, fmt.Errorf("%w: reading record at offset %d: %v", ErrCorrupt, off, err)
	}
	if crc32.Checksum(data, castagnoli) != binary.BigEndian.Uint32(h[4:8]) {
		return nil, 0, fmt.Errorf("%w: record at offset %d fails its checksum", ErrCorrupt, off)
	}
	return data, off + recordHeader + int64(n), nil
}

// ReadLeaves reads an exported log file (the leaves file of a log directory)
// and returns its leaves. A torn last record is dropped and reported by
// torn; any other damage is an error. At most limit bytes are read.
func ReadLeaves(r io.Reader, limit int64) (leaves [][]byte, torn bool, err error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("audit: reading log: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, false, fmt.Errorf("audit: log is larger than the %d-byte limit", limit)
	}
	p, err := parseLog(b)
	if err != nil {
		return nil, false, err
	}
	return p.leaves, p.torn, nil
}
