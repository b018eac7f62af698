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
	err := WriteSynced(tmp, b, 0o600)
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

// WriteSynced writes b to path in place, with mode perm if it creates
// the file, and syncs it before it returns. It does not rename: it is for
// WriteFile's temporary file and for files whose path never names other
// contents (a tlog tile's path names its width), which no reader trusts
// until something written after them refers to them.
func WriteSynced(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
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
