package linux

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Flags for Openat2 and friends, re-exported for callers of the chokepoint.
const (
	AT_FDCWD            = unix.AT_FDCWD
	AT_SYMLINK_NOFOLLOW = unix.AT_SYMLINK_NOFOLLOW
	AT_EMPTY_PATH       = unix.AT_EMPTY_PATH
	AT_REMOVEDIR        = unix.AT_REMOVEDIR

	O_PATH      = unix.O_PATH
	O_DIRECTORY = unix.O_DIRECTORY
	O_CLOEXEC   = unix.O_CLOEXEC
	O_RDONLY    = unix.O_RDONLY
	O_NOFOLLOW  = unix.O_NOFOLLOW

	RESOLVE_IN_ROOT       = unix.RESOLVE_IN_ROOT
	RESOLVE_NO_MAGICLINKS = unix.RESOLVE_NO_MAGICLINKS
	RESOLVE_BENEATH       = unix.RESOLVE_BENEATH
	RESOLVE_NO_SYMLINKS   = unix.RESOLVE_NO_SYMLINKS
	RESOLVE_NO_XDEV       = unix.RESOLVE_NO_XDEV
	RESOLVE_CACHED        = 0x20 // 5.12; not in x/sys

	// ResolveKnown is every RESOLVE_* flag of openat2(2) up to 5.12.
	ResolveKnown = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
		RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED

	S_IFMT   = unix.S_IFMT
	S_IFCHR  = unix.S_IFCHR
	S_IFBLK  = unix.S_IFBLK
	S_IFIFO  = unix.S_IFIFO
	S_IFREG  = unix.S_IFREG
	S_IFSOCK = unix.S_IFSOCK
	S_IFDIR  = unix.S_IFDIR
	S_IFLNK  = unix.S_IFLNK
)

// Stat is the kernel's struct stat.
type Stat = unix.Stat_t

// Open opens path (open(2), O_CLOEXEC always added).
func Open(path string, flags int, mode uint32) (int, error) {
	var fd int
	err := retry(func() (err error) { fd, err = unix.Open(path, flags|unix.O_CLOEXEC, mode); return })
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// Openat opens path relative to dirfd (openat(2), O_CLOEXEC always added).
func Openat(dirfd int, path string, flags int, mode uint32) (int, error) {
	var fd int
	err := retry(func() (err error) { fd, err = unix.Openat(dirfd, path, flags|unix.O_CLOEXEC, mode); return })
	if err != nil {
		return -1, &os.PathError{Op: "openat", Path: path, Err: err}
	}
	return fd, nil
}

// Openat2 opens path relative to dirfd with resolve restrictions
// (openat2(2), 5.6). O_CLOEXEC is always added.
func Openat2(dirfd int, path string, flags uint64, resolve uint64) (int, error) {
	how := unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: resolve}
	var fd int
	err := retry(func() (err error) { fd, err = unix.Openat2(dirfd, path, &how); return })
	if err != nil {
		return -1, &os.PathError{Op: "openat2", Path: path, Err: err}
	}
	return fd, nil
}

// Close closes fd. EINTR is not retried: on Linux the fd is gone anyway.
func Close(fd int) error {
	return sysErr("close", unix.Close(fd))
}

// Dup duplicates fd with O_CLOEXEC.
func Dup(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, sysErr("fcntl(F_DUPFD_CLOEXEC)", err)
	}
	return nfd, nil
}

// Mknodat creates a node (mknodat(2)); the thread's umask applies.
func Mknodat(dirfd int, name string, mode uint32, dev uint64) error {
	err := retry(func() error { return unix.Mknodat(dirfd, name, mode, int(dev)) })
	if err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return nil
}

// Unlinkat removes name in dirfd (unlinkat(2)).
func Unlinkat(dirfd int, name string, flags int) error {
	err := retry(func() error { return unix.Unlinkat(dirfd, name, flags) })
	if err != nil {
		return &os.PathError{Op: "unlinkat", Path: name, Err: err}
	}
	return nil
}

// Fstatat stats name in dirfd (fstatat(2)).
func Fstatat(dirfd int, name string, st *Stat, flags int) error {
	err := retry(func() error { return unix.Fstatat(dirfd, name, st, flags) })
	if err != nil {
		return &os.PathError{Op: "fstatat", Path: name, Err: err}
	}
	return nil
}

// Fstat stats fd.
func Fstat(fd int, st *Stat) error {
	return sysErr("fstat", retry(func() error { return unix.Fstat(fd, st) }))
}

// StatPath stat()s path, following links (magic ones included): for
// /proc/PID/fd/N, the file behind the fd, without opening it.
func StatPath(path string, st *Stat) error {
	return sysErr("stat", retry(func() error { return unix.Stat(path, st) }))
}

// Readlinkat reads the link name in dirfd into buf and returns its length.
func Readlinkat(dirfd int, name string, buf []byte) (int, error) {
	var n int
	err := retry(func() (err error) { n, err = unix.Readlinkat(dirfd, name, buf); return })
	if err != nil {
		return 0, &os.PathError{Op: "readlinkat", Path: name, Err: err}
	}
	return n, nil
}

// FdPath returns what /proc/self/fd/FD points at: for a file, its path as
// seen from the calling thread's root.
func FdPath(fd int) (string, error) {
	buf := make([]byte, unix.PathMax+32)
	n, err := Readlinkat(unix.AT_FDCWD, "/proc/thread-self/fd/"+strconv.Itoa(fd), buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// Mkdev composes a dev_t the way glibc's makedev does.
func Mkdev(major, minor uint32) uint64 { return unix.Mkdev(major, minor) }

// DevMajor and DevMinor split a dev_t.
func DevMajor(dev uint64) uint32 { return unix.Major(dev) }
func DevMinor(dev uint64) uint32 { return unix.Minor(dev) }

// Umask sets the calling thread's (fs_struct's) umask and returns the old one.
func Umask(mask int) int { return unix.Umask(mask) }

// PathMax is PATH_MAX, counting the NUL.
const PathMax = unix.PathMax

// MonotonicUsec is CLOCK_MONOTONIC in microseconds, as sd_notify's
// MONOTONIC_USEC wants it.
func MonotonicUsec() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Sec)*1e6 + uint64(ts.Nsec)/1e3
}

// FileID names a file: its mount, device and inode.
type FileID struct {
	MountID, Dev, Ino uint64
}

// StatID statx()es path (following it, magic links included) for its
// mount id, device and inode: two paths with equal FileIDs are the same
// directory on the same mount.
func StatID(path string) (FileID, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID|unix.STATX_INO, &st); err != nil {
		return FileID{}, &os.PathError{Op: "statx", Path: path, Err: err}
	}
	return FileID{MountID: st.Mnt_id, Dev: unix.Mkdev(st.Dev_major, st.Dev_minor), Ino: st.Ino}, nil
}

// Read reads from fd (read(2)).
func Read(fd int, buf []byte) (int, error) {
	var n int
	err := retry(func() (err error) { n, err = unix.Read(fd, buf); return })
	if err != nil {
		return 0, sysErr("read", err)
	}
	return n, nil
}
