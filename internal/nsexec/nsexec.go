// Package nsexec runs code in a caller's view of the system — its root,
// cwd, umask, filesystem credentials and (later) namespaces — without
// disturbing the daemon's shared threads.
//
// Each call runs on a fresh goroutine locked to its OS thread. The function
// may unshare(CLONE_FS), chroot, change fs credentials and capabilities of
// that thread; the goroutine then exits still locked, so the Go runtime
// throws the thread away instead of reusing it (runtime.LockOSThread docs).
// No process is forked or executed.
//
// Fd ownership: fds the function opens are the function's to close or
// return; the fd table is shared with the daemon.
package nsexec

import (
	"fmt"
	"runtime"
)

// Run runs fn on a throw-away OS thread and returns its error. A panic in
// fn is returned as an error, not propagated: the daemon must survive it.
func Run(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread's state is the caller's now, and
		// it must die with this goroutine.
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("nsexec: panic: %v", r)
			}
		}()
		done <- fn()
	}()
	return <-done
}
