//go:build !windows

package main

import "syscall"

// noFollow is the open flag that opens no symbolic link: the open of a
// path that names one fails.
const noFollow = syscall.O_NOFOLLOW
