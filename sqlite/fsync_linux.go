package sqlite

import (
	"os"
	"syscall"
)

// fdatasync flushes a file's data (and the size that reaches it) to the
// disk, without the inode's other metadata.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// freeBytes is the space the file system holding dir has left for an
// unprivileged writer; ok is false when it cannot tell.
func freeBytes(dir string) (n uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}
