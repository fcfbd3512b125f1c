package oci

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fgacd/fgacd/internal/linux"
)

// The container's process is uid 0 with no capability at all: whatever
// it gets beyond that, fgacd granted.
const noCaps = "CapEff:\t0000000000000000"

// testMeta and testAnnotations select profile oci-test.
var testAnnotations = map[string]string{"org.fgacd.profile": "oci-test"}

const testMeta = "oci-test-main"

// A granted mknod (char 1:3, the policy's null twin) takes effect in the
// container's root: the node is in the rootfs's /tmp, not the host's, and
// one made in the container's /dev tmpfs works as a null device.
func TestGrantedMknodInContainer(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, l *lab) {
		d := l.startDaemon(t)
		// A name no one else uses, so that its absence on the host means
		// something.
		node := "/tmp/fgacd-oci-node-" + strconv.Itoa(os.Getpid())
		c := l.run(t, box{listener: d.socket, metadata: testMeta, annotations: testAnnotations, script: strings.ReplaceAll(`
grep CapEff /proc/self/status
mknod NODE c 1 3 && stat -c '%t %T %F' NODE
mknod /dev/fgacd-null c 1 3 && echo swallowed > /dev/fgacd-null && cat /dev/fgacd-null && stat -c 'dev %t %T %F' /dev/fgacd-null
`, "NODE", node)})
		c.wantLines(t, noCaps, "1 3 character special file", "dev 1 3 character special file")
		if strings.Contains(c.stdout.String(), "swallowed") {
			t.Errorf("/dev/fgacd-null is not a null device\n%s", c.output())
		}

		var st syscall.Stat_t
		if err := syscall.Lstat(l.host(node), &st); err != nil {
			t.Fatalf("node not in the container's rootfs: %v", err)
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFCHR || linux.DevMajor(st.Rdev) != 1 || linux.DevMinor(st.Rdev) != 3 {
			t.Errorf("rootfs node: mode %#o rdev %d:%d, want char 1:3", st.Mode, linux.DevMajor(st.Rdev), linux.DevMinor(st.Rdev))
		}
		absent(t, node)                      // the host's /tmp
		absent(t, "/dev/fgacd-null")         // the host's /dev
		absent(t, l.host("/dev/fgacd-null")) // the container's /dev is its own tmpfs

		recs := d.sessionRecords(t, c.id)
		wantProfile(t, recs, "oci-test")
		wantDecisions(t, recs, "oci-test",
			decision{"mknod", node, "emulate", "null-twin", ""},
			decision{"mknod", "/dev/fgacd-null", "emulate", "null-twin", ""})
	})
}

// Refused mknods — a block device, another char device, a path outside
// the grant — fail with EPERM and leave nothing behind.
func TestRefusedMknod(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, l *lab) {
		d := l.startDaemon(t)
		c := l.run(t, box{listener: d.socket, metadata: testMeta, annotations: testAnnotations, script: `
mknod /tmp/blk b 8 0; echo blk=$?
test -e /tmp/blk && echo blk-exists || echo blk-absent
mknod /tmp/zero c 1 5; echo zero=$?
mknod /data/null c 1 3; echo data=$?
`})
		c.wantLines(t, "blk=1", "blk-absent", "zero=1", "data=1")
		c.wantStderr(t,
			"mknod: /tmp/blk: Operation not permitted",
			"mknod: /tmp/zero: Operation not permitted",
			"mknod: /data/null: Operation not permitted")
		absent(t, l.host("/tmp/blk"))
		absent(t, l.host("/tmp/zero"))
		absent(t, l.host("/data/null"))

		recs := d.sessionRecords(t, c.id)
		wantDecisions(t, recs, "oci-test",
			decision{"mknod", "/tmp/blk", "deny", "", "EPERM"},
			decision{"mknod", "/tmp/zero", "deny", "", "EPERM"},
			decision{"mknod", "/data/null", "deny", "", "EPERM"})
	})
}

// mountsAt returns the mountinfo lines of pid ("self" for the test's own)
// whose mount point is dir.
func mountsAt(t *testing.T, pid, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/" + pid + "/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 5 && fields[4] == dir {
			out = append(out, sc.Text())
		}
	}
	return out
}

func hasOpts(opts string, want ...string) bool {
	for _, w := range want {
		if !strings.Contains(","+opts+",", ","+w+",") {
			return false
		}
	}
	return true
}

// A granted tmpfs mount on /mnt happens in the container's mount namespace
// only, with the forced nosuid,nodev; its umount is granted too; other
// mounts (too big, another target, another type) and other umounts fail
// with EPERM.
//
// busybox mount always adds MS_SILENT unless told "loud"; the granted
// mounts say loud (see the test report: fgacd currently hands MS_SILENT
// to fsconfig as "silent", which tmpfs rejects with EINVAL).
func TestTmpfsMountInContainer(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, l *lab) {
		d := l.startDaemon(t)
		c := l.start(t, box{listener: d.socket, metadata: testMeta, annotations: testAnnotations, script: `
grep CapEff /proc/self/status
mount -t tmpfs -o loud,size=1m tmpfs /mnt || exit 10
grep ' /mnt ' /proc/mounts
echo inside > /mnt/file
echo > /tmp/mounted
while ! test -e /tmp/checked; do sleep 0.02; done
cat /mnt/file
umount /mnt; echo umount=$?
echo mnt-mounts=$(grep -c ' /mnt ' /proc/mounts)
mount -t tmpfs -o loud,size=1g tmpfs /mnt; echo big=$?
mount -t tmpfs -o loud,size=1m tmpfs /data; echo data=$?
mount -t proc proc /mnt; echo proc=$?
umount /proc; echo umount-proc=$?
echo mnt-mounts=$(grep -c -e ' /mnt ' -e ' /data ' /proc/mounts)
`})
		c.waitFile(t, l.host("/tmp/mounted"))

		// While it is mounted: in the container's namespace, not the host's.
		pid := l.rt.pid(t, c.id)
		in := mountsAt(t, strconv.Itoa(pid), "/mnt")
		if len(in) != 1 {
			t.Errorf("container's mountinfo at /mnt: %q, want one tmpfs", in)
		} else if f := strings.Fields(in[0]); !hasOpts(f[5], "nosuid", "nodev") || !strings.Contains(in[0], " - tmpfs ") {
			t.Errorf("container's /mnt: %s; want tmpfs with nosuid,nodev", in[0])
		}
		if host := mountsAt(t, "self", l.host("/mnt")); len(host) != 0 {
			t.Errorf("the container's mount shows in the host's mountinfo: %q", host)
		}
		for _, line := range mountsAt(t, "self", "/mnt") {
			if strings.Contains(line, "size=1024k") {
				t.Errorf("a 1m tmpfs on the host's /mnt: %s", line)
			}
		}
		absent(t, l.host("/mnt/file")) // written to the tmpfs, not the rootfs
		if err := os.WriteFile(l.host("/tmp/checked"), nil, 0o644); err != nil {
			t.Fatal(err)
		}

		c.wait(t)
		if c.err != nil {
			t.Fatalf("%s run: %v\n%s", l.rt.name, c.err, c.output())
		}
		c.wantLines(t, noCaps, "inside", "umount=0", "mnt-mounts=0", "big=1", "data=1", "proc=1", "umount-proc=1")
		var procLine string
		for _, line := range c.lines() {
			if strings.HasPrefix(line, "tmpfs /mnt ") {
				procLine = line
			}
		}
		if f := strings.Fields(procLine); len(f) < 4 || !hasOpts(f[3], "nosuid", "nodev", "size=1024k") {
			t.Errorf("/proc/mounts inside: %q; want nosuid,nodev,size=1024k\n%s", procLine, c.output())
		}
		// busybox says this for EPERM (and EACCES): the decisions below
		// name the errno.
		if n := strings.Count(c.stderr.String(), "mount: permission denied (are you root?)"); n != 3 {
			t.Errorf("%d mounts refused, want 3\n%s", n, c.output())
		}
		c.wantStderr(t, "umount: can't unmount /proc: Operation not permitted")

		recs := d.sessionRecords(t, c.id)
		wantDecisions(t, recs, "oci-test",
			decision{"mount", "/mnt", "emulate", "scratch-tmpfs", ""},
			decision{"umount", "/mnt", "emulate", "scratch-umount", ""},
			decision{"mount", "/mnt", "deny", "", "EPERM"},
			decision{"mount", "/data", "deny", "", "EPERM"},
			decision{"mount", "/mnt", "deny", "", "EPERM"},
			decision{"umount", "/proc", "deny", "", "EPERM"})
		for _, r := range recs {
			if r.Msg == "decision" && r.str("rule") == "scratch-tmpfs" && r.str("forced") != "[nosuid nodev]" {
				t.Errorf("granted mount forced %s, want [nosuid nodev]", r.str("forced"))
			}
		}
	})
}

// listenerMetadata and annotations select the profile: an annotation
// selects oci-annotated (FIFOs only); a container that matches no profile
// is served deny-only — EPERM for everything, also what oci-test grants.
func TestProfileSelection(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, l *lab) {
		d := l.startDaemon(t)
		const script = `
mknod /tmp/fifo-$TAG p; echo fifo=$?
mknod /tmp/null-$TAG c 1 3; echo null=$?
mount -t tmpfs -o loud,size=1m tmpfs /mnt; echo mount=$?
`
		annotated := l.run(t, box{listener: d.socket, metadata: "unrelated",
			annotations: map[string]string{"org.fgacd.profile": "oci-annotated"},
			script:      "TAG=a\n" + script})
		annotated.wantLines(t, "fifo=0", "null=1", "mount=1")
		if fi, err := os.Lstat(l.host("/tmp/fifo-a")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("granted FIFO in the rootfs: %v %v", fi, err)
		}
		absent(t, l.host("/tmp/null-a"))
		recs := d.sessionRecords(t, annotated.id)
		wantProfile(t, recs, "oci-annotated")
		wantDecisions(t, recs, "oci-annotated",
			decision{"mknod", "/tmp/fifo-a", "emulate", "fifo", ""},
			decision{"mknod", "/tmp/null-a", "deny", "", "EPERM"},
			// No mount rule in the profile: refused without reading
			// the arguments, so the record has no target.
			decision{"mount", "", "deny", "", "EPERM"})

		nobody := l.run(t, box{listener: d.socket, metadata: "unrelated",
			annotations: map[string]string{"org.fgacd.profile": "none-such"},
			script:      "TAG=n\n" + script})
		nobody.wantLines(t, "fifo=1", "null=1", "mount=1")
		nobody.wantStderr(t, "mknod: /tmp/fifo-n: Operation not permitted",
			"mknod: /tmp/null-n: Operation not permitted", "mount: permission denied (are you root?)")
		absent(t, l.host("/tmp/fifo-n"))
		absent(t, l.host("/tmp/null-n"))
		recs = d.sessionRecords(t, nobody.id)
		wantProfile(t, recs, "")
		// Deny-only: nothing is read from the caller, no path recorded.
		wantDecisions(t, recs, "",
			decision{"mknod", "", "deny", "", "EPERM"},
			decision{"mknod", "", "deny", "", "EPERM"},
			decision{"mount", "", "deny", "", "EPERM"})
		for _, r := range recs {
			if r.Msg == "decision" && r.str("reason") != "no profile matches the caller" {
				t.Errorf("deny-only decision with reason %q", r.str("reason"))
			}
		}

		// The metadata alone selects oci-test, whatever the annotation.
		meta := l.run(t, box{listener: d.socket, metadata: "oci-test-by-metadata",
			annotations: map[string]string{"org.fgacd.profile": "none-such"},
			script:      "TAG=m\n" + script + "umount /mnt\n"})
		meta.wantLines(t, "fifo=1", "null=0", "mount=0")
		recs = d.sessionRecords(t, meta.id)
		wantProfile(t, recs, "oci-test")
		if r := d.waitRecord(t, meta.id, "session started"); r.str("metadata") != "oci-test-by-metadata" {
			t.Errorf("session metadata %q", r.str("metadata"))
		}
	})
}

// When the listener is gone — fgacd killed while the container runs — a
// trapped call gets ENOSYS from the kernel instead of waiting forever.
func TestListenerClosedGivesENOSYS(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, l *lab) {
		d := l.startDaemon(t)
		c := l.start(t, box{listener: d.socket, metadata: testMeta, annotations: testAnnotations, script: `
echo > /tmp/waiting
while ! test -e /tmp/daemon-gone; do sleep 0.02; done
mknod /tmp/x c 1 3; echo rc=$?
test -e /tmp/x && echo x-exists || echo x-absent
`})
		d.waitRecord(t, c.id, "session started") // fgacd holds the listener
		c.waitFile(t, l.host("/tmp/waiting"))
		d.kill(t)
		if err := os.WriteFile(l.host("/tmp/daemon-gone"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		c.wait(t) // bounded by containerTimeout: a hang fails there
		if c.err != nil {
			t.Fatalf("%s run: %v\n%s", l.rt.name, c.err, c.output())
		}
		c.wantLines(t, "rc=1", "x-absent")
		c.wantStderr(t, "mknod: /tmp/x: Function not implemented")
		absent(t, l.host("/tmp/x"))
	})
}

// With no agent at listenerPath the runtime refuses to start the
// container: a filter nobody serves is never installed.
func TestNoAgentNoContainer(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, l *lab) {
		missing := l.dir + "/no-such.sock"
		c := l.start(t, box{listener: missing, metadata: testMeta, script: "echo started"})
		c.wait(t)
		if c.err == nil {
			t.Fatalf("%s ran the container without an agent\n%s", l.rt.name, c.output())
		}
		if strings.Contains(c.stdout.String(), "started") {
			t.Errorf("the container's process ran\n%s", c.output())
		}
		c.wantStderr(t, missing)
	})
}

// docs/gpio.md's OCI profile (opens, and ioctl only for the three GPIO
// line-request commands, compared with SCMP_CMP_MASKED_EQ) is one both
// runtimes load. Every open in the container then reaches fgacd, which
// leaves it to the kernel (there is no GPIO chip on this kernel; the GPIO
// guest covers chips): the container runs as usual and mknod is still
// decided by the policy.
func TestGPIOProfileInContainer(t *testing.T) {
	forEachRuntime(t, func(t *testing.T, l *lab) {
		d := l.startDaemon(t)
		c := l.run(t, box{listener: d.socket, metadata: testMeta, annotations: testAnnotations, gpio: true, script: `
cat /proc/self/status >/dev/null && echo read-ok
echo x > /tmp/f && cat /tmp/f
mknod /dev/fgacd-null c 1 3 && echo mknod-ok
`})
		c.wantLines(t, "read-ok", "x", "mknod-ok")
	})
}
