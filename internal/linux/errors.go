package linux

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Errno is the kernel's error number, re-exported so callers outside the
// chokepoint can name errnos without importing x/sys/unix.
type Errno = unix.Errno

// Errnos the rest of fgacd names.
const (
	EPERM        = unix.EPERM
	ENOENT       = unix.ENOENT
	ESRCH        = unix.ESRCH
	EINTR        = unix.EINTR
	EBADF        = unix.EBADF
	EAGAIN       = unix.EAGAIN
	EACCES       = unix.EACCES
	EFAULT       = unix.EFAULT
	EBUSY        = unix.EBUSY
	EEXIST       = unix.EEXIST
	ENOTDIR      = unix.ENOTDIR
	EINVAL       = unix.EINVAL
	ENAMETOOLONG = unix.ENAMETOOLONG
	ENOSYS       = unix.ENOSYS
	ELOOP        = unix.ELOOP
	EXDEV        = unix.EXDEV
	EIO          = unix.EIO
	ENOTSUP      = unix.ENOTSUP
	EMSGSIZE     = unix.EMSGSIZE
	EMFILE       = unix.EMFILE
	ENOTTY       = unix.ENOTTY
	ENODEV       = unix.ENODEV
)

// ErrnoOf returns the errno inside err, or 0 when err carries none.
func ErrnoOf(err error) Errno {
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// retry runs f until it stops failing with EINTR.
func retry(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func sysErr(name string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError(name, err)
}
