// Package atomicfile replaces files so that a reader, or a crash, sees the
// old content or the new one, never a mixture or an empty file.
package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Write replaces path with data. The temporary file is created in the same
// directory (a rename is atomic only within one file system) with mode
// perm from the start, so content meant to be private is never readable by
// others, not even briefly. The directory must exist.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	// fsync before rename: otherwise a crash can leave the new name
	// pointing at an empty file on file systems that reorder the two.
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := renameOver(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// renameOver replaces to with from. On Windows the rename fails while
// another process has the old file open (a reader between open and close),
// because Go opens files without FILE_SHARE_DELETE; readers hold it for
// moments, so a few retries suffice.
func renameOver(from, to string) error {
	err := os.Rename(from, to)
	for i := 0; err != nil && runtime.GOOS == "windows" && i < 20; i++ {
		time.Sleep(10 * time.Millisecond)
		err = os.Rename(from, to)
	}
	return err
}

// syncDir makes the rename durable. Windows cannot open a directory for
// syncing, and there the rename is durable enough; failures only weaken
// durability after a power loss, so they are not reported.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
