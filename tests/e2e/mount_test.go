package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// mountPolicy grants uid 65534 tmpfs mounts (forced nosuid,nodev; size at
// most 16m) and binds from DIR/data onto DIR/mnt*, and their unmounting.
func mountPolicy(dir string) string {
	return strings.ReplaceAll(`version = 1

[[profile]]
name = "mounts"
  [profile.match]
  uid = [65534]

  [[profile.rule]]
  name = "scratch-tmpfs"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["new"]
    fstype = ["tmpfs"]
    target = ["DIR/mnt*"]
    force_flags = ["nosuid", "nodev"]
    allow_flags = ["ro", "noexec"]
      [profile.rule.mount.options]
      size = "<=16m"
      mode = "0755|1777"

  [[profile.rule]]
  name = "data-bind"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["bind", "rbind"]
    source = ["DIR/data", "DIR/data/*"]
    target = ["DIR/mnt*"]
    force_flags = ["nosuid", "nodev"]

  [[profile.rule]]
  name = "scratch-umount"
  syscall = "umount"
  action = "emulate"
    [profile.rule.umount]
    target = ["DIR/mnt*"]
    flags = ["detach", "nofollow"]
`, "DIR", dir)
}

// mountAt returns the mountinfo line of the topmost mount at dir in pid's
// namespace ("self" for the test's), or "".
func mountAt(t *testing.T, pid, dir string) string {
	t.Helper()
	f, err := os.Open("/proc/" + pid + "/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	last := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 5 && fields[4] == dir {
			last = sc.Text()
		}
	}
	return last
}

func mkdirs(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.MkdirAll(p, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, 0o777)
	}
}

func TestMountTmpfsInHostNamespace(t *testing.T) {
	d := startDaemonPolicy(t, notify.ServerConfig{}, mountPolicy)
	mnt, other := filepath.Join(d.dir, "mnt1"), filepath.Join(d.dir, "other")
	mkdirs(t, mnt, other)
	tr := d.tracee(t, testutil.TraceeOptions{})
	mount := func(target, fstype string, flags uint64, data string) linux.Errno {
		return linux.Errno(tr.Do(t, testutil.Command{Op: "mount", Source: fstype, Path: target, FSType: fstype, Flags: flags, Data: data}).Errno)
	}
	t.Cleanup(func() { linux.Umount2(mnt, linux.MNT_DETACH) })

	if e := mount(mnt, "tmpfs", policy.MS_NOEXEC, "size=8m,mode=1777"); e != 0 {
		t.Fatalf("granted tmpfs mount: %v", e)
	}
	line := mountAt(t, "self", mnt)
	if line == "" {
		t.Fatal("granted mount not in the host's mountinfo")
	}
	opts := strings.Fields(line)[5]
	for _, want := range []string{"nosuid", "nodev", "noexec"} {
		if !strings.Contains(","+opts+",", ","+want+",") {
			t.Errorf("mount options %q lack %s (forced or asked)", opts, want)
		}
	}
	if !strings.Contains(line, " - tmpfs ") || !strings.Contains(line, "size=8192k") {
		t.Errorf("mountinfo: %s", line)
	}

	refused := []struct {
		name, target, fstype, data string
		flags                      uint64
	}{
		{"fstype not allowed", other, "ramfs", "", 0},
		{"target not allowed", other, "tmpfs", "size=1m", 0},
		{"unknown option", filepath.Join(d.dir, "mnt2"), "tmpfs", "size=1m,nr_inodes=10", 0},
		{"size over the bound", filepath.Join(d.dir, "mnt2"), "tmpfs", "size=1g", 0},
		{"flag not allowed", filepath.Join(d.dir, "mnt2"), "tmpfs", "size=1m", policy.MS_SYNCHRONOUS},
	}
	mkdirs(t, filepath.Join(d.dir, "mnt2"))
	for _, c := range refused {
		if e := mount(c.target, c.fstype, c.flags, c.data); e != linux.EPERM {
			t.Errorf("%s: errno %v, want EPERM", c.name, e)
		}
		if l := mountAt(t, "self", c.target); l != "" {
			t.Errorf("%s: something was mounted: %s", c.name, l)
		}
	}
	// Errno parity for what a native root mount would refuse.
	if e := mount(filepath.Join(d.dir, "mnt-missing"), "tmpfs", 0, ""); e != linux.ENOENT {
		t.Errorf("missing target: errno %v, want ENOENT", e)
	}

	// An unrelated mount (the test's own) cannot be unmounted; the granted
	// one can.
	if err := linux.Mount("tmpfs", other, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	defer linux.Umount2(other, linux.MNT_DETACH)
	umount := func(target string, flags uint64) linux.Errno {
		return linux.Errno(tr.Do(t, testutil.Command{Op: "umount2", Path: target, Flags: flags}).Errno)
	}
	if e := umount(other, 0); e != linux.EPERM {
		t.Errorf("umount of an unrelated mount: errno %v, want EPERM", e)
	}
	if mountAt(t, "self", other) == "" {
		t.Error("the unrelated mount is gone")
	}
	if e := umount(mnt, 1 /* MNT_FORCE */); e != linux.EPERM {
		t.Errorf("umount with MNT_FORCE (not allowed): errno %v, want EPERM", e)
	}
	if e := umount(mnt, 0); e != 0 {
		t.Fatalf("umount of the granted mount: %v", e)
	}
	if l := mountAt(t, "self", mnt); l != "" {
		t.Errorf("still mounted: %s", l)
	}
	if e := umount(mnt, 0); e != linux.EINVAL {
		t.Errorf("umount of what is no longer a mount: errno %v, want EINVAL", e)
	}
}

func TestMountInCallersOwnNamespace(t *testing.T) {
	d := startDaemonPolicy(t, notify.ServerConfig{}, mountPolicy)
	mnt := filepath.Join(d.dir, "mnt1")
	mkdirs(t, mnt)
	tr := d.tracee(t, testutil.TraceeOptions{NewMountNS: true})
	if e := linux.Errno(tr.Do(t, testutil.Command{Op: "mount", Source: "tmpfs", Path: mnt, FSType: "tmpfs", Data: "size=1m"}).Errno); e != 0 {
		t.Fatalf("mount in the caller's namespace: %v", e)
	}
	if mountAt(t, strconv.Itoa(tr.Pid), mnt) == "" {
		t.Error("the mount is not in the caller's namespace")
	}
	if l := mountAt(t, "self", mnt); l != "" {
		linux.Umount2(mnt, linux.MNT_DETACH)
		t.Errorf("the mount leaked into the host namespace: %s", l)
	}
}

func TestBindMountSourceMustBeInTree(t *testing.T) {
	d := startDaemonPolicy(t, notify.ServerConfig{}, mountPolicy)
	data, secret, mnt := filepath.Join(d.dir, "data"), filepath.Join(d.dir, "secret"), filepath.Join(d.dir, "mnt1")
	mkdirs(t, filepath.Join(data, "x"), secret, mnt)
	os.Symlink("../secret", filepath.Join(data, "link"))
	tr := d.tracee(t, testutil.TraceeOptions{})
	bind := func(src string, flags uint64) linux.Errno {
		return linux.Errno(tr.Do(t, testutil.Command{Op: "mount", Source: src, Path: mnt, Flags: policy.MS_BIND | flags}).Errno)
	}
	t.Cleanup(func() {
		for mountAt(t, "self", mnt) != "" {
			linux.Umount2(mnt, linux.MNT_DETACH)
		}
	})
	for _, src := range []string{secret, filepath.Join(data, "..", "secret"), filepath.Join(data, "link")} {
		if e := bind(src, 0); e != linux.EPERM {
			t.Errorf("bind of %s (outside data): errno %v, want EPERM", src, e)
		}
		if l := mountAt(t, "self", mnt); l != "" {
			t.Fatalf("bind of %s landed: %s", src, l)
		}
	}
	if e := bind(filepath.Join(data, "x"), 0); e != 0 {
		t.Fatalf("bind of an allowed source: %v", e)
	}
	line := mountAt(t, "self", mnt)
	if line == "" || !strings.Contains(strings.Fields(line)[5], "nosuid") {
		t.Errorf("bind mount missing or without forced nosuid: %q", line)
	}
	if e := bind(data, policy.MS_REC); e != 0 {
		t.Errorf("recursive bind of an allowed source: %v", e)
	}
}

// Neither a symlink swapped under the target nor a thread rewriting the
// target buffer can move a granted mount outside the allowed targets.
func TestMountRaces(t *testing.T) {
	d := startDaemonPolicy(t, notify.ServerConfig{}, mountPolicy)
	// Same length, so the buffer race can swap one for the other.
	allowed, denied := filepath.Join(d.dir, "mnt-race"), filepath.Join(d.dir, "den-race")
	mkdirs(t, allowed, denied)
	t.Cleanup(func() {
		for _, p := range []string{allowed, denied} {
			for mountAt(t, "self", p) != "" {
				linux.Umount2(p, linux.MNT_DETACH)
			}
		}
	})
	n := testutil.Scaled(10000)
	tr := d.tracee(t, testutil.TraceeOptions{})
	r := tr.Do(t, testutil.Command{Op: "mountrace_link", Dir: d.dir, Path: filepath.Join(d.dir, "link"),
		Source: allowed, Alt: denied, FSType: "tmpfs", Data: "size=1m", N: n})
	t.Logf("symlink race: %d attempts, %d mounted (and unmounted), %d EPERM, %d other", n, r.OK, r.Other, r.Exist)
	if l := mountAt(t, "self", denied); l != "" {
		t.Fatalf("a mount landed outside the allowed targets: %s", l)
	}
	if r.OK == 0 || r.Other == 0 {
		t.Errorf("the race never went both ways (%+v): it proved nothing", r)
	}

	// The buffer race: the same length paths, rewritten byte by byte.
	r = tr.Do(t, testutil.Command{Op: "mountrace_buf", Path: allowed, Alt: denied,
		FSType: "tmpfs", Data: "size=1m", N: n})
	t.Logf("buffer race: %d attempts, %d mounted (and unmounted)", n, r.OK)
	if l := mountAt(t, "self", denied); l != "" {
		t.Fatalf("a mount landed outside the allowed targets: %s", l)
	}
	// Every granted mount was taken off again: nothing may remain under
	// the scratch directory, wherever a half-rewritten path pointed.
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 5 && strings.HasPrefix(fields[4], d.dir+"/") {
			t.Errorf("left mounted: %s", sc.Text())
		}
	}
}

// A signal that withdraws the notification after fgacd mounted makes the
// caller restart mount(2): fgacd must take its mount off again (or the
// restarted call stacks a second one), whichever road made it. A
// withdrawn umount2 is answered again on its restart (it would find
// nothing mounted: EINVAL); only the kernel's own window, where SEND
// succeeds and the call restarts anyway (seen with mknod), can still give
// one now and then.
func TestMountUndoneWhenTheCallerRestarts(t *testing.T) {
	d := startDaemonPolicy(t, notify.ServerConfig{}, mountPolicy)
	for _, c := range []struct {
		name string
		o    testutil.TraceeOptions
	}{
		{"daemon's namespace", testutil.TraceeOptions{}},
		{"own namespace", testutil.TraceeOptions{NewMountNS: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mnt := filepath.Join(d.dir, "mnt-hammer")
			mkdirs(t, mnt)
			t.Cleanup(func() {
				for mountAt(t, "self", mnt) != "" {
					linux.Umount2(mnt, linux.MNT_DETACH)
				}
			})
			undone0 := d.counter(t, "fgacd_emulations_undone_total", nil)
			tr := d.tracee(t, c.o) // no WAIT_KILLABLE_RECV: signals withdraw notifications
			n := testutil.Scaled(1000)
			r := tr.Do(t, testutil.Command{Op: "mount_hammer", Path: mnt, FSType: "tmpfs", Data: "size=1m", N: n})
			undone := d.counter(t, "fgacd_emulations_undone_total", nil) - undone0
			t.Logf("%d mounts: %d ok, %d failed, %d umounts failed; %d signals; %v undone", n, r.OK, r.Other, r.Exist, r.Sigs, undone)
			if r.Other != 0 || r.OK != n {
				t.Fatalf("mounts failed under signals: %+v", r)
			}
			if r.Exist*50 > n {
				t.Errorf("%d of %d umounts failed under signals: restarts not answered", r.Exist, n)
			}
			if l := mountAt(t, strconv.Itoa(tr.Pid), mnt); l != "" {
				t.Fatalf("a mount was left behind (an interrupted one not undone): %s", l)
			}
			if r.Sigs == 0 {
				t.Fatal("no signal was sent; the test proved nothing")
			}
		})
	}
}

// umount2 takes the path as the caller's own umount2 would, on both roads
// (the daemon's namespace, and the caller's own through a worker thread):
// a symlink in the last place is followed unless the caller says
// UMOUNT_NOFOLLOW, and the policy decides on where it leads; relative
// paths start at the caller's cwd; a trailing slash is a directory's.
func TestUmountResolvesAsTheCaller(t *testing.T) {
	d := startDaemonPolicy(t, notify.ServerConfig{}, mountPolicy)
	mnt, other := filepath.Join(d.dir, "mnt1"), filepath.Join(d.dir, "other")
	mkdirs(t, mnt, other)
	// Mounted before the tracees start, so that a tracee's own namespace
	// has its copy.
	if err := linux.Mount("tmpfs", other, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range []string{mnt, other} {
			for mountAt(t, "self", p) != "" {
				linux.Umount2(p, linux.MNT_DETACH)
			}
		}
	})
	// Both names match the policy's DIR/mnt*; only one leads there.
	os.Symlink(other, filepath.Join(d.dir, "mnt-evil"))
	os.Symlink(mnt, filepath.Join(d.dir, "mnt-link"))
	for _, c := range []struct {
		name string
		o    testutil.TraceeOptions
	}{
		{"daemon's namespace", testutil.TraceeOptions{Dir: d.dir}},
		{"own namespace", testutil.TraceeOptions{Dir: d.dir, NewMountNS: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := d.tracee(t, c.o)
			pid := strconv.Itoa(tr.Pid)
			mount := func() {
				t.Helper()
				if e := linux.Errno(tr.Do(t, testutil.Command{Op: "mount", Source: "tmpfs", Path: mnt, FSType: "tmpfs", Data: "size=1m"}).Errno); e != 0 {
					t.Fatalf("granted mount: %v", e)
				}
			}
			umount := func(target string, flags uint64) linux.Errno {
				return linux.Errno(tr.Do(t, testutil.Command{Op: "umount2", Path: target, Flags: flags}).Errno)
			}
			if e := umount(filepath.Join(d.dir, "mnt-evil"), 0); e != linux.EPERM {
				t.Errorf("umount through a symlink to a mount not allowed: errno %v, want EPERM", e)
			}
			if e := umount(filepath.Join(d.dir, "mnt-evil"), policy.UMOUNT_NOFOLLOW); e != linux.EINVAL {
				t.Errorf("umount of the symlink itself (UMOUNT_NOFOLLOW): errno %v, want EINVAL", e)
			}
			if mountAt(t, pid, other) == "" {
				t.Fatal("the mount the symlink leads to was taken off")
			}
			for _, target := range []string{filepath.Join(d.dir, "mnt-link"), "mnt1", "./mnt1/", mnt + "/"} {
				mount()
				if e := umount(target, 0); e != 0 {
					t.Errorf("umount %q: %v", target, e)
				}
				if l := mountAt(t, pid, mnt); l != "" {
					t.Fatalf("umount %q left it mounted: %s", target, l)
				}
			}
		})
	}
}
