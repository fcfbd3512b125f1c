// Package linux is fgacd's one chokepoint for raw Linux syscalls and unsafe.
//
// Only this package imports golang.org/x/sys/unix and unsafe (enforced by
// deps_test.go at the module root and by `make lint`). Everything here is a
// thin wrapper: retry EINTR, name the syscall in the error, nothing else.
// Policy, decoding and emulation logic live in pkg/… and never here.
//
// Kernel structs are mirrored field for field (seccomp_abi.go) and checked at
// start against SECCOMP_GET_NOTIF_SIZES (CheckNotifSizes). Tracee addresses
// are uint64, never unsafe.Pointer.
//
// Fd ownership: functions that return an fd hand ownership to the caller,
// who must Close it. Functions that take an fd borrow it.
package linux
