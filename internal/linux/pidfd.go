package linux

import "golang.org/x/sys/unix"

// PIDFD_THREAD (6.9) lets pidfd_open name a thread that is not a group
// leader; notif.pid is a thread id. Value is O_EXCL (include/uapi/linux/pidfd.h).
const PIDFD_THREAD = unix.O_EXCL

// PidfdOpen returns a pidfd for pid (pidfd_open(2), 5.3). With thread set it
// asks for PIDFD_THREAD and falls back to a plain pidfd on EINVAL (pre-6.9),
// which works only for thread-group leaders: other threads get EINVAL.
func PidfdOpen(pid int, thread bool) (int, error) {
	flags := 0
	if thread {
		flags = PIDFD_THREAD
	}
	for {
		fd, err := unix.PidfdOpen(pid, flags)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EINVAL && flags != 0:
			flags = 0
			continue
		case err != nil:
			return -1, sysErr("pidfd_open", err)
		}
		return fd, nil
	}
}

// PidfdAlive reports whether the process behind pidfd still runs (signal 0).
func PidfdAlive(pidfd int) bool {
	return unix.PidfdSendSignal(pidfd, 0, nil, 0) == nil
}
