//go:build !linux

package flush

import "os"

type aio struct{}

func (*aio) setup() error              { return ErrUnsupported }
func (*aio) datasync(f *os.File) error { return ErrUnsupported }
func (*aio) close() error              { return nil }
