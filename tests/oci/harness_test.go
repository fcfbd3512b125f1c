package oci

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Bounds on every wait: generous, so a slow machine does not fail, and
// finite, so nothing hangs. No test asserts a duration.
const (
	buildTimeout     = 5 * time.Minute
	containerTimeout = 60 * time.Second
	toolTimeout      = 30 * time.Second
	patience         = 30 * time.Second
)

// The policy the daemon gets. Profile oci-test is selected by the OCI
// listenerMetadata, profile oci-annotated by an annotation of the
// container's config.json (runc and crun put annotations into the state
// they send). Everything else — other calls, other callers — is denied.
const ociPolicy = `version = 1

[[profile]]
name = "oci-test"
description = "containers whose listenerMetadata starts with oci-test"
  [profile.match]
  metadata = ["oci-test*"]

  [[profile.rule]]
  name = "null-twin"
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/dev/fgacd-null", "/tmp/*"]
    type = ["char"]
    major = [1]
    minor = [3]

  [[profile.rule]]
  name = "scratch-tmpfs"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["new"]
    fstype = ["tmpfs"]
    source = ["tmpfs", "none"]
    target = ["/mnt"]
    force_flags = ["nosuid", "nodev"]
      [profile.rule.mount.options]
      size = "<=16m"

  [[profile.rule]]
  name = "scratch-umount"
  syscall = "umount"
  action = "emulate"
    [profile.rule.umount]
    target = ["/mnt"]

[[profile]]
name = "oci-annotated"
description = "containers annotated org.fgacd.profile=oci-annotated: FIFOs in /tmp only"
  [profile.match]
  annotations = { "org.fgacd.profile" = "oci-annotated" }

  [[profile.rule]]
  name = "fifo"
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/tmp/*"]
    type = ["fifo"]
`

var (
	buildOnce sync.Once
	buildDir  string
	fgacdBin  string
	buildErr  error
)

// fgacdBinary builds cmd/fgacd once per run of the test binary.
func fgacdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fgacd-oci-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		goTool := "go"
		if _, err := exec.LookPath("go"); err != nil {
			goTool = "/usr/local/go/bin/go"
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		bin := filepath.Join(dir, "fgacd")
		out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "../../cmd/fgacd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ../../cmd/fgacd: %v\n%s", err, out)
			return
		}
		fgacdBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return fgacdBin
}

// requireTool returns the path of an installed tool; a missing one is a
// skip, or a failure under FGACD_REQUIRE_ROOT=1 (`make test` installs it).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("FGACD_REQUIRE_ROOT") == "1" {
		t.Fatalf("%s is not installed and FGACD_REQUIRE_ROOT=1 says these tests must run: `bash scripts/deps.sh` installs runc, crun and busybox-static", name)
	}
	t.Skipf("%s is not installed; `bash scripts/deps.sh` installs runc, crun and busybox-static", name)
	return ""
}

// staticBusybox returns a statically linked busybox, the rootfs's only
// binary: a dynamic one would need its libc in the rootfs.
func staticBusybox(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		dynamic := false
		for _, prog := range f.Progs {
			dynamic = dynamic || prog.Type == elf.PT_INTERP
		}
		f.Close()
		if !dynamic {
			return p
		}
	}
	if os.Getenv("FGACD_REQUIRE_ROOT") == "1" {
		t.Fatal("no statically linked busybox (package busybox-static) and FGACD_REQUIRE_ROOT=1: run `bash scripts/deps.sh`")
	}
	t.Skip("no statically linked busybox; install busybox-static (`bash scripts/deps.sh`)")
	return ""
}

// ociRuntime drives runc or crun with a private state directory.
type ociRuntime struct {
	name string
	root string // --root: the runtime's state directory, private to the test
}

// crunWrapper runs crun in a private mount namespace without the cgroup2
// mount of a hybrid layout, which crun 1.8 refuses ("cgroups in hybrid
// mode not supported"). Propagation private: the umount stays in there.
const crunWrapper = `umount /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"`

func (r *ociRuntime) command(ctx context.Context, args ...string) *exec.Cmd {
	args = append([]string{"--root", r.root}, args...)
	if r.name == "crun" {
		return exec.CommandContext(ctx, "unshare", append([]string{"--mount", "--propagation", "private",
			"sh", "-c", crunWrapper, "sh"}, args...)...)
	}
	return exec.CommandContext(ctx, "runc", args...)
}

// delete removes a container, killing it first if it still runs.
func (r *ociRuntime) delete(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	r.command(ctx, "delete", "-f", id).Run() // gone already after a normal run
}

// pid returns the host pid of a running container's init (`state`).
func (r *ociRuntime) pid(t *testing.T, id string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	out, err := r.command(ctx, "state", id).Output()
	if err != nil {
		t.Fatalf("%s state %s: %v", r.name, id, err)
	}
	var st struct {
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid <= 0 {
		t.Fatalf("%s state %s: %v: %s", r.name, id, err, out)
	}
	return st.Pid
}

// lab is one subtest's world: a runtime, a busybox rootfs, a directory.
type lab struct {
	dir    string
	rootfs string
	rt     *ociRuntime
}

var runtimes = []string{"runc", "crun"}

// forEachRuntime runs fn as a subtest for runc and for crun.
func forEachRuntime(t *testing.T, fn func(t *testing.T, l *lab)) {
	for _, name := range runtimes {
		t.Run(name, func(t *testing.T) {
			testutil.RequireRoot(t)
			requireTool(t, name)
			if name == "crun" {
				requireTool(t, "unshare")
			}
			dir := t.TempDir()
			l := &lab{dir: dir, rt: &ociRuntime{name: name, root: filepath.Join(dir, "state")}}
			l.rootfs = buildRootfs(t, dir)
			fn(t, l)
		})
	}
}

var applets = []string{"sh", "mknod", "mount", "umount", "ls", "stat", "cat", "echo",
	"mkdir", "test", "sleep", "grep", "rm"}

// buildRootfs makes DIR/rootfs: busybox and its applet links, and the
// directories the tests use. /tmp is a plain directory of the rootfs, so
// the host sees what a container makes there.
func buildRootfs(t *testing.T, dir string) string {
	t.Helper()
	busybox := staticBusybox(t)
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "mnt", "data", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(busybox)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(root, "bin", "busybox"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// host returns the host path of a path inside the container's rootfs.
func (l *lab) host(p string) string { return filepath.Join(l.rootfs, p) }

// The OCI runtime-spec config, as much of it as these tests write.
type (
	ociSpec struct {
		OCIVersion  string            `json:"ociVersion"`
		Process     ociProcess        `json:"process"`
		Root        ociRoot           `json:"root"`
		Hostname    string            `json:"hostname"`
		Mounts      []ociMount        `json:"mounts"`
		Annotations map[string]string `json:"annotations,omitempty"`
		Linux       ociLinux          `json:"linux"`
	}
	ociProcess struct {
		Terminal        bool            `json:"terminal"`
		User            ociUser         `json:"user"`
		Args            []string        `json:"args"`
		Env             []string        `json:"env"`
		Cwd             string          `json:"cwd"`
		Capabilities    ociCapabilities `json:"capabilities"`
		NoNewPrivileges bool            `json:"noNewPrivileges"`
	}
	ociUser struct {
		UID uint32 `json:"uid"`
		GID uint32 `json:"gid"`
	}
	// ociCapabilities: empty lists, not absent ones — the process has no
	// capability at all.
	ociCapabilities struct {
		Bounding    []string `json:"bounding"`
		Effective   []string `json:"effective"`
		Inheritable []string `json:"inheritable"`
		Permitted   []string `json:"permitted"`
		Ambient     []string `json:"ambient"`
	}
	ociRoot struct {
		Path     string `json:"path"`
		Readonly bool   `json:"readonly"`
	}
	ociMount struct {
		Destination string   `json:"destination"`
		Type        string   `json:"type"`
		Source      string   `json:"source"`
		Options     []string `json:"options,omitempty"`
	}
	ociLinux struct {
		Namespaces []ociNamespace `json:"namespaces"`
		Seccomp    ociSeccomp     `json:"seccomp"`
	}
	ociNamespace struct {
		Type string `json:"type"`
	}
	ociSeccomp struct {
		DefaultAction    string       `json:"defaultAction"`
		ListenerPath     string       `json:"listenerPath"`
		ListenerMetadata string       `json:"listenerMetadata,omitempty"`
		Architectures    []string     `json:"architectures,omitempty"`
		Syscalls         []ociSyscall `json:"syscalls"`
	}
	ociSyscall struct {
		Names    []string `json:"names"`
		Action   string   `json:"action"`
		ErrnoRet *uint    `json:"errnoRet,omitempty"`
		Args     []ociArg `json:"args,omitempty"`
	}
	ociArg struct {
		Index    uint   `json:"index"`
		Value    uint64 `json:"value"`
		ValueTwo uint64 `json:"valueTwo"`
		Op       string `json:"op"`
	}
)

// notifySyscalls go to fgacd; the new mount API gets ENOSYS so that tools
// fall back to mount(2), which fgacd brokers.
var (
	notifySyscalls   = []string{"mknod", "mknodat", "mount", "umount2"}
	newMountSyscalls = []string{"fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "fspick", "mount_setattr"}
)

const enosys = 38

// box is what a container is: its script and what it tells fgacd.
type box struct {
	script      string
	metadata    string            // listenerMetadata
	annotations map[string]string // config.json annotations
	listener    string            // listenerPath (the daemon's socket)
	gpio        bool              // also send opens and GPIO line requests (docs/gpio.md)
}

// gpioSyscalls is docs/gpio.md's profile: every open, and ioctl only for
// the three line-request commands, compared on the low 32 bits.
func gpioSyscalls() []ociSyscall {
	out := []ociSyscall{{Names: []string{"open", "openat", "openat2"}, Action: "SCMP_ACT_NOTIFY"}}
	for _, cmd := range linux.GPIOLineIoctls {
		out = append(out, ociSyscall{Names: []string{"ioctl"}, Action: "SCMP_ACT_NOTIFY",
			Args: []ociArg{{Index: 1, Value: 0xffffffff, ValueTwo: uint64(cmd), Op: "SCMP_CMP_MASKED_EQ"}}})
	}
	return out
}

func (b box) spec(rootfs string) ociSpec {
	errno := uint(enosys)
	empty := []string{}
	syscalls := []ociSyscall{
		{Names: notifySyscalls, Action: "SCMP_ACT_NOTIFY"},
		{Names: newMountSyscalls, Action: "SCMP_ACT_ERRNO", ErrnoRet: &errno},
	}
	if b.gpio {
		syscalls = append(syscalls, gpioSyscalls()...)
	}
	return ociSpec{
		OCIVersion: "1.0.2",
		Process: ociProcess{
			User: ociUser{UID: 0, GID: 0},
			Args: []string{"/bin/sh", "-c", b.script},
			Env:  []string{"PATH=/bin", "HOME=/root"},
			Cwd:  "/",
			Capabilities: ociCapabilities{
				Bounding: empty, Effective: empty, Inheritable: empty, Permitted: empty, Ambient: empty,
			},
			NoNewPrivileges: true,
		},
		Root:     ociRoot{Path: rootfs},
		Hostname: "fgacd-oci",
		Mounts: []ociMount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=1m"}},
		},
		Annotations: b.annotations,
		Linux: ociLinux{
			Namespaces: []ociNamespace{{"pid"}, {"mount"}, {"ipc"}, {"uts"}, {"network"}},
			Seccomp: ociSeccomp{
				DefaultAction:    "SCMP_ACT_ALLOW",
				ListenerPath:     b.listener,
				ListenerMetadata: b.metadata,
				Syscalls:         syscalls,
			},
		},
	}
}

var containerSeq atomic.Int64

// container is one `runc run` / `crun run` in the foreground.
type container struct {
	id             string
	rt             *ociRuntime
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error // of the runtime process, once done is closed
}

// start writes a bundle for b and starts the runtime on it; the container
// is deleted at cleanup.
func (l *lab) start(t *testing.T, b box) *container {
	t.Helper()
	id := fmt.Sprintf("fgacd-oci-%d-%d", os.Getpid(), containerSeq.Add(1))
	bundle := filepath.Join(l.dir, "bundles", id)
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := json.MarshalIndent(b.spec(l.rootfs), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), containerTimeout)
	c := &container{id: id, rt: l.rt, done: make(chan struct{})}
	c.cmd = l.rt.command(ctx, "run", "--bundle", bundle, id)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	// The container inherits the output pipes: if the runtime is killed,
	// do not wait for the container to close them.
	c.cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		cancel()
		<-c.done
		l.rt.delete(id)
	})
	if err := c.cmd.Start(); err != nil {
		close(c.done)
		t.Fatalf("%s run: %v", l.rt.name, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	return c
}

// wait waits for the runtime to return (bounded by containerTimeout).
func (c *container) wait(t *testing.T) {
	t.Helper()
	<-c.done
}

// run starts a container and waits for it to end; it must succeed.
func (l *lab) run(t *testing.T, b box) *container {
	t.Helper()
	c := l.start(t, b)
	c.wait(t)
	if c.err != nil {
		t.Fatalf("%s run %s: %v\n%s", l.rt.name, c.id, c.err, c.output())
	}
	return c
}

func (c *container) output() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", c.stdout.String(), c.stderr.String())
}

// lines returns the container's stdout lines.
func (c *container) lines() []string {
	return strings.Split(strings.TrimRight(c.stdout.String(), "\n"), "\n")
}

// wantLines fails unless each of want is a whole line of stdout.
func (c *container) wantLines(t *testing.T, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range c.lines() {
		have[l] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("container stdout lacks the line %q\n%s", w, c.output())
		}
	}
}

// wantStderr fails unless each of want occurs in stderr.
func (c *container) wantStderr(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(c.stderr.String(), w) {
			t.Errorf("container stderr lacks %q\n%s", w, c.output())
		}
	}
}

// waitFile waits until the container made path (a host path) or ended.
func (c *container) waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		if _, err := os.Lstat(path); err == nil {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("container %s ended before making %s: %v\n%s", c.id, path, c.err, c.output())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("gave up waiting for container %s to make %s", c.id, path)
}

// syncBuffer is the daemon's stderr, written by exec's copier while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// daemon is the fgacd binary running as a subprocess.
type daemon struct {
	cmd     *exec.Cmd
	socket  string
	log     *syncBuffer
	exited  chan struct{}
	waitErr error
	killed  atomic.Bool
}

// startDaemon writes the policy into DIR/policies, checks it with
// `fgacd check`, runs the daemon on DIR/fgacd.sock and waits for the
// socket. It is stopped with SIGTERM at cleanup; its log is printed if the
// test failed.
func (l *lab) startDaemon(t *testing.T) *daemon {
	t.Helper()
	bin := fgacdBinary(t)
	pdir := filepath.Join(l.dir, "policies")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	pfile := filepath.Join(pdir, "oci.toml")
	if err := os.WriteFile(pfile, []byte(ociPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "check", pfile).CombinedOutput(); err != nil {
		t.Fatalf("fgacd check %s: %v\n%s", pfile, err, out)
	}

	d := &daemon{socket: filepath.Join(l.dir, "fgacd.sock"), log: &syncBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(bin, "run", "-config", "/dev/null", "-socket", d.socket,
		"-policy-dir", pdir, "-metrics", "off", "-log-format", "console")
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	// If the test binary dies, so does the daemon.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.exited:
			case <-time.After(patience):
				t.Errorf("fgacd did not stop on SIGTERM; killing it")
				d.cmd.Process.Kill()
				<-d.exited
			}
		}
		if d.waitErr != nil && !d.killed.Load() {
			t.Errorf("fgacd exited: %v", d.waitErr)
		}
		if t.Failed() {
			t.Logf("fgacd log:\n%s", d.log.String())
		}
	})

	deadline := time.Now().Add(patience)
	for {
		if fi, err := os.Stat(d.socket); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("fgacd exited before listening: %v", d.waitErr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for fgacd's socket")
		}
	}
}

// kill ends the daemon with SIGKILL and waits until it is gone, and with
// it every listener fd it held.
func (d *daemon) kill(t *testing.T) {
	t.Helper()
	d.killed.Store(true)
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.exited
}

// record is one line of the daemon's console log.
type record struct {
	Level, Msg string
	Fields     map[string]any
}

func (r record) str(key string) string {
	switch v := r.Fields[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// records parses the console log: TIME LEVEL CALLER MESSAGE {JSON}.
func (d *daemon) records() []record {
	var out []record
	sc := bufio.NewScanner(strings.NewReader(d.log.String()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "\t{")
		if i < 0 {
			continue
		}
		head := strings.Split(line[:i], "\t")
		if len(head) < 3 {
			continue
		}
		r := record{Level: head[1], Msg: head[len(head)-1]}
		if json.Unmarshal([]byte(line[i+1:]), &r.Fields) != nil {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sessionRecords waits until the session of container id has ended and
// returns that container's records (its decisions are logged by then).
func (d *daemon) sessionRecords(t *testing.T, id string) []record {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		var mine []record
		ended := false
		for _, r := range d.records() {
			if r.str("container") != id {
				continue
			}
			mine = append(mine, r)
			ended = ended || strings.HasPrefix(r.Msg, "session ended")
		}
		if ended {
			return mine
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for the end of %s's session; its records: %v", id, mine)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitRecord waits until the daemon logged msg for container id.
func (d *daemon) waitRecord(t *testing.T, id, msg string) record {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		for _, r := range d.records() {
			if r.str("container") == id && strings.HasPrefix(r.Msg, msg) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %q about container %s", msg, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// decision is what a test expects of one decision record.
type decision struct {
	syscall, path, decision, rule, errno string
}

// wantDecisions fails unless the session's decision records are exactly
// want, in order (path is the record's "path" for mknod, "target" for
// mount and umount; errno "" means the record has none).
func wantDecisions(t *testing.T, recs []record, profile string, want ...decision) {
	t.Helper()
	var got []decision
	for _, r := range recs {
		if r.Msg != "decision" {
			continue
		}
		if r.str("profile") != profile {
			t.Errorf("decision under profile %q, want %q: %v", r.str("profile"), profile, r.Fields)
		}
		p := r.str("path")
		if p == "" {
			p = r.str("target")
		}
		got = append(got, decision{syscall: r.str("syscall"), path: p, decision: r.str("decision"),
			rule: r.str("rule"), errno: r.str("errno")})
	}
	if len(got) != len(want) {
		t.Errorf("decisions:\n got  %v\n want %v", got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("decision %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// wantProfile fails unless the session of id selected profile ("" for
// none: served deny-only).
func wantProfile(t *testing.T, recs []record, profile string) {
	t.Helper()
	for _, r := range recs {
		switch {
		case r.Msg == "profile selected":
			if r.str("profile") != profile {
				t.Errorf("profile selected %q, want %q", r.str("profile"), profile)
			}
			return
		case strings.HasPrefix(r.Msg, "no policy profile matches"):
			if profile != "" {
				t.Errorf("no profile matched, want %q", profile)
			}
			return
		}
	}
	t.Errorf("no profile selection record in %v", recs)
}

// absent fails if path exists.
func absent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (or cannot be checked: %v)", path, err)
	}
}
