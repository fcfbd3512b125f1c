package linux

import (
	"golang.org/x/sys/unix"
)

// SO_PEERPIDFD (6.5) returns a pidfd for the peer as of connect(2): immune
// to pid reuse. Same value on every Linux arch but parisc/sparc/alpha.
const SO_PEERPIDFD = 77

// Ucred is the peer's identity as the kernel recorded it at connect(2).
type Ucred = unix.Ucred

// Peercred returns SO_PEERCRED of a connected UNIX socket.
func Peercred(fd int) (Ucred, error) {
	u, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return Ucred{}, sysErr("getsockopt(SO_PEERCRED)", err)
	}
	return *u, nil
}

// PeerPidfd returns SO_PEERPIDFD; ENOPROTOOPT before 6.5.
func PeerPidfd(fd int) (int, error) {
	pfd, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, SO_PEERPIDFD)
	if err != nil {
		return -1, sysErr("getsockopt(SO_PEERPIDFD)", err)
	}
	return pfd, nil
}

// ParseRights returns every fd passed in SCM_RIGHTS messages in oob. It
// collects fds from all messages even when one is malformed, so the caller
// can close them all; the error says what was wrong.
func ParseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, sysErr("parse control message", err)
	}
	var fds []int
	var firstErr error
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&msgs[i])
		fds = append(fds, got...)
		if err != nil && firstErr == nil {
			firstErr = sysErr("parse SCM_RIGHTS", err)
		}
	}
	return fds, firstErr
}

// UnixRights builds an SCM_RIGHTS control message carrying fds.
func UnixRights(fds ...int) []byte { return unix.UnixRights(fds...) }

// CmsgSpace is the control buffer size for n fds.
func CmsgSpace(nfds int) int { return unix.CmsgSpace(nfds * 4) }

// Socketpair returns a connected pair of CLOEXEC sockets of type typ
// (unix.SOCK_STREAM or SOCK_SEQPACKET).
func Socketpair(typ int) ([2]int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fds, sysErr("socketpair", err)
	}
	return fds, nil
}

// Socket types.
const (
	SOCK_STREAM    = unix.SOCK_STREAM
	SOCK_SEQPACKET = unix.SOCK_SEQPACKET
)

// MSG_CTRUNC: the control buffer was too small; the kernel dropped (and
// closed) the fds that did not fit.
const MSG_CTRUNC = unix.MSG_CTRUNC
