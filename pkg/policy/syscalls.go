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
	// deviceGrant marks syscalls whose emulation can create device nodes.
	deviceGrant bool
}

// syscalls is the table of canonical names. "mknod" covers mknod(2) and
// mknodat(2). Later: mount, umount, gpio_open, gpio_line.
var syscalls = map[string]syscallInfo{
	"mknod": {argTable: "mknod", pointerArgs: []string{"path"}, deviceGrant: true},
}

// KnownSyscalls returns the canonical syscall names rules may use, sorted.
func KnownSyscalls() []string {
	return slices.Sorted(maps.Keys(syscalls))
}
