package handlers

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/nsexec"
	"github.com/fgacd/fgacd/pkg/policy"
)

// mknodArgs decodes mknod(path, mode, dev) and mknodat(dirfd, path, mode,
// dev), truncating each argument to its C width: int dirfd, umode_t mode
// and unsigned int dev (fs/namei.c).
func mknodArgs(e *Entry, a *[6]uint64) (dirfd int32, addr uint64, mode uint32, dev uint32) {
	i := 0
	dirfd = linux.AT_FDCWD
	if e.at {
		dirfd, i = int32(a[0]), 1
	}
	addr, mode, dev = a[i], uint32(a[i+1]), uint32(a[i+2])
	if e.compat {
		addr &= 0xffffffff
	}
	return
}

// fileTypeOf maps the S_IFMT bits; 0 means a regular file (mknod(2)).
func fileTypeOf(mode uint32) (policy.FileType, bool) {
	switch mode & linux.S_IFMT {
	case linux.S_IFCHR:
		return policy.FileTypeChar, true
	case linux.S_IFBLK:
		return policy.FileTypeBlock, true
	case linux.S_IFIFO:
		return policy.FileTypeFIFO, true
	case linux.S_IFSOCK:
		return policy.FileTypeSocket, true
	case linux.S_IFREG, 0:
		return policy.FileTypeRegular, true
	}
	return 0, false
}

// DecodeMknod fills the scalar arguments of a mknod call into out, without
// reading memory: what a decision that needs no path is taken on.
func DecodeMknod(e *Entry, c *Call, out *Outcome) bool {
	_, _, mode, dev := mknodArgs(e, &c.Req.Args)
	t, ok := fileTypeOf(mode)
	if !ok {
		out.fail(fmt.Errorf("mknod: file type %#o: %w", mode&linux.S_IFMT, linux.EINVAL), linux.EINVAL)
		return false
	}
	out.mknod = policy.MknodArgs{Type: t, Mode: mode & 0o7777,
		Major: linux.DevMajor(uint64(dev)), Minor: linux.DevMinor(uint64(dev))}
	out.Request = policy.Request{Syscall: e.Name, Mknod: &out.mknod}
	return true
}

func (h *Handlers) mknod(e *Entry, c *Call, out *Outcome) {
	if !DecodeMknod(e, c, out) {
		return
	}
	req := c.Req
	dirfd, addr, mode, dev := mknodArgs(e, &req.Args)

	n, err := h.mem.ReadCString(req.Pid, addr, c.Buf[:])
	raw := linux.String(c.Buf[:n]) // valid until the session's next notification
	if err != nil {
		out.fail(fmt.Errorf("mknod: read path: %w", err), linux.EFAULT)
		return
	}
	if err := c.Valid.IDValid(req.ID); err != nil {
		out.fail(errGone, linux.ENOENT)
		return
	}
	if raw == "" {
		out.fail(errors.New("mknod: empty path"), linux.ENOENT)
		return
	}
	dir, name, trailing := splitLast(raw)
	if len(name) > 255 {
		out.fail(fmt.Errorf("mknod: name of %d bytes: %w", len(name), linux.ENAMETOOLONG), 0)
		return
	}
	// Most refusals need no resolution: if no rule can match a path
	// ending in this name, the directory does not matter.
	if d, ok := c.Profile.DecideByName(out.Request, name); ok && d.Action != policy.ActionEmulate {
		out.mknod.Path = raw // unresolved; for the record only
		out.Decision, out.Decided = d, true
		if d.Action == policy.ActionContinue {
			out.Continue = true
		} else {
			out.Errno = linux.Errno(d.Errno)
		}
		return
	}

	cr, err := readCreds(req.Pid)
	if err != nil {
		out.fail(err, linux.EPERM)
		return
	}
	v, err := openView(req.Pid, dirfd, strings.HasPrefix(raw, "/"), false)
	if err != nil {
		out.fail(err, linux.EPERM)
		return
	}
	defer v.close()
	// What we read from /proc and the fds we opened belong to the caller
	// only if its notification is still pending now.
	if err := c.Valid.IDValid(req.ID); err != nil {
		out.fail(errGone, linux.ENOENT)
		return
	}

	parent := -1
	var ino, devno uint64
	err = h.run(c, func(t *nsexec.Thread) error {
		fdDir, err := v.enter(t, cr.umask)
		if err != nil {
			return err
		}
		// The caller gets exactly the privilege mknod needs, CAP_MKNOD, and
		// nothing else: the path walk, the directory write check and the
		// node's owner are the caller's (fsuid, fsgid, groups, umask), so
		// no policy can let one user plant a node in another's directory.
		if err := t.SetCreds(cr.fsuid, cr.fsgid, cr.groups); err != nil {
			return err
		}
		if err := t.RaiseEffectiveCap(linux.CAP_MKNOD); err != nil {
			return err
		}
		pfd, err := linux.Openat2(linux.AT_FDCWD, dir, linux.O_PATH|linux.O_DIRECTORY, linux.RESOLVE_NO_MAGICLINKS)
		if err != nil {
			return fmt.Errorf("mknod: resolve %q: %w", dir, err)
		}
		keep := false
		defer func() {
			if !keep {
				linux.Close(pfd)
			}
		}()
		resolved, err := fdPathIn(fdDir, pfd)
		if err != nil {
			return err
		}
		out.mknod.Path = path.Join(resolved, name)
		out.Decision = c.Profile.Decide(out.Request)
		out.Decided = true
		if out.Decision.Action != policy.ActionEmulate {
			return nil
		}
		if name == "." || name == ".." || trailing {
			var st linux.Stat
			if linux.Fstatat(pfd, name, &st, linux.AT_SYMLINK_NOFOLLOW) == nil || name == "." || name == ".." {
				return fmt.Errorf("mknod %s: %w", out.mknod.Path, linux.EEXIST)
			}
			return fmt.Errorf("mknod %s: trailing slash: %w", out.mknod.Path, linux.ENOENT)
		}
		if err := c.Valid.IDValid(req.ID); err != nil {
			return errGone
		}
		if err := linux.Mknodat(pfd, name, mode, uint64(dev)); err != nil {
			return fmt.Errorf("mknod %s: %w", out.mknod.Path, err)
		}
		var st linux.Stat
		if err := linux.Fstatat(pfd, name, &st, linux.AT_SYMLINK_NOFOLLOW); err == nil {
			ino, devno = st.Ino, st.Dev
		}
		parent, keep = pfd, true
		return nil
	})
	if !out.Settle(err) {
		return
	}
	out.Effect = &nodeEffect{parent: parent, name: name, ino: ino, dev: devno}
}

// nodeEffect is a node an emulated mknod made: its parent directory fd,
// name and identity, so it can be removed only if it is still that node.
type nodeEffect struct {
	parent   int
	name     string
	ino, dev uint64
}

func (n *nodeEffect) Intact() bool {
	var st linux.Stat
	return n.ino != 0 && linux.Fstatat(n.parent, n.name, &st, linux.AT_SYMLINK_NOFOLLOW) == nil &&
		st.Ino == n.ino && st.Dev == n.dev
}

func (n *nodeEffect) Undo() bool {
	return n.Intact() && linux.Unlinkat(n.parent, n.name, 0) == nil
}

func (n *nodeEffect) Release() {
	if n.parent >= 0 {
		linux.Close(n.parent)
		n.parent = -1
	}
}

// splitLast splits a path into the directory to resolve and the last
// component to create. A trailing slash is reported: mknod refuses it.
func splitLast(p string) (dir, name string, trailing bool) {
	trimmed := strings.TrimRight(p, "/")
	if trimmed == "" { // "/" or "///"
		return "/", ".", false
	}
	trailing = len(trimmed) != len(p)
	i := strings.LastIndexByte(trimmed, '/')
	switch {
	case i < 0:
		return ".", trimmed, trailing
	case i == 0:
		return "/", trimmed[1:], trailing
	}
	return trimmed[:i], trimmed[i+1:], trailing
}
