package main

import "syscall"

// noFollow is the open flag that follows no symbolic link: on Windows
// the link (a reparse point) itself is opened, which is no regular file,
// so that an address file known by its identity is not mistaken for it.
const noFollow = syscall.FILE_FLAG_OPEN_REPARSE_POINT
