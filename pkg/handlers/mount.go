package handlers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/nsexec"
	"github.com/fgacd/fgacd/pkg/policy"
)

// Mount flags that are attributes of a mount or a superblock (not an
// operation or a propagation change).
const attrFlags = policy.MS_RDONLY | policy.MS_NOSUID | policy.MS_NODEV | policy.MS_NOEXEC |
	policy.MS_SYNCHRONOUS | policy.MS_MANDLOCK | policy.MS_DIRSYNC | policy.MS_NOSYMFOLLOW |
	policy.MS_NOATIME | policy.MS_NODIRATIME | policy.MS_RELATIME | policy.MS_STRICTATIME |
	policy.MS_LAZYTIME | policy.MS_SILENT

const propFlags = policy.MS_SHARED | policy.MS_PRIVATE | policy.MS_SLAVE | policy.MS_UNBINDABLE

// msMgcMask and msMgcVal: mount(2) still accepts the pre-2.4 magic in the
// top 16 bits of flags and ignores it (fs/namespace.c).
const (
	msMgcMask = 0xffff0000
	msMgcVal  = 0xc0ed0000
)

// decodeMountFlags splits mount(2) flags the way fs/namespace.c path_mount
// does: remount, then bind, then propagation, then move, else a new mount.
func decodeMountFlags(flags uint64) (op policy.MountOp, attrs, prop uint64, rec bool, err error) {
	if flags&msMgcMask == msMgcVal {
		flags &^= msMgcMask
	}
	rec = flags&policy.MS_REC != 0
	attrs = flags & attrFlags
	prop = flags & propFlags
	known := uint64(attrFlags | propFlags | policy.MS_REMOUNT | policy.MS_BIND | policy.MS_MOVE | policy.MS_REC)
	if flags&^known != 0 {
		return 0, 0, 0, false, fmt.Errorf("mount flags %#x: %w", flags&^known, linux.EINVAL)
	}
	switch {
	case flags&policy.MS_REMOUNT != 0:
		op = policy.MountRemount
	case flags&policy.MS_BIND != 0:
		op = policy.MountBind
	case prop != 0:
		op = policy.MountPropagation
		if prop&(prop-1) != 0 { // more than one kind: EINVAL natively
			return 0, 0, 0, false, fmt.Errorf("mount propagation %#x: %w", prop, linux.EINVAL)
		}
	case flags&policy.MS_MOVE != 0:
		op = policy.MountMove
	default:
		op = policy.MountNew
	}
	return op, attrs, prop, rec, nil
}

// mountAttrs maps MS_* per-mount flags to MOUNT_ATTR_* (mount_setattr(2)).
func mountAttrs(ms uint64) (set uint64) {
	if ms&policy.MS_RDONLY != 0 {
		set |= linux.MOUNT_ATTR_RDONLY
	}
	if ms&policy.MS_NOSUID != 0 {
		set |= linux.MOUNT_ATTR_NOSUID
	}
	if ms&policy.MS_NODEV != 0 {
		set |= linux.MOUNT_ATTR_NODEV
	}
	if ms&policy.MS_NOEXEC != 0 {
		set |= linux.MOUNT_ATTR_NOEXEC
	}
	if ms&policy.MS_NODIRATIME != 0 {
		set |= linux.MOUNT_ATTR_NODIRATIME
	}
	if ms&policy.MS_NOSYMFOLLOW != 0 {
		set |= linux.MOUNT_ATTR_NOSYMFOLLOW
	}
	switch {
	case ms&policy.MS_NOATIME != 0:
		set |= linux.MOUNT_ATTR_NOATIME
	case ms&policy.MS_STRICTATIME != 0:
		set |= linux.MOUNT_ATTR_STRICTATIME
	}
	return set
}

// sbFlags are MS_* flags that belong to the superblock: fsconfig flag names.
// MS_SILENT is not among them: it only quietens the kernel's messages,
// fsconfig has no such key (tmpfs says EINVAL), and busybox mount passes
// it on every call.
var sbFlags = []struct {
	bit  uint64
	name string
}{
	{policy.MS_RDONLY, "ro"}, {policy.MS_SYNCHRONOUS, "sync"}, {policy.MS_DIRSYNC, "dirsync"},
	{policy.MS_LAZYTIME, "lazytime"}, {policy.MS_MANDLOCK, "mand"},
}

// prefetched holds C string arguments read ahead in one syscall
// (memread.Reader.Prefetch), by address.
type prefetched struct {
	addrs [4]uint64
	strs  [4]string
	ok    [4]bool
}

// prefetch reads the first part of each string argument in one
// process_vm_readv: most mount arguments are short, and each separate read
// is a syscall (about 1 µs here). What it cannot settle, readString reads.
func (h *Handlers) prefetch(c *Call, addrs ...uint64) *prefetched {
	p := &prefetched{}
	n := copy(p.addrs[:], addrs)
	var scratch [4 * 256]byte
	h.mem.Prefetch(c.Req.Pid, p.addrs[:n], scratch[:], p.strs[:n], p.ok[:n])
	return p
}

func (p *prefetched) get(addr uint64) (string, bool) {
	if p == nil || addr == 0 {
		return "", false
	}
	for i, a := range p.addrs {
		if a == addr && p.ok[i] {
			return p.strs[i], true
		}
	}
	return "", false
}

// readString reads an optional C string argument of at most max bytes
// (PathMax at most) through the session's buffer and copies it out;
// addr 0 gives "", false. A string pf already read is taken from there.
func (h *Handlers) readString(c *Call, addr uint64, max int, pf *prefetched) (string, bool, error) {
	if addr == 0 {
		return "", false, nil
	}
	if s, ok := pf.get(addr); ok && len(s) < max {
		return s, true, nil
	}
	var buf []byte
	if c.Buf != nil {
		buf = c.Buf[:max]
	} else {
		buf = make([]byte, max)
	}
	n, err := h.mem.ReadCString(c.Req.Pid, addr, buf)
	if err != nil {
		return "", true, err
	}
	return string(buf[:n]), true, nil
}

func (h *Handlers) mount(e *Entry, c *Call, out *Outcome) {
	req := c.Req
	a := req.Args
	srcAddr, tgtAddr, typeAddr, flags, dataAddr := a[0], a[1], a[2], a[3], a[4]
	if e.compat {
		srcAddr, tgtAddr, typeAddr, flags, dataAddr = srcAddr&0xffffffff, tgtAddr&0xffffffff, typeAddr&0xffffffff, flags&0xffffffff, dataAddr&0xffffffff
	}
	op, attrs, prop, rec, err := decodeMountFlags(flags)
	if err != nil {
		out.fail(err, linux.EINVAL)
		return
	}
	args := &policy.MountArgs{Op: op, Recursive: rec, Flags: attrs, Propagation: prop}
	out.Request = policy.Request{Syscall: e.Name, Mount: args}

	var pf *prefetched
	switch op {
	case policy.MountNew:
		pf = h.prefetch(c, tgtAddr, srcAddr, typeAddr, dataAddr)
	case policy.MountRemount:
		pf = h.prefetch(c, tgtAddr, srcAddr, dataAddr)
	default:
		pf = h.prefetch(c, tgtAddr, srcAddr)
	}
	target, ok, err := h.readString(c, tgtAddr, linux.PathMax, pf)
	if err == nil && !ok {
		err = linux.EFAULT // the kernel copies target unconditionally
	}
	if err != nil {
		out.fail(fmt.Errorf("mount: read target: %w", err), linux.EFAULT)
		return
	}
	source, hasSource, err := h.readString(c, srcAddr, linux.PathMax, pf)
	if err != nil {
		out.fail(fmt.Errorf("mount: read source: %w", err), linux.EFAULT)
		return
	}
	var data string
	if op == policy.MountNew || op == policy.MountRemount {
		if op == policy.MountNew {
			fstype, ok, err := h.readString(c, typeAddr, 256, pf)
			if err != nil {
				out.fail(fmt.Errorf("mount: read fstype: %w", err), linux.EFAULT)
				return
			}
			if !ok || fstype == "" {
				out.fail(errors.New("mount: no filesystem type"), linux.EINVAL)
				return
			}
			args.FSType = fstype
		}
		// Data is text for the filesystems a policy can allow; a page
		// without a NUL is refused rather than guessed at.
		if data, _, err = h.readString(c, dataAddr, 4096, pf); err != nil {
			out.fail(fmt.Errorf("mount: read data: %w", err), linux.EINVAL)
			return
		}
		if args.Options, err = policy.ParseMountOptions(data); err != nil {
			out.fail(fmt.Errorf("mount: data: %w", err), linux.EINVAL)
			return
		}
	}
	// What was read is validated with what is read from /proc, by one
	// ID_VALID before the decision (resolver.validate); an answer given
	// before that (an empty path) is one the kernel gives any caller.
	if target == "" || ((op == policy.MountBind || op == policy.MountMove) && source == "") {
		out.fail(errors.New("mount: empty path"), linux.ENOENT)
		return
	}
	if op == policy.MountNew {
		args.Source = source
		if !hasSource {
			args.Source = "none"
		}
	}

	// Mount and umount resolve and act with root's file access, as the
	// native root call they stand in for would (errno parity); only the
	// caller's namespace, root and cwd are taken.
	absolute := target[0] == '/' && (source == "" || source[0] == '/' || op == policy.MountNew)
	step := func(r resolver) (*mountEffect, error) {
		tfd, err := r.open(target)
		if err != nil {
			return nil, fmt.Errorf("mount: resolve target %q: %w", target, err)
		}
		defer func() {
			if tfd >= 0 { // the effect may have kept it
				linux.Close(tfd)
			}
		}()
		if args.Target, err = r.name(tfd); err != nil {
			return nil, err
		}
		sfd := -1
		if op == policy.MountBind || op == policy.MountMove {
			if sfd, err = r.open(source); err != nil {
				return nil, fmt.Errorf("mount: resolve source %q: %w", source, err)
			}
			defer linux.Close(sfd)
			if args.Source, err = r.name(sfd); err != nil {
				return nil, err
			}
		}
		if err := r.validate(c); err != nil {
			return nil, err
		}
		out.Decision = c.Profile.Decide(out.Request)
		out.Decided = true
		if out.Decision.Action != policy.ActionEmulate {
			return nil, nil
		}
		force := out.Decision.ForceFlags
		if op == policy.MountNew && r.mntns < 0 && monolithicOK[args.FSType] {
			if err := mountAt(args, attrs|force, tfd); err != nil {
				return nil, err
			}
			eff := &mountEffect{h: h, mfd: -1, tfd: tfd, tid: req.Pid, mntns: -1, target: args.Target, fstype: args.FSType, source: args.Source}
			tfd = -1
			return eff, nil
		}
		return h.mountAct(op, args, attrs, prop, rec, flags, force, tfd, sfd, req.Pid)
	}

	var eff *mountEffect
	err = h.inCallersView(c, absolute, func(r resolver) error {
		var err error
		if eff, err = step(r); eff != nil {
			// To take the mount off again should the caller never see
			// the answer, keep its namespace; without it, keep the mount.
			if eff.mntns, eff.ownNS, err = r.keepNS(); err != nil {
				eff.mntns = -1
			}
			err = nil
		}
		return err
	})
	if out.Settle(err) && eff != nil {
		out.Effect = eff
	}
}

// resolver opens a caller's path and names what it opened, as the caller
// sees it.
type resolver struct {
	dirfd  int // relative paths start here
	fdDir  int // names fds through this /proc/…/fd directory
	mntns  int // the caller's mount namespace; -1: the daemon's
	selfNS int // the daemon's mount namespace, with mntns -1
	// validated: the notification was checked after every read of
	// /proc/TID; otherwise validate must run before a decision.
	validated bool
}

// validate checks, once, that the notification is still pending, so that
// what was read from the caller's memory and from /proc/TID was the
// caller's (its TID not reused) before anything is decided on it.
func (r resolver) validate(c *Call) error {
	if r.validated {
		return nil
	}
	if err := c.Valid.IDValid(c.Req.ID); err != nil {
		return errGone
	}
	return nil
}

func (r resolver) open(p string) (int, error) {
	return linux.Openat2(r.dirfd, p, linux.O_PATH, linux.RESOLVE_NO_MAGICLINKS)
}

func (r resolver) name(fd int) (string, error) { return fdPathIn(r.fdDir, fd) }

// keepNS returns an fd on the caller's mount namespace, and whether the
// caller owns it: the daemon's own, opened once, is lent.
func (r resolver) keepNS() (int, bool, error) {
	if r.mntns >= 0 {
		fd, err := linux.Dup(r.mntns)
		return fd, true, err
	}
	return r.selfNS, false, nil
}

// inCallersView runs step with a resolver for the caller's view, by one
// of two roads:
//
//   - The caller shares the daemon's mount namespace and root (found on
//     /proc; the caller is blocked and cannot change either): paths
//     resolve from here as for the caller, so step runs on the session's
//     thread; it must not fchdir. For an absolute path nothing else is
//     read from /proc, and step validates the notification once, before
//     it decides (resolver.validate): one ID_VALID per call.
//   - Otherwise: on a worker thread that entered the caller's mount
//     namespace, root and cwd (nsexec), opened through /proc/TID and
//     validated before they are used.
func (h *Handlers) inCallersView(c *Call, absolute bool, step func(resolver) error) error {
	if h.sharesView(c.Req.Pid) {
		r := resolver{dirfd: linux.AT_FDCWD, fdDir: h.selfFdDir, mntns: -1, selfNS: h.selfNsFd}
		if !absolute {
			cwd, err := linux.Open(procDir(c.Req.Pid)+"/cwd", linux.O_PATH|linux.O_DIRECTORY, 0)
			if err != nil {
				return fmt.Errorf("open caller cwd: %w", err)
			}
			defer linux.Close(cwd)
			if err := c.Valid.IDValid(c.Req.ID); err != nil {
				return errGone
			}
			r.dirfd, r.validated = cwd, true
		}
		return step(r)
	}
	v, err := openView(c.Req.Pid, linux.AT_FDCWD, absolute, true)
	if err != nil {
		return err
	}
	defer v.close()
	if err := c.Valid.IDValid(c.Req.ID); err != nil {
		return errGone
	}
	return h.run(c, func(t *nsexec.Thread) error {
		fdDir, err := v.enter(t, 0o022)
		if err != nil {
			return err
		}
		return step(resolver{dirfd: linux.AT_FDCWD, fdDir: fdDir, mntns: v.mntns, validated: true})
	})
}

// mountAct does the decided mount on the resolved fds.
func (h *Handlers) mountAct(op policy.MountOp, args *policy.MountArgs, attrs, prop uint64, rec bool, flags, force uint64, tfd, sfd, tid int) (*mountEffect, error) {
	switch op {
	case policy.MountNew:
		mfd, err := newMount(args, attrs|force)
		if err != nil {
			return nil, err
		}
		if err := linux.MoveMount(mfd, tfd); err != nil {
			linux.Close(mfd)
			return nil, fmt.Errorf("mount %s: %w", args.Target, err)
		}
		return &mountEffect{h: h, mfd: mfd, tfd: -1, tid: tid, mntns: -1}, nil
	case policy.MountBind:
		mfd, err := linux.OpenTree(sfd, rec)
		if err != nil {
			return nil, fmt.Errorf("mount --bind %s: %w", args.Source, err)
		}
		// A bind keeps the source's flags (MS_BIND ignores the rest);
		// only what the policy forces is added.
		if set := mountAttrs(force); set != 0 {
			if err := linux.MountSetattr(mfd, rec, set, 0, 0); err != nil {
				linux.Close(mfd)
				return nil, fmt.Errorf("mount --bind %s: %w", args.Source, err)
			}
		}
		if err := linux.MoveMount(mfd, tfd); err != nil {
			linux.Close(mfd)
			return nil, fmt.Errorf("mount --bind %s %s: %w", args.Source, args.Target, err)
		}
		return &mountEffect{h: h, mfd: mfd, tfd: -1, tid: tid, mntns: -1}, nil
	case policy.MountRemount:
		return nil, remount(tfd, flags&policy.MS_BIND != 0, attrs|force, force, args.Options)
	case policy.MountPropagation:
		if err := mustBeMountRoot(tfd, args.Target); err != nil {
			return nil, err
		}
		return nil, linux.MountSetattr(tfd, rec, 0, 0, prop)
	case policy.MountMove:
		if err := mustBeMountRoot(sfd, args.Source); err != nil {
			return nil, err
		}
		return nil, linux.MoveMount(sfd, tfd)
	}
	return nil, nil
}

// monolithicOK lists filesystem types whose mount(2) data the kernel
// splits at commas and hands on option by option (the generic parser in
// fs/fs_context.c, or the legacy one, which joins them again): for these
// one mount(2) with the checked options joined is the same request as
// fsconfig(2) once per option. Others (nfs, cifs, overlay…) parse the
// string themselves and keep the fd-based road.
var monolithicOK = map[string]bool{
	"tmpfs": true, "ramfs": true, "ext2": true, "ext3": true, "ext4": true, "vfat": true,
	"exfat": true, "squashfs": true, "erofs": true, "iso9660": true,
}

// mountAt mounts a new filesystem on the resolved target fd with one
// mount(2) through the fd's magic link, where the daemon's namespace is
// the caller's: the fd-based API takes 6 or more syscalls (fsopen,
// fsconfig per option, fsmount, move_mount, close) for what mount(2)
// does in one, at 1–2.5 µs a syscall on the machines measured. The
// magic link lands on exactly the fd's mount and dentry (no walk after
// the jump), so a path swapped after the decision cannot move it.
func mountAt(a *policy.MountArgs, flags uint64, tfd int) error {
	opts := make([]string, len(a.Options))
	for i, o := range a.Options {
		opts[i] = o.String()
	}
	if err := linux.Mount(a.Source, "/proc/self/fd/"+strconv.Itoa(tfd), a.FSType, uintptr(flags&attrFlags), strings.Join(opts, ",")); err != nil {
		return fmt.Errorf("mount -t %s %s: %w", a.FSType, a.Target, err)
	}
	return nil
}

// newMount builds a detached mount of a new filesystem with the fd-based
// API: fsopen, fsconfig for the source and each option, fsmount.
func newMount(a *policy.MountArgs, flags uint64) (int, error) {
	fsfd, err := linux.Fsopen(a.FSType)
	if err != nil {
		return -1, fmt.Errorf("mount -t %s: %w", a.FSType, err)
	}
	defer linux.Close(fsfd)
	if err := linux.FsconfigString(fsfd, "source", a.Source); err != nil {
		return -1, fmt.Errorf("mount -t %s: %w", a.FSType, err)
	}
	if err := configure(fsfd, a.Options); err != nil {
		return -1, fmt.Errorf("mount -t %s %w", a.FSType, err)
	}
	for _, f := range sbFlags {
		if flags&f.bit != 0 {
			if err := linux.FsconfigFlag(fsfd, f.name); err != nil {
				return -1, fmt.Errorf("mount -t %s -o %s: %w", a.FSType, f.name, err)
			}
		}
	}
	if err := linux.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("mount -t %s: %w", a.FSType, err)
	}
	mfd, err := linux.Fsmount(fsfd, mountAttrs(flags))
	if err != nil {
		return -1, fmt.Errorf("mount -t %s: %w", a.FSType, err)
	}
	return mfd, nil
}

// configure passes each option to the filesystem context, one by one:
// the kernel sees exactly what the policy checked.
func configure(fsfd int, opts []policy.MountOption) error {
	for _, o := range opts {
		var err error
		if o.HasValue {
			err = linux.FsconfigString(fsfd, o.Name, o.Value)
		} else {
			err = linux.FsconfigFlag(fsfd, o.Name)
		}
		if err != nil {
			return fmt.Errorf("-o %s: %w", o.Name, err)
		}
	}
	return nil
}

// remount changes a mounted filesystem. With MS_BIND only the mount's
// flags change, to exactly those asked for (plus forced ones); without it
// the superblock is reconfigured with the options, and forced per-mount
// flags are kept.
func remount(tfd int, bind bool, flags, force uint64, opts []policy.MountOption) error {
	if err := mustBeMountRoot(tfd, ""); err != nil {
		return err
	}
	perMount := uint64(linux.MOUNT_ATTR_RDONLY | linux.MOUNT_ATTR_NOSUID | linux.MOUNT_ATTR_NODEV |
		linux.MOUNT_ATTR_NOEXEC | linux.MOUNT_ATTR__ATIME | linux.MOUNT_ATTR_NODIRATIME | linux.MOUNT_ATTR_NOSYMFOLLOW)
	if bind {
		set := mountAttrs(flags)
		clr := perMount &^ set
		if set&linux.MOUNT_ATTR__ATIME == 0 {
			clr &^= linux.MOUNT_ATTR__ATIME // relatime: leave the atime mode alone
		}
		return linux.MountSetattr(tfd, false, set, clr, 0)
	}
	fsfd, err := linux.Fspick(tfd)
	if err != nil {
		return err
	}
	defer linux.Close(fsfd)
	if err := configure(fsfd, opts); err != nil {
		return fmt.Errorf("remount %w", err)
	}
	if flags&policy.MS_RDONLY != 0 {
		if err := linux.FsconfigFlag(fsfd, "ro"); err != nil {
			return err
		}
	} else if err := linux.FsconfigFlag(fsfd, "rw"); err != nil {
		return err
	}
	if err := linux.FsconfigReconfigure(fsfd); err != nil {
		return err
	}
	if set := mountAttrs(force); set != 0 {
		return linux.MountSetattr(tfd, false, set, 0, 0)
	}
	return nil
}

// mustBeMountRoot: remount, propagation and move act on a mount, so the
// path must be one (EINVAL natively).
func mustBeMountRoot(fd int, p string) error {
	mi, err := linux.FdMountInfo(fd)
	if err != nil {
		return err
	}
	if !mi.MountRoot {
		return fmt.Errorf("%s is not a mount point: %w", p, linux.EINVAL)
	}
	return nil
}

// mountEffect is a mount an emulated mount(2) attached, to take it off
// again if the caller never saw the answer. It is known by one of:
//
//   - mfd, the mount's own fd (fd-based road), with the caller's mount
//     namespace;
//   - tfd, the mountpoint it was mounted on (mountAt, in the daemon's
//     namespace), with what was mounted: the mount is the one directly on
//     tfd with that type and source.
type mountEffect struct {
	h     *Handlers
	mfd   int
	mntns int
	ownNS bool // mntns is this effect's to close (not the daemon's own)
	tid   int

	tfd                    int
	target, fstype, source string
}

// Intact reports whether the mount is still attached in the caller's
// namespace (its id is in the caller's mountinfo), or, for a tfd effect,
// still directly on its mountpoint with nothing mounted over it.
func (m *mountEffect) Intact() bool {
	if m.tfd >= 0 {
		_, ok := m.onTarget()
		return ok
	}
	mi, err := linux.FdMountInfo(m.mfd)
	if err != nil {
		return false
	}
	f, err := os.Open(procDir(m.tid) + "/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	prefix := []byte(strconv.FormatUint(mi.MountID, 10) + " ")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), prefix) {
			return true
		}
	}
	return false
}

// onTarget finds, in the daemon's mountinfo (the caller's namespace and
// root for a tfd effect), the mount directly on tfd — parent tfd's mount,
// at the target path — with the type and source mountAt gave it, and
// reports whether it is the top one there (nothing mounted on its root).
// Only the top one is what umount2 through tfd's magic link takes off.
func (m *mountEffect) onTarget() (uint64, bool) {
	pm, err := linux.FdMountInfo(m.tfd)
	if err != nil {
		return 0, false
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	point := mountinfoEscape(m.target)
	type entry struct{ id, parent uint64 }
	var here []entry // mounts at the target path, in mount order
	ours := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[4] != point {
			continue
		}
		id, err1 := strconv.ParseUint(fields[0], 10, 64)
		parent, err2 := strconv.ParseUint(fields[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		here = append(here, entry{id, parent})
		sep := slices.Index(fields, "-")
		if parent == pm.MountID && sep > 0 && sep+2 < len(fields) &&
			fields[sep+1] == m.fstype && fields[sep+2] == mountinfoEscape(m.source) {
			ours = len(here) - 1
		}
	}
	if ours < 0 {
		return 0, false
	}
	for _, e := range here {
		if e.parent == here[ours].id {
			return 0, false // something is mounted over it
		}
	}
	return here[ours].id, true
}

// mountinfoEscape writes s as /proc/PID/mountinfo does: space, tab,
// newline and backslash as octal escapes (fs/proc_namespace.c).
func mountinfoEscape(s string) string {
	if !strings.ContainsAny(s, " \t\n\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Undo detaches the mount (MNT_DETACH: the caller may already have
// opened files on it, but it never learned the mount succeeded).
func (m *mountEffect) Undo() bool {
	if m.tfd >= 0 {
		// umount2 looks a mountpoint up past what is mounted on it
		// (LOOKUP_MOUNTPOINT in fs/namei.c; tested on 6.1 and 6.18):
		// through tfd's magic link that is the top mount on tfd, which
		// onTarget has just found to be ours.
		if _, ok := m.onTarget(); !ok {
			return false
		}
		return linux.Umount2("/proc/self/fd/"+strconv.Itoa(m.tfd), linux.MNT_DETACH) == nil
	}
	if m.mntns < 0 {
		return false
	}
	err := m.h.run(nil, func(t *nsexec.Thread) error {
		fdDir, err := t.FdDir()
		if err != nil {
			return err
		}
		if err := t.Setns(m.mntns); err != nil {
			return err
		}
		// umount2 takes only a path: name the mount by its fd, through
		// this thread's fd directory (opened before setns, so it is the
		// daemon's /proc, where this thread exists).
		if err := linux.Fchdir(fdDir); err != nil {
			return err
		}
		return linux.Umount2(strconv.Itoa(m.mfd), linux.MNT_DETACH)
	})
	return err == nil
}

func (m *mountEffect) Release() {
	if m.mfd >= 0 {
		linux.Close(m.mfd)
		m.mfd = -1
	}
	if m.tfd >= 0 {
		linux.Close(m.tfd)
		m.tfd = -1
	}
	if m.mntns >= 0 && m.ownNS {
		linux.Close(m.mntns)
	}
	m.mntns = -1
}

func (h *Handlers) umount(e *Entry, c *Call, out *Outcome) {
	req := c.Req
	tgtAddr, flags := req.Args[0], uint32(req.Args[1])
	if e.compat {
		tgtAddr &= 0xffffffff
	}
	if !e.umount2 {
		flags = 0 // legacy umount(2) has no flags
	}
	const known = policy.MNT_FORCE | policy.MNT_DETACH | policy.MNT_EXPIRE | policy.UMOUNT_NOFOLLOW
	if flags&^known != 0 || (flags&policy.MNT_EXPIRE != 0 && flags&(policy.MNT_FORCE|policy.MNT_DETACH) != 0) {
		out.fail(fmt.Errorf("umount2 flags %#x: %w", flags, linux.EINVAL), linux.EINVAL)
		return
	}
	args := &policy.UmountArgs{Flags: flags}
	out.Request = policy.Request{Syscall: e.Name, Umount: args}
	target, ok, err := h.readString(c, tgtAddr, linux.PathMax, nil)
	if err == nil && !ok {
		err = linux.EFAULT
	}
	if err != nil {
		out.fail(fmt.Errorf("umount: read target: %w", err), linux.EFAULT)
		return
	}
	// Validated before the decision, as for mount.
	if target == "" {
		out.fail(errors.New("umount: empty path"), linux.ENOENT)
		return
	}
	// Mount and umount resolve and act with root's file access, as the
	// native root call they stand in for would (errno parity); only the
	// caller's namespace, root and cwd are taken.
	step := func(r resolver) error {
		// Most paths: the last component as written, from its parent as
		// the caller resolves it.
		if dir, name, ok := lastComponent(target); ok {
			pfd, err := linux.Openat2(r.dirfd, dir, linux.O_PATH|linux.O_DIRECTORY, linux.RESOLVE_NO_MAGICLINKS)
			if err != nil {
				return fmt.Errorf("umount %q: %w", target, err)
			}
			defer linux.Close(pfd)
			if follow, err := h.umountAt(c, out, args, r, pfd, name, true); !follow {
				return err
			}
		}
		// A dot, a trailing slash or a symlink the kernel would follow:
		// resolve the whole path as the caller would, then go by the
		// resolved parent, taken without following anything.
		oflags := uint64(linux.O_PATH)
		if flags&policy.UMOUNT_NOFOLLOW != 0 {
			oflags |= linux.O_NOFOLLOW
		}
		tfd, err := linux.Openat2(r.dirfd, target, oflags, linux.RESOLVE_NO_MAGICLINKS)
		if err != nil {
			return fmt.Errorf("umount %q: %w", target, err)
		}
		resolved, err := r.name(tfd)
		linux.Close(tfd)
		if err != nil {
			return err
		}
		dir, name := path.Split(resolved)
		if name == "" { // the caller's root itself
			return fmt.Errorf("umount %s: %w", resolved, linux.EBUSY)
		}
		pfd, err := linux.Openat2(linux.AT_FDCWD, dir, linux.O_PATH|linux.O_DIRECTORY, linux.RESOLVE_NO_MAGICLINKS|linux.RESOLVE_NO_SYMLINKS)
		if err != nil {
			return fmt.Errorf("umount %s: %w", resolved, err)
		}
		defer linux.Close(pfd)
		_, err = h.umountAt(c, out, args, r, pfd, name, false)
		return err
	}
	err = h.inCallersView(c, target[0] == '/', step)
	if out.Settle(err) {
		out.Effect = &umountEffect{}
	}
}

// umountEffect stands for a mount an emulated umount2 took off. That
// cannot be put back; what it gives is the answer to the restart: a
// caller that never saw the answer (its notification withdrawn by a
// signal, without WAIT_KILLABLE_RECV) restarts umount2 and would find
// nothing mounted (EINVAL). Undo, which dispatch calls only then, arms
// Intact, so that restart alone — same thread, call site and arguments —
// is answered as the first call was. An answer the caller did see arms
// nothing: a second umount2 of stacked mounts is a call of its own.
type umountEffect struct{ cancelled bool }

func (u *umountEffect) Undo() bool   { u.cancelled = true; return false }
func (u *umountEffect) Intact() bool { return u.cancelled }
func (u *umountEffect) Release()     {}

// lastComponent splits a umount2 target into its parent and last
// component, unless the last is "", "." or ".." (a trailing slash or a
// dot), which only resolving the whole path can name.
func lastComponent(target string) (dir, name string, ok bool) {
	dir, name = path.Split(target)
	if name == "" || name == "." || name == ".." {
		return "", "", false
	}
	switch {
	case dir == "":
		dir = "."
	case len(dir) > 1:
		dir = dir[:len(dir)-1] // the walk of "a/b/" and "a/b" is the same
	}
	return dir, name, true
}

// umountAt unmounts what is at name in the pinned directory pfd, if the
// policy allows: name is opened from pfd without being followed and named
// by readlink (the kernel's name for what is there, not the caller's
// spelling, which a case-insensitive directory would take for another's),
// the fd closed again (one on the mount would make it busy), the policy
// decides on that name, and umount2 takes name from pfd, not following
// it. A mount point cannot be renamed (EBUSY), so what comes off is the
// mount at the path decided on.
//
// mayFollow: name is the caller's own last component, which the kernel
// follows if it is a symlink and the caller did not say UMOUNT_NOFOLLOW.
// Then follow reports, with nothing decided, that the caller's path must
// be resolved whole instead. It is asked only where the answer would
// differ: a refusal, or umount2's EINVAL.
func (h *Handlers) umountAt(c *Call, out *Outcome, args *policy.UmountArgs, r resolver, pfd int, name string, mayFollow bool) (follow bool, err error) {
	lfd, err := linux.Openat2(pfd, name, linux.O_PATH|linux.O_NOFOLLOW, linux.RESOLVE_NO_MAGICLINKS)
	if err != nil {
		return false, fmt.Errorf("umount %q: %w", name, err)
	}
	args.Target, err = r.name(lfd)
	linux.Close(lfd)
	if err != nil {
		return false, err
	}
	isLink := func() bool {
		var st linux.Stat
		return mayFollow && args.Flags&policy.UMOUNT_NOFOLLOW == 0 &&
			linux.Fstatat(pfd, name, &st, linux.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&linux.S_IFMT == linux.S_IFLNK
	}
	if err := r.validate(c); err != nil {
		return false, err
	}
	out.Decision = c.Profile.Decide(out.Request)
	out.Decided = true
	if out.Decision.Action != policy.ActionEmulate {
		if isLink() {
			out.Decided = false
			return true, nil
		}
		return false, nil
	}
	flags := int(args.Flags | policy.UMOUNT_NOFOLLOW)
	if r.mntns < 0 {
		// The daemon's own namespace: reach the name through the pinned
		// directory's magic link, on the session's thread (no fchdir).
		err = linux.Umount2("/proc/self/fd/"+strconv.Itoa(pfd)+"/"+name, flags)
	} else if err = linux.Fchdir(pfd); err == nil {
		// In another namespace that /proc walk fails (the magic link
		// resolves, the walk below it does not): name it from pfd as the
		// cwd of the worker thread that entered the namespace.
		err = linux.Umount2(name, flags)
	}
	if errors.Is(err, linux.EINVAL) && isLink() {
		out.Decided = false
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("umount %s: %w", args.Target, err)
	}
	return false, nil
}
