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
	p.good = off
	for off < int64(len(b)) {
		rest := b[off:]
		if len(rest) < recordHeader {
			p.torn = true
			return p, nil
		}
		n := binary.BigEndian.Uint32(rest[0:4])
		sum := binary.BigEndian.Uint32(rest[4:8])
		if n > maxLeafBytes {
			if int64(len(rest)) <= recordHeader+int64(n) {
				// Could be a torn header whose length bytes are garbage.
				p.torn = true
				return p, nil
			}
			return p, fmt.Errorf("%w: record %d at offset %d claims %d bytes, limit %d", ErrCorrupt, len(p.leaves), off, n, maxLeafBytes)
		}
		end := recordHeader + int64(n)
		if int64(len(rest)) < end {
			p.torn = true
			return p, nil
		}
		data := rest[recordHeader:end]
		if crc32.Checksum(data, castagnoli) != sum {
			if int64(len(rest)) == end {
				p.torn = true
				return p, nil
			}
			return p, fmt.Errorf("%w: record %d at offset %d fails its checksum", ErrCorrupt, len(p.leaves), off)
		}
		p.leaves = append(p.leaves, data)
		off += end
		p.good = off
	}
	return p, nil
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
