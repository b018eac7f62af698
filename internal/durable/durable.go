// Package durable writes files so that they survive a crash: a file is
// replaced whole or not at all, and is on disk when the call returns.
package durable

import (
	"os"
	"path/filepath"
)

// WriteFile replaces path with b atomically and durably: a temporary file
// beside it (mode 0600), synced, renamed over path, and the directory
// synced so that the rename itself survives a crash. On error the
// temporary file is removed and path is unchanged.
func WriteFile(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// SyncDir makes the entries of directory dir durable: files created,
// renamed or removed in it survive a crash once it returns.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
