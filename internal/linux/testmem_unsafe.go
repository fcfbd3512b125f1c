package linux

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Helpers for tests that need to control their own memory layout: mapped,
// unmapped and PROT_NONE pages at known addresses, as tracee pointers
// meet them (pkg/memread's tests). The daemon does not use them.

// Memory protections for MapAnon and Mprotect.
const (
	PROT_NONE  = unix.PROT_NONE
	PROT_READ  = unix.PROT_READ
	PROT_WRITE = unix.PROT_WRITE
)

// MapAnon maps n bytes of private anonymous memory with prot (mmap(2)).
// With addr zero the kernel picks the place. With addr nonzero the mapping
// lands exactly at addr or fails with EEXIST, never replacing another
// mapping (MAP_FIXED_NOREPLACE, 4.17; on older kernels the flag is only a
// hint, so a mapping placed elsewhere is undone and EEXIST returned).
//
// The slice aliases memory Go does not manage: release it with Munmap.
func MapAnon(addr uint64, n int, prot int) ([]byte, error) {
	flags := unix.MAP_PRIVATE | unix.MAP_ANONYMOUS
	var hint unsafe.Pointer
	if addr != 0 {
		flags |= unix.MAP_FIXED_NOREPLACE
		// A bare address of memory outside the Go heap, not a Go pointer.
		hint = unsafe.Add(nil, uintptr(addr))
	}
	p, err := unix.MmapPtr(-1, 0, hint, uintptr(n), prot, flags)
	if err != nil {
		return nil, sysErr("mmap", err)
	}
	if addr != 0 && uint64(uintptr(p)) != addr {
		unix.MunmapPtr(p, uintptr(n))
		return nil, sysErr("mmap", unix.EEXIST)
	}
	return unsafe.Slice((*byte)(p), n), nil
}

// Munmap unmaps the pages of b (munmap(2)); b must start on a page
// boundary. Unmapping part of a MapAnon slice leaves a hole in it: reading
// it faults, in a tracee and in this process alike.
func Munmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return sysErr("munmap", unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b))))
}

// Mprotect sets the protection of the pages of b (mprotect(2)); b must
// start on a page boundary.
func Mprotect(b []byte, prot int) error {
	return sysErr("mprotect", unix.Mprotect(b, prot))
}

// SliceAddr returns the address of b's first byte, as a tracee address
// (uint64). Meaningful only while b's memory stays where it is: mapped
// memory, not a Go object that a stack copy may move.
func SliceAddr(b []byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}
