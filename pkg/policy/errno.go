package policy

import (
	"fmt"
	"slices"
	"strconv"
)

// Errno is a Linux errno number, the value the caller sees in errno.
//
// Policy code is portable, so this is not syscall.Errno: on darwin those
// values differ. The numbers are the asm-generic ones used by x86, x86_64,
// arm, arm64, riscv and loongarch; the daemon must translate on alpha, mips,
// parisc and sparc, which number some errnos differently.
type Errno uint16

// Errnos policies name most often; the full table is behind ParseErrno.
const (
	EPERM  Errno = 1
	ENOENT Errno = 2
	EACCES Errno = 13
	EFAULT Errno = 14
	EEXIST Errno = 17
	EINVAL Errno = 22
	ENOSYS Errno = 38
)

// errnoByName maps every accepted name to its number. Aliases (ENOTSUP,
// EWOULDBLOCK) share a number; errnoNames picks one canonical name per number.
var errnoByName = map[string]Errno{
	"EPERM":        1,
	"ENOENT":       2,
	"ESRCH":        3,
	"EINTR":        4,
	"EIO":          5,
	"ENXIO":        6,
	"E2BIG":        7,
	"ENOEXEC":      8,
	"EBADF":        9,
	"ECHILD":       10,
	"EAGAIN":       11,
	"EWOULDBLOCK":  11,
	"ENOMEM":       12,
	"EACCES":       13,
	"EFAULT":       14,
	"ENOTBLK":      15,
	"EBUSY":        16,
	"EEXIST":       17,
	"EXDEV":        18,
	"ENODEV":       19,
	"ENOTDIR":      20,
	"EISDIR":       21,
	"EINVAL":       22,
	"ENFILE":       23,
	"EMFILE":       24,
	"ENOTTY":       25,
	"ETXTBSY":      26,
	"EFBIG":        27,
	"ENOSPC":       28,
	"ESPIPE":       29,
	"EROFS":        30,
	"EMLINK":       31,
	"EPIPE":        32,
	"EDOM":         33,
	"ERANGE":       34,
	"EDEADLK":      35,
	"ENAMETOOLONG": 36,
	"ENOLCK":       37,
	"ENOSYS":       38,
	"ENOTEMPTY":    39,
	"ELOOP":        40,
	"ENOMSG":       42,
	"ENODATA":      61,
	"EPROTO":       71,
	"EOVERFLOW":    75,
	"ENOTSOCK":     88,
	"EOPNOTSUPP":   95,
	"ENOTSUP":      95,
	"ETIMEDOUT":    110,
	"ESTALE":       116,
	"EDQUOT":       122,
	"ENOMEDIUM":    123,
	"EMEDIUMTYPE":  124,
	"ECANCELED":    125,
}

// errnoAliases are names that are not the canonical spelling of their number.
var errnoAliases = map[string]bool{"EWOULDBLOCK": true, "ENOTSUP": true}

var errnoNames = func() map[Errno]string {
	m := make(map[Errno]string, len(errnoByName))
	for name, e := range errnoByName {
		if !errnoAliases[name] {
			m[e] = name
		}
	}
	return m
}()

// String returns the errno's symbolic name, or "errno N" when it has none.
func (e Errno) String() string {
	if name, ok := errnoNames[e]; ok {
		return name
	}
	return "errno " + strconv.Itoa(int(e))
}

// ParseErrno returns the Linux number for a symbolic name such as "EPERM".
func ParseErrno(name string) (Errno, error) {
	if e, ok := errnoByName[name]; ok {
		return e, nil
	}
	return 0, fmt.Errorf("unknown errno %q", name)
}

// KnownErrnos returns every name ParseErrno accepts, sorted.
func KnownErrnos() []string {
	names := make([]string, 0, len(errnoByName))
	for name := range errnoByName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
