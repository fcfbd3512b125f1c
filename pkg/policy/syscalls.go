package policy

import (
	"maps"
	"slices"
)

// syscallInfo describes one canonical syscall name rules may use.
type syscallInfo struct {
	// argTable is the rule sub-table holding argument conditions
	// ("mknod" for [profile.rule.mknod]); "" if the syscall takes none.
	argTable string
	// pointerArgs are condition keys read from caller memory. The caller can
	// rewrite that memory after the check, so continue rules must not use them.
	pointerArgs []string
}

// syscalls is the table of canonical names. "mknod" covers mknod(2) and
// mknodat(2); "mount" covers mount(2); "umount" covers umount2(2) and the
// legacy umount(2). The new mount API (fsopen, fsconfig, fsmount,
// move_mount, open_tree, fspick, mount_setattr) has no name: filters
// built for fgacd answer it with ENOSYS, so callers fall back to mount(2).
//
// The GPIO names are not syscalls but what a call means for a GPIO chip
// character device: "gpio_open" is an open(2), openat(2) or openat2(2)
// of /dev/gpiochipN; "gpio_line" is a line request ioctl(2) on a chip fd
// (GPIO_V2_GET_LINE_IOCTL, or v1 GPIO_GET_LINEHANDLE_IOCTL and
// GPIO_GET_LINEEVENT_IOCTL). All their conditions count as pointer
// arguments: the chip comes from a path in caller memory (gpio_open) or
// from the caller's fd table, which another thread can change
// (gpio_line), and lines and flags from a request struct in caller memory.
var syscalls = map[string]syscallInfo{
	"mknod":     {argTable: "mknod", pointerArgs: []string{"path"}},
	"mount":     {argTable: "mount", pointerArgs: []string{"fstype", "source", "target", "options"}},
	"umount":    {argTable: "umount", pointerArgs: []string{"target"}},
	"gpio_open": {argTable: "gpio_open", pointerArgs: []string{"chip"}},
	"gpio_line": {argTable: "gpio_line", pointerArgs: []string{"chip", "lines", "names", "flags"}},
}

// KnownSyscalls returns the canonical syscall names rules may use, sorted.
func KnownSyscalls() []string {
	return slices.Sorted(maps.Keys(syscalls))
}
