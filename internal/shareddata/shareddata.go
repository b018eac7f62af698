// Package shareddata finds the project's shared test data: the folder
// ../shared/data beside the repository (real fingerprint images and format
// test vectors that the project itself must not ship), or the folder named by
// the environment variable EBSP_SHARED_DATA.
package shareddata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/internal/testneed"
)

// Find returns the shared data folder, or an error that says where it looked.
func Find() (string, error) {
	if d := os.Getenv("EBSP_SHARED_DATA"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
		return "", errors.New("EBSP_SHARED_DATA=" + d + " is not a folder")
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			data := filepath.Join(filepath.Dir(d), "shared", "data")
			if st, err := os.Stat(data); err == nil && st.IsDir() {
				return data, nil
			}
			return "", errors.New("shared test data not found at " + data + " (set EBSP_SHARED_DATA)")
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod above " + wd + ", so no ../shared/data")
		}
	}
}

// Dir returns the sub-folder rel of the shared data. When it is missing the
// test skips with a message that says so, or fails when testneed.Required.
func Dir(t testing.TB, rel string) string {
	t.Helper()
	base, err := Find()
	if err != nil {
		testneed.Missing(t, "shared test data missing: %v", err)
	}
	d := filepath.Join(base, rel)
	if _, err := os.Stat(d); err != nil {
		testneed.Missing(t, "shared test data missing: %v", err)
	}
	return d
}
