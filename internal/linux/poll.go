package linux

import (
	"golang.org/x/sys/unix"
)

// Poll events.
const (
	POLLIN   = unix.POLLIN
	POLLHUP  = unix.POLLHUP
	POLLERR  = unix.POLLERR
	POLLNVAL = unix.POLLNVAL
)

// PollOne waits up to timeoutMs (-1: forever) for events on fd and returns
// the revents (0 on timeout). EINTR (Go's SIGURG preemption among others)
// is retried with the same timeout: callers treat the timeout as a hint.
func PollOne(fd int, events int16, timeoutMs int) (int16, error) {
	pfd := [1]unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		n, err := unix.Poll(pfd[:], timeoutMs)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, sysErr("poll", err)
		}
		if n == 0 {
			return 0, nil
		}
		return pfd[0].Revents, nil
	}
}

// SetNonblock sets or clears O_NONBLOCK on fd.
func SetNonblock(fd int, on bool) error {
	return sysErr("fcntl(O_NONBLOCK)", unix.SetNonblock(fd, on))
}
