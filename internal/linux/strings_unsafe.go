package linux

import "unsafe"

// String returns b as a string without copying. The string is only valid
// while b is not modified: callers use it for values read into a buffer
// they own until the next notification (a tracee path), and copy what they
// keep longer.
func String(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
