//go:build unix

package funchost

import "syscall"

var sigZero = syscall.Signal(0)
