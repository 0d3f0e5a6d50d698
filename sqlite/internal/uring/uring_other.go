//go:build !linux

package uring

import "os"

type ring struct{}

func (*ring) setup() error              { return ErrUnsupported }
func (*ring) datasync(f *os.File) error { return ErrUnsupported }
func (*ring) close() error              { return nil }
