package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/notify"
)

func lstat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return &st
}

func absent(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Errorf("%s exists (or %v); it must not", p, err)
	}
}

func TestMknodGrantedAndDenied(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := d.tracee(t, testutil.TraceeOptions{})
	null := linux.Mkdev(1, 3)

	granted := filepath.Join(d.dir, "null")
	if e := tr.Mknod(t, "", granted, linux.S_IFCHR|0o666, null); e != 0 {
		t.Fatalf("granted mknod: %v", e)
	}
	st := lstat(t, granted)
	if st.Mode&linux.S_IFMT != linux.S_IFCHR || st.Rdev != null {
		t.Errorf("node: mode %#o rdev %#x, want char 1:3", st.Mode, st.Rdev)
	}
	if st.Mode&0o7777 != 0o644 { // 0666 &^ umask 022
		t.Errorf("permissions %#o, want 0644 (0666 after umask 022)", st.Mode&0o7777)
	}
	if st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("owner %d:%d, want the caller's 65534:65534", st.Uid, st.Gid)
	}

	cases := []struct {
		name string
		path string
		mode uint32
		dev  uint64
		want linux.Errno
	}{
		{"block device not granted", "sda", linux.S_IFBLK | 0o600, linux.Mkdev(8, 0), linux.EPERM},
		{"other char device", "mem", linux.S_IFCHR | 0o600, linux.Mkdev(1, 1), linux.EPERM},
		{"outside the granted tree", "/tmp/fgacd-e2e-denied", linux.S_IFCHR | 0o666, null, linux.EPERM},
		{"exists already", granted, linux.S_IFCHR | 0o666, null, linux.EEXIST},
		{"missing parent", "nodir/x", linux.S_IFCHR | 0o666, null, linux.ENOENT},
	}
	for _, c := range cases {
		p := c.path
		if !filepath.IsAbs(p) {
			p = filepath.Join(d.dir, p)
		}
		if e := tr.Mknod(t, "", p, c.mode, c.dev); e != c.want {
			t.Errorf("%s: errno %v, want %v", c.name, e, c.want)
		}
		if c.want == linux.EPERM {
			absent(t, p)
		}
	}
}

func TestMknodResolvesInCallersView(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := d.tracee(t, testutil.TraceeOptions{Umask: 0o077})
	null := linux.Mkdev(1, 3)

	// Relative to the caller's cwd (d.dir), not the daemon's.
	if e := tr.Mknod(t, "", "rel", linux.S_IFCHR|0o666, null); e != 0 {
		t.Fatalf("relative mknod: %v", e)
	}
	if st := lstat(t, filepath.Join(d.dir, "rel")); st.Mode&0o7777 != 0o600 {
		t.Errorf("permissions %#o, want 0600 after the caller's umask 077", st.Mode&0o7777)
	}
	// Relative to a dirfd the caller holds.
	sub := filepath.Join(d.dir, "sub")
	os.Mkdir(sub, 0o777)
	os.Chmod(sub, 0o777)
	if e := tr.Mknod(t, sub, "viafd", linux.S_IFIFO|0o644, 0); e != 0 {
		t.Fatalf("dirfd mknod: %v", e)
	}
	if st := lstat(t, filepath.Join(sub, "viafd")); st.Mode&linux.S_IFMT != linux.S_IFIFO {
		t.Errorf("viafd: mode %#o, want a FIFO", st.Mode)
	}
	// The policy sees the resolved path: sub/../.. climbs out of the
	// granted tree, and a symlink into it does not make an outside path
	// inside.
	if e := tr.Mknod(t, sub, "../../escape", linux.S_IFCHR|0o666, null); e != linux.EPERM {
		t.Errorf("dirfd escape with ..: errno %v, want EPERM", e)
	}
	absent(t, filepath.Join(filepath.Dir(d.dir), "escape"))
	outside := testutil.PublicTempDir(t)
	link := filepath.Join(d.dir, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	if e := tr.Mknod(t, "", filepath.Join(link, "x"), linux.S_IFCHR|0o666, null); e != linux.EPERM {
		t.Errorf("through a symlink out of the tree: errno %v, want EPERM", e)
	}
	absent(t, filepath.Join(outside, "x"))
	// Parent is a file: the native errno.
	if e := tr.Mknod(t, "", filepath.Join(d.dir, "rel", "x"), linux.S_IFCHR|0o666, null); e != linux.ENOTDIR {
		t.Errorf("parent is a device node: errno %v, want ENOTDIR", e)
	}
	// The caller gets CAP_MKNOD, not root's file access: a granted path
	// in a directory it cannot write fails as natively.
	locked := filepath.Join(d.dir, "locked")
	os.Mkdir(locked, 0o755)
	if e := tr.Mknod(t, "", filepath.Join(locked, "n"), linux.S_IFCHR|0o666, null); e != linux.EACCES {
		t.Errorf("granted path in a root-owned 0755 directory: errno %v, want EACCES", e)
	}
	absent(t, filepath.Join(locked, "n"))
	// A pointer into nowhere.
	if r := tr.Do(t, testutil.Command{Op: "mknodat_ptr", Addr: 0x10, Mode: linux.S_IFCHR | 0o666, Dev: null}); linux.Errno(r.Errno) != linux.EFAULT {
		t.Errorf("bad path pointer: errno %v, want EFAULT", linux.Errno(r.Errno))
	}
}

func TestUnmatchedCallerIsDenied(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := d.tracee(t, testutil.TraceeOptions{UID: 1000, GID: 1000})
	p := filepath.Join(d.dir, "null")
	if e := tr.Mknod(t, "", p, linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != linux.EPERM {
		t.Fatalf("caller matching no profile: errno %v, want EPERM", e)
	}
	absent(t, p)
	if n := d.counter(t, "fgacd_sessions_unmatched_total", nil); n != 1 {
		t.Errorf("fgacd_sessions_unmatched_total = %v, want 1", n)
	}
}
