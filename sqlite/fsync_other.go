//go:build !linux

package sqlite

import "os"

// fdatasync flushes a file to the disk (fsync, or F_FULLFSYNC on macOS).
func fdatasync(f *os.File) error { return f.Sync() }

// freeBytes cannot tell here; WriteHealth then assumes there is room, and
// the next write that finds none says so again.
func freeBytes(string) (uint64, bool) { return 0, false }
