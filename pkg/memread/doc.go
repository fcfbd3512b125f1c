// Package memread reads a tracee's memory: syscall arguments that are
// pointers (paths, structs) of a task that is stopped in a seccomp
// notification.
//
// Reads use process_vm_readv(2) (one syscall, no fd) and fall back to
// /proc/PID/mem when the kernel lacks it (CONFIG_CROSS_MEMORY_ATTACH=n) or
// refuses it. C strings are read page by page so a string that ends just
// before an unmapped page is still read, and bounded so a missing NUL costs
// at most the buffer. A bad pointer gives EFAULT, which callers return to
// the tracee as a native call would.
//
// The package owns no long-lived fds: the fallback opens and closes
// /proc/PID/mem per read. It never logs; it returns errors.
//
// What was read is only trustworthy after the caller checks that the
// notification is still valid (SECCOMP_IOCTL_NOTIF_ID_VALID): the pid may
// have been reused in between.
package memread
