package handlers

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/nsexec"
)

// creds is the caller thread's filesystem identity, as an emulated call
// must apply it: fsuid/fsgid own what it creates, umask trims the mode.
type creds struct {
	fsuid, fsgid uint32
	groups       []int
	umask        int
}

// procDir is /proc/TID, where a caller thread's creds, view and fds are
// read. The TID may be reused once the caller is gone: check the
// notification after reading there.
func procDir(tid int) string { return "/proc/" + strconv.Itoa(tid) }

// readCreds reads the caller thread's creds from /proc/TID/status (Umask:
// since 4.7). Check the notification afterwards: the tid may be reused.
func readCreds(tid int) (creds, error) {
	var c creds
	b, err := os.ReadFile(procDir(tid) + "/status")
	if err != nil {
		return c, fmt.Errorf("read caller credentials: %w", err)
	}
	var have int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		switch k {
		case "Uid", "Gid":
			if len(f) != 4 {
				return c, fmt.Errorf("read caller credentials: bad %s line", k)
			}
			id, err := strconv.ParseUint(f[3], 10, 32) // the fs id
			if err != nil {
				return c, fmt.Errorf("read caller credentials: %w", err)
			}
			if k == "Uid" {
				c.fsuid = uint32(id)
			} else {
				c.fsgid = uint32(id)
			}
			have++
		case "Groups":
			for _, g := range f {
				id, err := strconv.ParseUint(g, 10, 32)
				if err != nil {
					return c, fmt.Errorf("read caller credentials: %w", err)
				}
				c.groups = append(c.groups, int(id))
			}
		case "Umask":
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err != nil {
				return c, fmt.Errorf("read caller credentials: %w", err)
			}
			c.umask = int(m)
			have++
		}
	}
	if have != 3 {
		return c, fmt.Errorf("read caller credentials: status of %d lacks Uid, Gid or Umask", tid)
	}
	return c, nil
}

// view is the caller's filesystem view as fds: its root, and the directory
// a relative path starts from (its cwd, or the dirfd it passed).
type view struct {
	root  int
	base  int // -1: the path is absolute
	mntns int // -1: act from the daemon's mount namespace
}

func (v *view) close() {
	if v.base >= 0 && v.base != v.root {
		linux.Close(v.base)
	}
	if v.root >= 0 {
		linux.Close(v.root)
	}
	if v.mntns >= 0 {
		linux.Close(v.mntns)
	}
	v.root, v.base, v.mntns = -1, -1, -1
}

// openView opens the caller's root and, for a relative path, its cwd or
// its dirfd. The kernel follows /proc/TID/root
// and /cwd to the caller's own mounts, even in another mount namespace.
//
// withNS also opens the caller's mount namespace, for calls that change
// mounts: the kernel attaches a mount only from inside the namespace it
// goes into (move_mount, umount2 check current's namespace).
func openView(tid int, dirfd int32, absolute, withNS bool) (v view, err error) {
	v = view{root: -1, base: -1, mntns: -1}
	defer func() {
		if err != nil {
			v.close()
		}
	}()
	// One lookup of /proc/TID, then cheap lookups below it.
	pdir, err := linux.Open(procDir(tid), linux.O_PATH|linux.O_DIRECTORY, 0)
	if err != nil {
		return v, fmt.Errorf("open caller /proc entry: %w", err)
	}
	defer linux.Close(pdir)
	if v.root, err = linux.Openat(pdir, "root", linux.O_PATH|linux.O_DIRECTORY, 0); err != nil {
		return v, fmt.Errorf("open caller root: %w", err)
	}
	if withNS {
		if v.mntns, err = linux.Openat(pdir, "ns/mnt", linux.O_RDONLY, 0); err != nil {
			return v, fmt.Errorf("open caller mount namespace: %w", err)
		}
	}
	switch {
	case absolute:
	case dirfd == linux.AT_FDCWD:
		if v.base, err = linux.Openat(pdir, "cwd", linux.O_PATH|linux.O_DIRECTORY, 0); err != nil {
			return v, fmt.Errorf("open caller cwd: %w", err)
		}
	default:
		if dirfd < 0 {
			return v, fmt.Errorf("dirfd %d: %w", dirfd, linux.EBADF)
		}
		// The thread's own fd table, through /proc/TID/fd: pidfd_getfd
		// needs a pidfd for the thread, which pidfd_open gives only for
		// group leaders before PIDFD_THREAD (6.9); seen on 6.1 with a Go
		// caller, whose syscalls come from any thread. O_PATH is enough
		// to walk from; the fstat below checks it is a directory.
		if v.base, err = linux.Openat(pdir, "fd/"+strconv.Itoa(int(dirfd)), linux.O_PATH, 0); err != nil {
			if linux.ErrnoOf(err) == linux.ENOENT {
				err = linux.EBADF
			}
			return v, fmt.Errorf("open caller dirfd %d: %w", dirfd, err)
		}
		var st linux.Stat
		if err := linux.Fstat(v.base, &st); err != nil {
			return v, err
		}
		if st.Mode&linux.S_IFMT != linux.S_IFDIR {
			return v, fmt.Errorf("dirfd %d: %w", dirfd, linux.ENOTDIR)
		}
	}
	return v, nil
}

// enter makes the calling worker thread (internal/nsexec) see what the caller
// sees: its mount namespace, its root as "/", its cwd or dirfd as ".", its
// umask. It returns the thread's /proc/thread-self/fd (opened before any
// of that; owned by the thread), to name fds as paths in the caller's view.
func (v *view) enter(t *nsexec.Thread, umask int) (fdDir int, err error) {
	if fdDir, err = t.FdDir(); err != nil {
		return -1, err
	}
	if v.mntns >= 0 {
		if err := t.Setns(v.mntns); err != nil {
			return -1, err
		}
	}
	if err := linux.Fchdir(v.root); err != nil {
		return -1, err
	}
	if err := linux.ChrootHere(); err != nil {
		return -1, err
	}
	if v.base >= 0 {
		if err := linux.Fchdir(v.base); err != nil {
			return -1, err
		}
	}
	linux.Umask(umask)
	return fdDir, nil
}

// fdPathIn names fd as a path from the thread's root (the caller's).
func fdPathIn(fdDir, fd int) (string, error) {
	var buf [linux.PathMax + 64]byte
	n, err := linux.Readlinkat(fdDir, strconv.Itoa(fd), buf[:])
	if err != nil {
		return "", err
	}
	p := string(buf[:n])
	if !strings.HasPrefix(p, "/") {
		// An fd outside the caller's root, or not a path at all.
		return "", fmt.Errorf("resolved directory %q is outside the caller's root: %w", p, linux.EXDEV)
	}
	return p, nil
}
