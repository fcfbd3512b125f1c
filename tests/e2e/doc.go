// Package e2e runs fgacd's pipeline — intake server, sessions, dispatch,
// handlers, policy — in the test process against real tracees: children
// that run as uid 65534 under a real seccomp notify filter and make real
// syscalls, whose nodes land on the real file system.
//
// Needs root (setuid children, mknod); `make test` runs it as root.
package e2e
