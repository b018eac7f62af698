package audit

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"
)

// MaxExportBytes bounds the size of a log file that LoadExport reads.
const MaxExportBytes = 1 << 30

// Export is a log as a third party receives it: the leaves, and the
// checkpoint the log last wrote if the export is a log directory.
type Export struct {
	Leaves     [][]byte
	Torn       bool   // the file ended in a torn record, which was dropped
	Checkpoint []byte // the directory's checkpoint file, if any
}

// LoadExport reads a log directory (as Log writes it) or a bare leaves file.
func LoadExport(path string) (*Export, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	e := &Export{}
	file := path
	if st.IsDir() {
		file = filepath.Join(path, LeavesFile)
		if b, err := os.ReadFile(filepath.Join(path, CheckpointFile)); err == nil {
			e.Checkpoint = b
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	defer f.Close()
	e.Leaves, e.Torn, err = ReadLeaves(f, MaxExportBytes)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, file)
	}
	return e, nil
}

// Verify checks the export as Verify does, with the export's own
// checkpoint (named source, the file it came from) ahead of the kept ones,
// and reports a torn last record as a problem. It is what
// `ebsp audit verify` and the console's "verify now" run.
func (e *Export) Verify(source string, v note.Verifier, kept []SignedCheckpoint) *Report {
	return e.VerifyKeys(source, []note.Verifier{v}, kept)
}

// VerifyKeys is Verify with several trusted keys of the log (VerifyKeys).
func (e *Export) VerifyKeys(source string, keys []note.Verifier, kept []SignedCheckpoint) *Report {
	if e.Checkpoint != nil {
		kept = append([]SignedCheckpoint{{Source: source, Signed: e.Checkpoint}}, kept...)
	}
	r := VerifyKeys(e.Leaves, keys, kept)
	if e.Torn {
		r.Problems = append(r.Problems, "the log file ends in a torn record (a crash during a write); it was not counted")
	}
	return r
}
