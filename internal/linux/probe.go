package linux

import (
	"errors"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Probes for fgacd doctor: each asks the running kernel directly whether
// it has a feature, rather than trusting its version number.

// probeNr is a syscall number no kernel assigns: a filter that sends it to
// a listener never traps anything real.
const probeNr = 0x3ff

// ProbeListener loads, on a locked thread of the calling (short-lived)
// process, a filter that notifies only an unassigned syscall, and returns
// its listener. extraFlags are added to SECCOMP_FILTER_FLAG_NEW_LISTENER.
// The thread keeps the filter; it traps nothing the process ever calls.
func ProbeListener(extraFlags uint) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return InstallNotifyFilter(NotifyFilter{Arch: NativeArch, Notify: []uint32{probeNr}, Flags: extraFlags})
}

// ProbeAddfd tells whether SECCOMP_IOCTL_NOTIF_ADDFD (5.9) and, with send,
// SECCOMP_ADDFD_FLAG_SEND (5.14) exist: with no such notification a kernel
// that knows them says ENOENT; one that does not says EINVAL or ENOTTY.
func ProbeAddfd(listener int, send bool) bool {
	a := SeccompNotifAddfd{ID: 1, Srcfd: 0}
	if send {
		a.Flags = SECCOMP_ADDFD_FLAG_SEND
	}
	_, err := NotifAddfd(listener, &a)
	return errors.Is(err, unix.ENOENT)
}

// ProbePidfdThread tells whether pidfd_open takes PIDFD_THREAD (6.9).
func ProbePidfdThread() bool {
	fd, err := unix.PidfdOpen(unix.Gettid(), PIDFD_THREAD)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// ProbeProcessVMReadv tells whether process_vm_readv works on this process.
func ProbeProcessVMReadv() bool {
	var b [8]byte
	src := []byte("fgacdvm!")
	_, err := ProcessVMReadv(os.Getpid(), uint64(sliceAddr(src)), b[:])
	runtime.KeepAlive(src)
	return err == nil && string(b[:]) == "fgacdvm!"
}

// ProbePeerPidfd tells whether SO_PEERPIDFD (6.5) exists.
func ProbePeerPidfd() bool {
	fds, err := Socketpair(SOCK_STREAM)
	if err != nil {
		return false
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	pfd, err := PeerPidfd(fds[0])
	if err != nil {
		return false
	}
	unix.Close(pfd)
	return true
}

// Uname returns the kernel release.
func Uname() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// ProbeOpenat2 tells whether openat2 (5.6) exists.
func ProbeOpenat2() bool {
	fd, err := Openat2(AT_FDCWD, "/", O_PATH, RESOLVE_NO_MAGICLINKS)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// ProbeMountSetattr tells whether mount_setattr (5.12) exists: on a
// non-mount fd with no changes a kernel that has it says EINVAL, not ENOSYS.
func ProbeMountSetattr() bool {
	err := unix.MountSetattr(-1, "", unix.AT_EMPTY_PATH, &unix.MountAttr{})
	return !errors.Is(err, unix.ENOSYS)
}

// ProbeStatxMountID tells whether statx reports mount ids (5.8).
func ProbeStatxMountID() bool {
	var st unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, "/", 0, unix.STATX_MNT_ID, &st) != nil {
		return false
	}
	return st.Mask&unix.STATX_MNT_ID != 0
}
