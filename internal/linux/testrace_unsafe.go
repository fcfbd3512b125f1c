package linux

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RawMount calls mount(2) directly and returns the raw errno: tests and
// the tracee compare errnos exactly. An empty fstype or data passes NULL.
func RawMount(source, target, fstype string, flags uintptr, data string) Errno {
	cstr := func(s string, null bool) *byte {
		if null && s == "" {
			return nil
		}
		p, _ := unix.BytePtrFromString(s)
		return p
	}
	src, tgt, typ, dat := cstr(source, true), cstr(target, false), cstr(fstype, true), cstr(data, true)
	_, _, e := unix.Syscall6(unix.SYS_MOUNT, uintptr(unsafe.Pointer(src)), uintptr(unsafe.Pointer(tgt)),
		uintptr(unsafe.Pointer(typ)), flags, uintptr(unsafe.Pointer(dat)), 0)
	return e
}

// RawUmount2 calls umount2(2) directly and returns the raw errno.
func RawUmount2(target string, flags int) Errno {
	p, err := unix.BytePtrFromString(target)
	if err != nil {
		return unix.EINVAL
	}
	_, _, e := unix.Syscall(unix.SYS_UMOUNT2, uintptr(unsafe.Pointer(p)), uintptr(flags), 0)
	return e
}

// MountRaceBuffer is test support for the race acceptance test: it calls
// mount(2) n times with a target buffer that another thread keeps
// rewriting between a and b (same length), as an attacker inside the
// caller would. After each successful mount it unmounts undo (the allowed
// path). It returns how many mounts succeeded.
func MountRaceBuffer(a, b, fstype, data, undo string, flags uintptr, n int) (ok int) {
	if len(a) != len(b) {
		panic("MountRaceBuffer: a and b must have the same length")
	}
	buf := make([]byte, len(a)+1)
	copy(buf, a)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			src := a
			if i%2 == 1 {
				src = b
			}
			for j := 0; j < len(src); j++ {
				// Byte stores the mount call may observe half-done: that
				// is the attack.
				*(*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(buf)), j)) = src[j]
			}
			runtime.Gosched()
		}
	}()
	typ, _ := unix.BytePtrFromString(fstype)
	dat, _ := unix.BytePtrFromString(data)
	for i := 0; i < n; i++ {
		_, _, e := unix.Syscall6(unix.SYS_MOUNT, uintptr(unsafe.Pointer(typ)), uintptr(unsafe.Pointer(unsafe.SliceData(buf))),
			uintptr(unsafe.Pointer(typ)), flags, uintptr(unsafe.Pointer(dat)), 0)
		if e == 0 {
			ok++
			RawUmount2(undo, 0)
		}
	}
	stop.Store(true)
	<-done
	runtime.KeepAlive(buf)
	return ok
}
