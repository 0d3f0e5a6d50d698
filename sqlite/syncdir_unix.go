//go:build !windows

package sqlite

import "os"

// syncDir fsyncs a directory, making the entries of files created in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
