package policy

import (
	"fmt"
	"slices"
	"strconv"
)

// Action is what the daemon does with an intercepted call.
type Action uint8

const (
	// ActionDeny answers the call with an errno (Decision.Errno).
	ActionDeny Action = iota

	// ActionEmulate makes the daemon perform the call on the caller's behalf,
	// with the daemon's privileges. It is the only action that grants anything.
	ActionEmulate

	// ActionContinue answers with SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel
	// runs the call with the caller's own rights. It is never a grant.
	//
	// The uapi header (linux/seccomp.h) and seccomp_unotify(2) warn that this
	// flag "must be used with caution": while the caller waits for the answer,
	// another of its threads can rewrite the memory that pointer arguments
	// point to, so what the supervisor checked is not what the kernel uses
	// (TOCTOU), and the notifier "cannot be used to implement a security
	// policy". Validate therefore rejects continue rules conditioned on
	// pointer arguments such as mknod.path.
	ActionContinue
)

var actionNames = [...]string{
	ActionDeny:     "deny",
	ActionEmulate:  "emulate",
	ActionContinue: "continue",
}

// String returns the policy spelling: "deny", "emulate" or "continue".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

func parseAction(name string) (Action, error) {
	for a, n := range actionNames {
		if n == name {
			return Action(a), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q (want one of %v)", name, KnownActions())
}

// KnownActions returns the action names a rule may use, sorted.
func KnownActions() []string {
	names := slices.Clone(actionNames[:])
	slices.Sort(names)
	return names
}

// FileType is the kind of node mknod(2) creates (the S_IFMT part of mode).
type FileType uint8

// File types; 0 means unknown and matches no type condition.
const (
	FileTypeChar FileType = iota + 1
	FileTypeBlock
	FileTypeFIFO
	FileTypeRegular
	FileTypeSocket
)

var fileTypeNames = [...]string{
	FileTypeChar:    "char",
	FileTypeBlock:   "block",
	FileTypeFIFO:    "fifo",
	FileTypeRegular: "regular",
	FileTypeSocket:  "socket",
}

// String returns the policy spelling, e.g. "char".
func (t FileType) String() string {
	if t != 0 && int(t) < len(fileTypeNames) {
		return fileTypeNames[t]
	}
	return "filetype(" + strconv.Itoa(int(t)) + ")"
}

// ParseFileType returns the FileType for a policy spelling such as "fifo".
func ParseFileType(name string) (FileType, error) {
	for t, n := range fileTypeNames {
		if t != 0 && n == name {
			return FileType(t), nil
		}
	}
	return 0, fmt.Errorf("unknown file type %q (want one of %v)", name, KnownFileTypes())
}

// KnownFileTypes returns the file type names a mknod condition may use, sorted.
func KnownFileTypes() []string {
	names := slices.Clone(fileTypeNames[1:])
	slices.Sort(names)
	return names
}
