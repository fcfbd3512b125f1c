package linux

import "golang.org/x/sys/unix"

func nativeArch() uint32 { return unix.AUDIT_ARCH_AARCH64 }

// Mount syscalls on this arch.
const (
	SYS_MOUNT   = unix.SYS_MOUNT
	SYS_UMOUNT2 = unix.SYS_UMOUNT2
)

// Syscalls a GPIO filter traps on this arch (open exists on x86_64 only).
var GPIOOpenNrs = []uint32{unix.SYS_OPENAT, unix.SYS_OPENAT2}
