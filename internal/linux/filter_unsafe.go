package linux

import (
	"errors"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BPF opcodes for the small filters built here (linux/filter.h).
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K

	x32SyscallBit = 0x40000000
	bpfRetK       = unix.BPF_RET | unix.BPF_K

	seccompRetAllow     = 0x7fff0000
	seccompRetUserNotif = 0x7fc00000
	seccompRetErrno     = 0x00050000
)

// NotifyFilter describes a filter that sends some syscalls of one arch to
// a listener. It exists for tests and the bench; real clients build their
// filters with libseccomp (fgac-run, examples).
type NotifyFilter struct {
	Arch   uint32
	Notify []uint32 // syscall numbers answered by the listener
	// Ioctls are ioctl commands answered by the listener (compared on the
	// low 32 bits: the kernel takes cmd as an unsigned int, so high bits a
	// caller sets must not let a command slip past). Other ioctls run.
	Ioctls []uint32
	// Flags are extra SECCOMP_FILTER_FLAG_*; NEW_LISTENER is always set.
	Flags uint
}

// InstallNotifyFilter sets NO_NEW_PRIVS and loads f for the calling thread
// (or, with SECCOMP_FILTER_FLAG_TSYNC in Flags, every thread) and returns
// the listener fd. Calls of another arch get ENOSYS.
func InstallNotifyFilter(f NotifyFilter) (int, error) {
	prog := []unix.SockFilter{
		{Code: bpfLdWAbs, K: 4}, // seccomp_data.arch
		{Code: bpfJeqK, Jt: 1, Jf: 0, K: f.Arch},
		{Code: bpfRetK, K: seccompRetErrno | uint32(unix.ENOSYS)},
		{Code: bpfLdWAbs, K: 0}, // seccomp_data.nr
		// x32 calls come with AUDIT_ARCH_X86_64 and bit 30 set in the
		// number (__X32_SYSCALL_BIT): ENOSYS, never a path around a rule.
		{Code: bpfJgeK, Jt: 0, Jf: 1, K: x32SyscallBit},
		{Code: bpfRetK, K: seccompRetErrno | uint32(unix.ENOSYS)},
	}
	for _, nr := range f.Notify {
		prog = append(prog,
			unix.SockFilter{Code: bpfJeqK, Jt: 0, Jf: 1, K: nr},
			unix.SockFilter{Code: bpfRetK, K: seccompRetUserNotif})
	}
	if len(f.Ioctls) > 0 {
		n := len(f.Ioctls)
		prog = append(prog,
			unix.SockFilter{Code: bpfJeqK, Jt: 0, Jf: uint8(1 + 2*n), K: uint32(unix.SYS_IOCTL)},
			unix.SockFilter{Code: bpfLdWAbs, K: ioctlCmdOffset})
		for _, cmd := range f.Ioctls {
			prog = append(prog,
				unix.SockFilter{Code: bpfJeqK, Jt: 0, Jf: 1, K: cmd},
				unix.SockFilter{Code: bpfRetK, K: seccompRetUserNotif})
		}
	}
	prog = append(prog, unix.SockFilter{Code: bpfRetK, K: seccompRetAllow})
	if len(prog) > 255 {
		return -1, errors.New("install filter: too many syscalls")
	}
	// prctl and seccomp must run on the same thread: NO_NEW_PRIVS is
	// per-thread, and seccomp(2) says EACCES without it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, sysErr("prctl(PR_SET_NO_NEW_PRIVS)", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	flags := f.Flags | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return -1, sysErr("seccomp(SECCOMP_SET_MODE_FILTER)", e)
	}
	return int(r), nil
}

// ioctlCmdOffset is the low 32 bits of seccomp_data.args[1] (args start
// at 16; little-endian on every arch fgacd builds for).
const ioctlCmdOffset = 16 + 8

// Filter flags for NotifyFilter.Flags.
const (
	SECCOMP_FILTER_FLAG_TSYNC       = unix.SECCOMP_FILTER_FLAG_TSYNC
	SECCOMP_FILTER_FLAG_TSYNC_ESRCH = unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
)

// Tgkill sends sig to thread tid of process pid.
func Tgkill(pid, tid int, sig unix.Signal) error {
	return sysErr("tgkill", unix.Tgkill(pid, tid, sig))
}

// RawMknodat calls mknodat(2) directly and returns the raw errno (0 on
// success): tests and the tracee helper compare errnos exactly.
func RawMknodat(dirfd int, path string, mode uint32, dev uint64) Errno {
	_, e := RawMknodatRet(dirfd, path, mode, dev)
	return e
}

// RawMknodatRet is RawMknodat with the call's return value: tests whose
// supervisor answers with an injected fd read it there.
func RawMknodatRet(dirfd int, path string, mode uint32, dev uint64) (uintptr, Errno) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return 0, unix.EINVAL
	}
	r, _, e := unix.Syscall6(unix.SYS_MKNODAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(mode), uintptr(dev), 0, 0)
	return r, e
}

// RawSyscall6 makes a syscall with raw arguments and returns its errno:
// tests use it to pass bad pointers on purpose.
func RawSyscall6(nr, a0, a1, a2, a3, a4, a5 uintptr) (uintptr, Errno) {
	r, _, e := unix.Syscall6(nr, a0, a1, a2, a3, a4, a5)
	return r, e
}

// SYS_MKNODAT is mknodat's number on this build's arch.
const SYS_MKNODAT = unix.SYS_MKNODAT

// SYS_IOCTL is ioctl's number on this build's arch.
const SYS_IOCTL = unix.SYS_IOCTL

// NativeArch is the audit arch of this build.
var NativeArch = nativeArch()
