package audit

import (
	"fmt"
	"os"
	"path/filepath"
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
