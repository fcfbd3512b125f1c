package linux

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

func ioctlPtr(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		default:
			return e
		}
	}
}

// NotifRecv receives one notification (SECCOMP_IOCTL_NOTIF_RECV). It blocks
// while none is pending, whatever O_NONBLOCK says (seen on 6.18): call it
// only after the fd polled readable. ENOENT means the notification was
// withdrawn or, since 6.11, that all targets exited: routine.
func NotifRecv(fd int, n *SeccompNotif) error {
	*n = SeccompNotif{} // the kernel rejects a non-zeroed buffer (EINVAL)
	if err := ioctlPtr(fd, SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(n)); err != nil {
		return sysErr("ioctl(SECCOMP_IOCTL_NOTIF_RECV)", err)
	}
	return nil
}

// NotifSend answers a notification. ENOENT means the target is gone or
// the call was interrupted and will restart as a new notification.
func NotifSend(fd int, r *SeccompNotifResp) error {
	return sysErr("ioctl(SECCOMP_IOCTL_NOTIF_SEND)", ioctlPtr(fd, SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(r)))
}

// NotifIDValid reports (nil) whether notification id is still pending, so
// that what was read from the tracee's /proc or memory belongs to it.
func NotifIDValid(fd int, id uint64) error {
	for {
		// The pointer is converted in the call expression itself, so the
		// compiler keeps id on the stack (through ioctlPtr it escaped: one
		// allocation per check on the hot path).
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&id)))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return sysErr("ioctl(SECCOMP_IOCTL_NOTIF_ID_VALID)", e)
	}
}

// NotifAddfd installs srcfd into the target (SECCOMP_IOCTL_NOTIF_ADDFD,
// 5.9) and returns the fd number it got there.
func NotifAddfd(fd int, a *SeccompNotifAddfd) (int, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), SECCOMP_IOCTL_NOTIF_ADDFD, uintptr(unsafe.Pointer(a)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, sysErr("ioctl(SECCOMP_IOCTL_NOTIF_ADDFD)", e)
		}
		return int(r), nil
	}
}

// NotifSetFlags sets listener flags (SECCOMP_IOCTL_NOTIF_SET_FLAGS, 6.6).
// The flags travel as the ioctl's value, not through a pointer
// (kernel/seccomp.c seccomp_notify_set_flags). EINVAL on older kernels.
func NotifSetFlags(fd int, flags uint64) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), SECCOMP_IOCTL_NOTIF_SET_FLAGS, uintptr(flags))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return sysErr("ioctl(SECCOMP_IOCTL_NOTIF_SET_FLAGS)", e)
		}
		return nil
	}
}

// GetNotifSizes asks the kernel for its seccomp struct sizes
// (seccomp(SECCOMP_GET_NOTIF_SIZES), 5.0).
func GetNotifSizes() (SeccompNotifSizes, error) {
	var s SeccompNotifSizes
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_NOTIF_SIZES, 0, uintptr(unsafe.Pointer(&s)))
	if e != 0 {
		return s, sysErr("seccomp(SECCOMP_GET_NOTIF_SIZES)", e)
	}
	return s, nil
}

// CheckNotifSizes refuses to run when the kernel's structs are larger than
// ours: the kernel would write past our buffers or we would misread them.
// Smaller is impossible for a kernel that supports user notification.
func CheckNotifSizes() error {
	s, err := GetNotifSizes()
	if err != nil {
		return err
	}
	want := SeccompNotifSizes{
		SeccompNotif:     uint16(unsafe.Sizeof(SeccompNotif{})),
		SeccompNotifResp: uint16(unsafe.Sizeof(SeccompNotifResp{})),
		SeccompData:      uint16(unsafe.Sizeof(SeccompData{})),
	}
	if s != want {
		return fmt.Errorf("seccomp struct sizes: kernel has notif=%d resp=%d data=%d, fgacd was built for %d/%d/%d",
			s.SeccompNotif, s.SeccompNotifResp, s.SeccompData, want.SeccompNotif, want.SeccompNotifResp, want.SeccompData)
	}
	return nil
}
