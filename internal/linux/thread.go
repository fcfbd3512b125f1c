package linux

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// The calls below change per-thread state. Call them only on a goroutine
// locked to its OS thread that exits without unlocking, so the thread is
// thrown away (internal/threads does this).

// UnshareFS gives the calling thread its own root, cwd and umask
// (unshare(CLONE_FS)).
func UnshareFS() error {
	return sysErr("unshare(CLONE_FS)", unix.Unshare(unix.CLONE_FS))
}

// Fchdir changes the thread's cwd to fd.
func Fchdir(fd int) error { return sysErr("fchdir", unix.Fchdir(fd)) }

// ChrootHere makes the thread's cwd its root (chroot(".")).
func ChrootHere() error { return sysErr("chroot", unix.Chroot(".")) }

// SetCreds switches the thread's filesystem identity to uid/gid with the
// given supplementary groups (setgroups(2), setfsgid(2), setfsuid(2) as raw
// per-thread syscalls). A nonzero fsuid clears CAP_DAC_OVERRIDE, CAP_FOWNER,
// CAP_MKNOD and the other file capabilities from the effective set
// (capabilities(7)), so path walks get the caller's permission checks.
func SetCreds(uid, gid uint32, groups []int) error {
	if err := unix.Setgroups(groups); err != nil {
		return sysErr("setgroups", err)
	}
	if err := unix.Setfsgid(int(gid)); err != nil {
		return sysErr("setfsgid", err)
	}
	if err := unix.Setfsuid(int(uid)); err != nil {
		return sysErr("setfsuid", err)
	}
	// setfsuid reports no error; read back to be sure it took.
	if cur, _ := unix.SetfsuidRetUid(-1); cur != int(uid) {
		return sysErr("setfsuid", unix.EPERM)
	}
	if cur, _ := unix.SetfsgidRetGid(-1); cur != int(gid) {
		return sysErr("setfsgid", unix.EPERM)
	}
	return nil
}

// Capability numbers used by handlers.
const (
	CAP_MKNOD     = unix.CAP_MKNOD
	CAP_SYS_ADMIN = unix.CAP_SYS_ADMIN
)

// RaiseEffectiveCap puts cap back into the thread's effective set; it must
// still be in the permitted set.
func RaiseEffectiveCap(cap int) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return sysErr("capget", err)
	}
	data[cap/32].Effective |= 1 << (uint(cap) % 32)
	return sysErr("capset", unix.Capset(&hdr, &data[0]))
}

// Gettid returns the calling thread's id.
func Gettid() int { return unix.Gettid() }

// RestoreEffectiveCaps sets the thread's effective capabilities back to its
// permitted set (a nonzero fsuid or RaiseEffectiveCap changed them).
func RestoreEffectiveCaps() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return sysErr("capget", err)
	}
	data[0].Effective, data[1].Effective = data[0].Permitted, data[1].Permitted
	return sysErr("capset", unix.Capset(&hdr, &data[0]))
}

// Getgroups returns the calling thread's supplementary groups.
func Getgroups() ([]int, error) {
	g, err := unix.Getgroups()
	return g, sysErr("getgroups", err)
}

// NsIno returns the inode of a namespace fd: equal inodes, same namespace.
func NsIno(fd int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, sysErr("fstat", err)
	}
	return st.Ino, nil
}

// NsLinkIno is NsIno for a namespace named by a /proc/…/ns/ link, read
// as "mnt:[4026531841]": readlink is about half the cost of statx on these
// links (6.18 here), which matters on the mount fast path.
func NsLinkIno(path string) (uint64, error) {
	var buf [64]byte
	n, err := Readlinkat(unix.AT_FDCWD, path, buf[:])
	if err != nil {
		return 0, err
	}
	b := buf[:n]
	i := 0
	for i < len(b) && b[i] != '[' {
		i++
	}
	var ino uint64
	digits := 0
	for i++; i < len(b)-1 && b[i] >= '0' && b[i] <= '9' && digits < 19; i++ {
		ino = ino*10 + uint64(b[i]-'0')
		digits++
	}
	if digits == 0 || i != len(b)-1 || b[i] != ']' {
		return 0, &os.PathError{Op: "readlink", Path: path, Err: EINVAL}
	}
	return ino, nil
}

// SetNoNewPrivs sets PR_SET_NO_NEW_PRIVS for the calling thread; seccomp
// filters loaded afterwards need no privilege, and exec cannot gain any.
func SetNoNewPrivs() error {
	return sysErr("prctl(PR_SET_NO_NEW_PRIVS)", unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
}

// DropTo switches the whole process (every thread; Go's syscall package
// does that since 1.16) to uid/gid with groups, and refuses to go on if it
// could regain root.
func DropTo(uid, gid uint32, groups []int) error {
	if err := syscall.Setgroups(groups); err != nil {
		return sysErr("setgroups", err)
	}
	if err := syscall.Setresgid(int(gid), int(gid), int(gid)); err != nil {
		return sysErr("setresgid", err)
	}
	if err := syscall.Setresuid(int(uid), int(uid), int(uid)); err != nil {
		return sysErr("setresuid", err)
	}
	if uid != 0 && syscall.Setuid(0) == nil {
		return sysErr("setuid", unix.EPERM) // could become root again
	}
	return nil
}

// Exec replaces the process image (execve(2)); it returns only on error.
func Exec(path string, argv, env []string) error {
	return &os.PathError{Op: "exec", Path: path, Err: syscall.Exec(path, argv, env)}
}
