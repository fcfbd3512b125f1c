package linux

import "golang.org/x/sys/unix"

func nativeArch() uint32 { return unix.AUDIT_ARCH_AARCH64 }
