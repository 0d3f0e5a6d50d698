//go:build !linux

package sqlite

import "os"

// fdatasync flushes a file to the disk (fsync, or F_FULLFSYNC on macOS).
func fdatasync(f *os.File) error { return f.Sync() }
