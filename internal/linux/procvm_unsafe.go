package linux

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// ProcessVMReadv reads len(buf) bytes at addr in process pid
// (process_vm_readv(2), 3.2). It may return fewer bytes than asked when the
// range crosses into an unmapped page; EFAULT when the first byte is bad.
func ProcessVMReadv(pid int, addr uint64, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	local := unix.Iovec{Base: unsafe.SliceData(buf)}
	local.SetLen(len(buf))
	remote := unix.RemoteIovec{Base: uintptr(addr), Len: len(buf)}
	for {
		r, _, e := unix.Syscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid),
			uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote)), 1, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, sysErr("process_vm_readv", e)
		}
		return int(r), nil
	}
}

// ProcessVMWritev writes buf at addr in process pid (process_vm_writev(2)).
func ProcessVMWritev(pid int, addr uint64, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	local := unix.Iovec{Base: unsafe.SliceData(buf)}
	local.SetLen(len(buf))
	remote := unix.RemoteIovec{Base: uintptr(addr), Len: len(buf)}
	for {
		r, _, e := unix.Syscall6(unix.SYS_PROCESS_VM_WRITEV, uintptr(pid),
			uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote)), 1, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, sysErr("process_vm_writev", e)
		}
		return int(r), nil
	}
}

// Pread reads from fd at off (used on /proc/PID/mem).
func Pread(fd int, buf []byte, off uint64) (int, error) {
	var n int
	err := retry(func() (err error) { n, err = unix.Pread(fd, buf, int64(off)); return })
	if err != nil {
		return 0, sysErr("pread", err)
	}
	return n, nil
}

// RemoteRange is one range of another process's memory.
type RemoteRange struct {
	Addr uint64
	Len  int
}

// ProcessVMReadvRanges reads several ranges of process pid into buf, one
// after another, in one process_vm_readv(2). It returns the bytes read:
// the kernel stops at the first range it cannot read (a partial count).
func ProcessVMReadvRanges(pid int, buf []byte, ranges []RemoteRange) (int, error) {
	if len(buf) == 0 || len(ranges) == 0 || len(ranges) > 8 {
		return 0, nil
	}
	local := unix.Iovec{Base: unsafe.SliceData(buf)}
	local.SetLen(len(buf))
	var remote [8]unix.RemoteIovec
	for i, r := range ranges {
		remote[i] = unix.RemoteIovec{Base: uintptr(r.Addr), Len: r.Len}
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid),
			uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote[0])), uintptr(len(ranges)), 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, sysErr("process_vm_readv", e)
		}
		return int(n), nil
	}
}
