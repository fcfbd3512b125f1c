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
// Later: gpio_open, gpio_line.
var syscalls = map[string]syscallInfo{
	"mknod":  {argTable: "mknod", pointerArgs: []string{"path"}},
	"mount":  {argTable: "mount", pointerArgs: []string{"fstype", "source", "target", "options"}},
	"umount": {argTable: "umount", pointerArgs: []string{"target"}},
}

// KnownSyscalls returns the canonical syscall names rules may use, sorted.
func KnownSyscalls() []string {
	return slices.Sorted(maps.Keys(syscalls))
}
