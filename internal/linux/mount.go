package linux

import (
	"os"

	"golang.org/x/sys/unix"
)

// The fd-based mount API (5.2; mount_setattr 5.12). Values from
// include/uapi/linux/mount.h where x/sys lacks them.
const (
	FSOPEN_CLOEXEC          = 0x1
	FSPICK_CLOEXEC          = 0x1
	FSPICK_EMPTY_PATH       = 0x8
	FSMOUNT_CLOEXEC         = 0x1
	MOVE_MOUNT_F_EMPTY_PATH = 0x4
	MOVE_MOUNT_T_EMPTY_PATH = 0x40
	OPEN_TREE_CLONE         = 0x1
	OPEN_TREE_CLOEXEC       = unix.O_CLOEXEC
	AT_RECURSIVE            = 0x8000

	MOUNT_ATTR_RDONLY      = unix.MOUNT_ATTR_RDONLY
	MOUNT_ATTR_NOSUID      = unix.MOUNT_ATTR_NOSUID
	MOUNT_ATTR_NODEV       = unix.MOUNT_ATTR_NODEV
	MOUNT_ATTR_NOEXEC      = unix.MOUNT_ATTR_NOEXEC
	MOUNT_ATTR__ATIME      = unix.MOUNT_ATTR__ATIME
	MOUNT_ATTR_RELATIME    = unix.MOUNT_ATTR_RELATIME
	MOUNT_ATTR_NOATIME     = unix.MOUNT_ATTR_NOATIME
	MOUNT_ATTR_STRICTATIME = unix.MOUNT_ATTR_STRICTATIME
	MOUNT_ATTR_NODIRATIME  = unix.MOUNT_ATTR_NODIRATIME
	MOUNT_ATTR_NOSYMFOLLOW = unix.MOUNT_ATTR_NOSYMFOLLOW

	CLONE_NEWNS = unix.CLONE_NEWNS

	MNT_DETACH = unix.MNT_DETACH
)

func pathErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}

// Setns moves the calling thread into the namespace behind fd (setns(2));
// for CLONE_NEWNS the thread must have unshared CLONE_FS.
func Setns(fd, nstype int) error { return sysErr("setns", unix.Setns(fd, nstype)) }

// Fsopen starts a filesystem context (fsopen(2)); ENODEV for an unknown type.
func Fsopen(fstype string) (int, error) {
	fd, err := unix.Fsopen(fstype, FSOPEN_CLOEXEC)
	if err != nil {
		return -1, pathErr("fsopen", fstype, err)
	}
	return fd, nil
}

// Fspick opens the superblock of the mount at fd for reconfiguration.
func Fspick(fd int) (int, error) {
	nfd, err := unix.Fspick(fd, "", FSPICK_CLOEXEC|FSPICK_EMPTY_PATH)
	if err != nil {
		return -1, sysErr("fspick", err)
	}
	return nfd, nil
}

// FsconfigString sets a key (fsconfig(FSCONFIG_SET_STRING)).
func FsconfigString(fd int, key, value string) error {
	return pathErr("fsconfig", key, unix.FsconfigSetString(fd, key, value))
}

// FsconfigFlag sets a flag key (fsconfig(FSCONFIG_SET_FLAG)).
func FsconfigFlag(fd int, key string) error {
	return pathErr("fsconfig", key, unix.FsconfigSetFlag(fd, key))
}

// FsconfigCreate creates the superblock (FSCONFIG_CMD_CREATE).
func FsconfigCreate(fd int) error {
	return sysErr("fsconfig(FSCONFIG_CMD_CREATE)", unix.FsconfigCreate(fd))
}

// FsconfigReconfigure applies a reconfiguration (FSCONFIG_CMD_RECONFIGURE).
func FsconfigReconfigure(fd int) error {
	return sysErr("fsconfig(FSCONFIG_CMD_RECONFIGURE)", unix.FsconfigReconfigure(fd))
}

// Fsmount makes a detached mount of a created superblock (fsmount(2)).
func Fsmount(fsfd int, attrs uint64) (int, error) {
	fd, err := unix.Fsmount(fsfd, FSMOUNT_CLOEXEC, int(attrs))
	if err != nil {
		return -1, sysErr("fsmount", err)
	}
	return fd, nil
}

// OpenTree clones the mount tree at fd (open_tree(OPEN_TREE_CLONE)), for a
// bind mount; recursive takes the submounts too.
func OpenTree(fd int, recursive bool) (int, error) {
	flags := uint(OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	if recursive {
		flags |= AT_RECURSIVE
	}
	nfd, err := unix.OpenTree(fd, "", flags)
	if err != nil {
		return -1, sysErr("open_tree", err)
	}
	return nfd, nil
}

// MoveMount attaches the mount at from onto the path at to (move_mount(2));
// the thread must be in to's mount namespace.
func MoveMount(from, to int) error {
	return sysErr("move_mount", unix.MoveMount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH))
}

// MountSetattr changes the mount at fd (mount_setattr(2), 5.12).
func MountSetattr(fd int, recursive bool, set, clr, propagation uint64) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: set, Attr_clr: clr, Propagation: propagation}
	return sysErr("mount_setattr", unix.MountSetattr(fd, "", flags, &attr))
}

// Umount2 unmounts the mount at path (umount2(2)).
func Umount2(path string, flags int) error {
	return pathErr("umount2", path, retry(func() error { return unix.Unmount(path, flags) }))
}

// MountInfo is what statx says about the mount an fd is on.
type MountInfo struct {
	MountID   uint64
	MountRoot bool // the fd is the root of its mount
}

// FdMountInfo statx()es fd for its mount id and whether it is a mount root
// (STATX_MNT_ID and STATX_ATTR_MOUNT_ROOT, 5.8).
func FdMountInfo(fd int) (MountInfo, error) {
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st); err != nil {
		return MountInfo{}, sysErr("statx", err)
	}
	return MountInfo{
		MountID:   st.Mnt_id,
		MountRoot: st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0,
	}, nil
}

// Mount is mount(2): the daemon-namespace road of an emulated new mount
// (through a target fd's magic link), tests, and the native side of benchmarks.
func Mount(source, target, fstype string, flags uintptr, data string) error {
	return pathErr("mount", target, unix.Mount(source, target, fstype, flags, data))
}
