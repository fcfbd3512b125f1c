// Package policy decides what fgacd does with an intercepted syscall, from
// TOML policies written by system integrators.
//
// The package is pure: it imports only the standard library and the TOML
// decoder, makes no syscalls and never logs, so it builds and tests on any
// OS (CI vets it with GOOS=darwin). Everything kernel-facing — reading the
// caller's identity and arguments, acting on a decision — lives in the
// daemon's other packages.
//
// The pipeline:
//
//	Parse    TOML bytes → *Spec: strict; syntax errors, wrong types and
//	         unknown keys are errors with file:line:col and the key path.
//	Validate *Spec → ordered named checks (names, globs, errnos, ranges,
//	         mount flags and option constraints, and the safety rules:
//	         continue never depends on pointer arguments; emulate always
//	         names path, type and device numbers for mknod; target,
//	         fstype, source or propagation for mount and umount; and the
//	         chip for gpio_open and gpio_line).
//	Compile  specs → *Set: immutable, safe for concurrent use.
//	Decide   Set.Select(Identity) → *Profile; Profile.Decide(Request) →
//	         Decision. Pure, no allocation, fail closed: anything unmatched
//	         is denied with the profile's default errno (EPERM).
//
// Errno values are Linux numbers, not the host's syscall.Errno.
//
// When not to use: this package does not read tracee memory, resolve paths
// or check that a notification is still valid; callers pass it a Request
// holding what they already read (see Profile.NeedsArgs) and must act on
// exactly that. It is not a sandbox on its own: "continue" hands the call
// back to the kernel and grants nothing.
package policy
