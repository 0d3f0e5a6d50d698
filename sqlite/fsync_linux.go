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
