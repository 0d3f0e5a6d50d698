package sqlite

// syncDir does nothing on Windows, which cannot flush a directory opened
// for reading (FlushFileBuffers is refused, and Open would fail on it):
// as SQLite's own Windows code, swfd leaves a new file's directory entry
// to the file system (NTFS journals it), and flushes the file itself.
func syncDir(string) error { return nil }
