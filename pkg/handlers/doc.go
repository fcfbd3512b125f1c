// Package handlers decodes and emulates the syscalls fgacd brokers: it
// reads a notification's arguments from the caller's memory, resolves paths
// in the caller's own view, asks the policy, and performs the call on the
// caller's behalf.
//
// The table in registry.go maps (arch, syscall number) to a handler,
// explicitly: no init() registration.
//
// Order of work, for every handler (DESIGN.md §5): read arguments once,
// check the notification is still valid (ID_VALID), open the caller's root,
// cwd or dirfd as fds and check again, resolve on those fds, decide on what
// was resolved, check again, then act on the resolved fd.
//
// Fd ownership: every fd a handler opens is closed before Handle returns,
// except:
//   - the resolved parent directory of an emulated mknod and the mount fd
//     and namespace of an emulated mount, which the Outcome's Effect holds
//     until its Release, to undo the call when the caller was interrupted;
//   - the fd a GPIO open answers with (Outcome.Inject: the chip, or a
//     handle), which dispatch hands to the session or closes;
//   - the daemon's own fd on each GPIO chip (the chip cache), which
//     Handlers keeps until the chip is gone or Close, reference-counted
//     so that no session's ioctl meets a closed fd.
//
// Handlers never log decisions; pkg/dispatch does, once per notification.
package handlers
