package migrate

// SetCopyBatchBytes sets copyBatchBytes for a test, and returns a function
// that puts it back.
func SetCopyBatchBytes(n int) (restore func()) {
	old := copyBatchBytes
	copyBatchBytes = n
	return func() { copyBatchBytes = old }
}
