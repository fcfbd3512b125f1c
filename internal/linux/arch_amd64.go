package linux

import "golang.org/x/sys/unix"

func nativeArch() uint32 { return unix.AUDIT_ARCH_X86_64 }

// SYS_MKNOD is the legacy mknod(2); arm64 has only mknodat.
const SYS_MKNOD = unix.SYS_MKNOD

// Mount syscalls on this arch.
const (
	SYS_MOUNT   = unix.SYS_MOUNT
	SYS_UMOUNT2 = unix.SYS_UMOUNT2
)

// Syscalls a GPIO filter traps on this arch (open exists on x86_64 only).
var GPIOOpenNrs = []uint32{unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2}
