package testutil

import "github.com/fgacd/fgacd/internal/linux"

func defaultNrs() []uint32 {
	return []uint32{linux.SYS_MKNODAT, linux.SYS_MKNOD, linux.SYS_MOUNT, linux.SYS_UMOUNT2}
}
