package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/dispatch"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// GPIO brokering against gpio-sim in the Linux 6.1 guest (make test-gpio):
// uid 65534 is granted lines of the chip but not the chip; uid 65533 is
// granted the chip and the same lines.

// The uAPI's flag values: v2 flags are the policy's (GPIO_V2_LINE_FLAG_*).
const (
	v2Input       = uint64(policy.GPIOFlagInput)
	v2Output      = uint64(policy.GPIOFlagOutput)
	v2EdgeRising  = uint64(policy.GPIOFlagEdgeRising)
	v2EdgeFalling = uint64(policy.GPIOFlagEdgeFalling)

	v1Input       = linux.GPIOHANDLE_REQUEST_INPUT
	v1Output      = linux.GPIOHANDLE_REQUEST_OUTPUT
	v1EventRising = linux.GPIOEVENT_REQUEST_RISING_EDGE
	v1EventFall   = linux.GPIOEVENT_REQUEST_FALLING_EDGE

	oPath = linux.O_PATH // as /proc/PID/fdinfo shows flags
)

func gpioPolicy(label string) func(string) string {
	return func(string) string {
		return strings.ReplaceAll(`version = 1

[[profile]]
name = "gpio-lines"
  [profile.match]
  uid = [65534]

  [[profile.rule]]
  name = "leds"
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["LABEL"]
    lines = [1, 2]

  [[profile.rule]]
  name = "button"
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["LABEL"]
    names = ["line5"]
    flags = ["input", "edge_rising", "edge_falling"]

[[profile]]
name = "gpio-chip"
  [profile.match]
  uid = [65533]

  [[profile.rule]]
  name = "chip"
  syscall = "gpio_open"
  action = "emulate"
    [profile.rule.gpio_open]
    chip = ["LABEL"]

  [[profile.rule]]
  name = "leds"
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["LABEL"]
    lines = [1, 2]
`, "LABEL", label)
	}
}

type gpioEnv struct {
	d     *daemon
	chip  string // device path
	sim   string // gpio-sim sysfs dir of the chip
	label string
}

func startGPIO(t *testing.T) *gpioEnv {
	t.Helper()
	return startGPIOLevel(t, zapcore.DebugLevel)
}

func startGPIOLevel(t *testing.T, level zapcore.Level) *gpioEnv {
	t.Helper()
	chip, sim := testutil.RequireGPIOGuest(t)
	label := os.Getenv("FGACD_GPIO_LABEL")
	return &gpioEnv{d: startDaemonLevel(t, notify.ServerConfig{}, gpioPolicy(label), level), chip: chip, sim: sim, label: label}
}

func (g *gpioEnv) tracee(t *testing.T, uid uint32) *testutil.Tracee {
	t.Helper()
	return g.d.tracee(t, testutil.TraceeOptions{UID: uid, GID: uid, Dir: "/",
		Nrs: testutil.GPIOTraceeNrs(), Ioctls: linux.GPIOLineIoctls})
}

// open has the tracee open the chip and returns its fd there.
func (g *gpioEnv) open(t *testing.T, tr *testutil.Tracee) int {
	t.Helper()
	r := tr.Do(t, testutil.Command{Op: "open", Path: g.chip, Flags: uint64(linux.O_RDWR)})
	if r.Errno != 0 {
		t.Fatalf("open %s: errno %v (%s)", g.chip, linux.Errno(r.Errno), r.Detail)
	}
	return r.OK
}

func (g *gpioEnv) value(t *testing.T, line int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.sim, "sim_gpio"+strconv.Itoa(line), "value"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (g *gpioEnv) pull(t *testing.T, line int, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(g.sim, "sim_gpio"+strconv.Itoa(line), "pull"), []byte(dir), 0); err != nil {
		t.Fatal(err)
	}
}

// free checks, as root and natively, that no line in lines is held.
func (g *gpioEnv) free(t *testing.T, lines ...uint32) {
	t.Helper()
	chip, err := linux.Open(g.chip, linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer linux.Close(chip)
	fd, e := testutil.GPIORequestV2(chip, lines, v2Input, 0)
	if e != 0 {
		t.Fatalf("lines %v are held (a native request says %v)", lines, e)
	}
	linux.Close(fd)
}

// chipFds lists the tracee's fds that refer to the chip device, with
// whether each is O_PATH.
func chipFds(t *testing.T, pid int, chip string) map[int]bool {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]bool{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || target != chip {
			continue
		}
		n, _ := strconv.Atoi(e.Name())
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, n))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(l, "flags:"); ok {
				f, _ := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
				out[n] = f&oPath != 0
			}
		}
	}
	return out
}

func TestGPIOLinesGrantedWithoutTheChip(t *testing.T) {
	g := startGPIO(t)
	tr := g.tracee(t, 65534)
	fd := g.open(t, tr)

	// A request with one line too many: EPERM, and nothing held.
	r := tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: []uint32{1, 2, 3}, Flags: v2Output, Values: 0b111})
	if linux.Errno(r.Errno) != linux.EPERM {
		t.Fatalf("request of lines 1,2,3: errno %v, want EPERM", linux.Errno(r.Errno))
	}
	g.free(t, 1, 2, 3)

	r = tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: []uint32{1, 2}, Flags: v2Output, Values: 0b11})
	if r.Errno != 0 {
		t.Fatalf("granted request of lines 1,2: %v", linux.Errno(r.Errno))
	}
	line := r.OK
	if g.value(t, 1) != "1" || g.value(t, 2) != "1" {
		t.Errorf("after requesting outputs high: sysfs values %s %s, want 1 1", g.value(t, 1), g.value(t, 2))
	}
	if r := tr.Do(t, testutil.Command{Op: "gpio_set", Fd: line, Values: 0b01, Mask: 0b11}); r.Errno != 0 {
		t.Fatalf("set values: %v", linux.Errno(r.Errno))
	}
	if g.value(t, 1) != "1" || g.value(t, 2) != "0" {
		t.Errorf("after setting 1,0: sysfs values %s %s", g.value(t, 1), g.value(t, 2))
	}
	// Reconfiguring granted lines in place is refused (the rule decided
	// on the request); the lines stay as they were.
	if r := tr.Do(t, testutil.Command{Op: "gpio_setconfig", Fd: line, Flags: v2Input | v2EdgeRising}); linux.Errno(r.Errno) != linux.EPERM {
		t.Errorf("SET_CONFIG on a granted line fd: errno %v, want EPERM", linux.Errno(r.Errno))
	}

	// The app holds no chip fd: what its open returned is fgacd's handle,
	// a sealed empty memfd that names the chip; the chip's own ioctls
	// fail on it.
	if fds := chipFds(t, tr.Pid, g.chip); len(fds) != 0 {
		t.Errorf("chip fds in the app: %v, want none", fds)
	}
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", tr.Pid, fd))
	if err != nil || !strings.HasPrefix(link, "/memfd:"+linux.GPIOHandlePrefix) {
		t.Errorf("the app's fd %d is %q (%v), want fgacd's handle", fd, link, err)
	}
	if r := tr.Do(t, testutil.Command{Op: "gpio_chipinfo", Fd: fd}); linux.Errno(r.Errno) != linux.ENOTTY {
		t.Errorf("chip info on the handle: errno %v, want ENOTTY", linux.Errno(r.Errno))
	}
	tr.Do(t, testutil.Command{Op: "close", Fd: fd})
	if r := tr.Do(t, testutil.Command{Op: "gpio_set", Fd: line, Values: 0b10, Mask: 0b11}); r.Errno != 0 || g.value(t, 2) != "1" {
		t.Errorf("the line fd works without the handle: errno %v, line 2 = %s", linux.Errno(r.Errno), g.value(t, 2))
	}
	tr.Do(t, testutil.Command{Op: "close", Fd: line})
	g.free(t, 1, 2)

	// v1 handle requests are decided the same way.
	fd = g.open(t, tr)
	r = tr.Do(t, testutil.Command{Op: "gpio_v1_handle", Fd: fd, Lines: []uint32{2}, Flags: v1Output, Values: 1})
	if r.Errno != 0 || g.value(t, 2) != "1" {
		t.Errorf("v1 handle on line 2: errno %v, value %s", linux.Errno(r.Errno), g.value(t, 2))
	}
	tr.Do(t, testutil.Command{Op: "close", Fd: r.OK})
	r = tr.Do(t, testutil.Command{Op: "gpio_v1_handle", Fd: fd, Lines: []uint32{0}, Flags: v1Output})
	if linux.Errno(r.Errno) != linux.EPERM {
		t.Errorf("v1 handle on line 0: errno %v, want EPERM", linux.Errno(r.Errno))
	}
	// Flags beyond the rule's allowlist: edges on an output line.
	r = tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: []uint32{1}, Flags: v2Input | v2EdgeRising})
	if linux.Errno(r.Errno) != linux.EPERM {
		t.Errorf("edge detection on line 1: errno %v, want EPERM", linux.Errno(r.Errno))
	}
	g.free(t, 0, 1, 2)
}

func TestGPIOChipGranted(t *testing.T) {
	g := startGPIO(t)
	tr := g.tracee(t, 65533)
	fd := g.open(t, tr)
	if r := tr.Do(t, testutil.Command{Op: "gpio_chipinfo", Fd: fd}); r.Errno != 0 || r.Detail != g.label {
		t.Errorf("chip info on the granted chip fd: errno %v label %q, want %q", linux.Errno(r.Errno), r.Detail, g.label)
	}
	if fds := chipFds(t, tr.Pid, g.chip); len(fds) != 1 || fds[fd] {
		t.Errorf("chip fds: %v, want %d opened for I/O", fds, fd)
	}
	// The chip grant alone grants no lines: line requests still ask fgacd.
	r := tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: []uint32{4}, Flags: v2Input})
	if linux.Errno(r.Errno) != linux.EPERM {
		t.Errorf("line 4 through the chip fd: errno %v, want EPERM", linux.Errno(r.Errno))
	}
	r = tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: []uint32{1}, Flags: v2Output, Values: 1})
	if r.Errno != 0 || g.value(t, 1) != "1" {
		t.Errorf("line 1 through the chip fd: errno %v value %s", linux.Errno(r.Errno), g.value(t, 1))
	}
	// Not granted the chip: uid 65534 only gets a handle.
	other := g.tracee(t, 65534)
	g.open(t, other)
	if fds := chipFds(t, other.Pid, g.chip); len(fds) != 0 {
		t.Errorf("uid 65534 holds chip fds %v", fds)
	}
}

func TestGPIOSecondRequestIsBusy(t *testing.T) {
	g := startGPIO(t)
	a, b := g.tracee(t, 65534), g.tracee(t, 65534)
	fa, fb := g.open(t, a), g.open(t, b)
	r := a.Do(t, testutil.Command{Op: "gpio_v2", Fd: fa, Lines: []uint32{1}, Flags: v2Output})
	if r.Errno != 0 {
		t.Fatalf("first request: %v", linux.Errno(r.Errno))
	}
	if r := b.Do(t, testutil.Command{Op: "gpio_v2", Fd: fb, Lines: []uint32{1}, Flags: v2Output}); linux.Errno(r.Errno) != linux.EBUSY {
		t.Errorf("second app, same line: errno %v, want EBUSY", linux.Errno(r.Errno))
	}
	// The same answer natively.
	chip, err := linux.Open(g.chip, linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer linux.Close(chip)
	if _, e := testutil.GPIORequestV2(chip, []uint32{1}, v2Output, 0); e != linux.EBUSY {
		t.Errorf("native request of the held line: %v, want EBUSY", e)
	}
	a.Do(t, testutil.Command{Op: "close", Fd: r.OK})
	if r := b.Do(t, testutil.Command{Op: "gpio_v2", Fd: fb, Lines: []uint32{1}, Flags: v2Output}); r.Errno != 0 {
		t.Errorf("after the first app let go: %v", linux.Errno(r.Errno))
	}
}

func TestGPIOEdgeEvents(t *testing.T) {
	g := startGPIO(t)
	tr := g.tracee(t, 65534)
	fd := g.open(t, tr)
	g.pull(t, 5, "pull-down")

	// v2: line 5 by name, with edge detection.
	r := tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: []uint32{5}, Flags: v2Input | v2EdgeRising | v2EdgeFalling})
	if r.Errno != 0 {
		t.Fatalf("v2 edge request: %v", linux.Errno(r.Errno))
	}
	line := r.OK
	tr.Send(t, testutil.Command{Op: "gpio_event", Fd: line, TimeoutMs: 20000})
	time.Sleep(50 * time.Millisecond) // let it block in poll; an early edge is queued anyway
	g.pull(t, 5, "pull-up")
	if r := tr.Wait(t); r.Errno != 0 || r.OK != 1 {
		t.Errorf("v2 event: errno %v id %d, want a rising edge (1)", linux.Errno(r.Errno), r.OK)
	}
	tr.Do(t, testutil.Command{Op: "close", Fd: line})

	// v1 LINEEVENT.
	r = tr.Do(t, testutil.Command{Op: "gpio_v1_event", Fd: fd, Lines: []uint32{5}, Flags: v1Input, EventFlags: v1EventRising | v1EventFall})
	if r.Errno != 0 {
		t.Fatalf("v1 event request: %v", linux.Errno(r.Errno))
	}
	line = r.OK
	g.pull(t, 5, "pull-down")
	if r := tr.Do(t, testutil.Command{Op: "gpio_event", Fd: line, V1: true, TimeoutMs: 20000}); r.Errno != 0 || r.OK != 2 {
		t.Errorf("v1 event: errno %v id %d, want a falling edge (2)", linux.Errno(r.Errno), r.OK)
	}
	tr.Do(t, testutil.Command{Op: "close", Fd: line})

	// Line 5 is granted as an input: a request that leaves its direction
	// as it is (no direction flag) could find it an output, so it needs
	// output allowed too, and is refused.
	if r := tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: []uint32{5}}); linux.Errno(r.Errno) != linux.EPERM {
		t.Errorf("as-is request of line 5: errno %v, want EPERM", linux.Errno(r.Errno))
	}

	// Edges on a line granted only as plain input/output: refused.
	if r := tr.Do(t, testutil.Command{Op: "gpio_v1_event", Fd: fd, Lines: []uint32{2}, Flags: v1Input, EventFlags: v1EventRising}); linux.Errno(r.Errno) != linux.EPERM {
		t.Errorf("v1 event on line 2: errno %v, want EPERM", linux.Errno(r.Errno))
	}
}

func TestGPIOMalformedRequestsGetTheKernelsErrno(t *testing.T) {
	g := startGPIO(t)
	tr := g.tracee(t, 65534)
	fd := g.open(t, tr)
	chip, err := linux.Open(g.chip, linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer linux.Close(chip)
	for _, c := range []struct {
		name  string
		lines []uint32
	}{
		{"no lines", nil},
		{"offset beyond the chip", []uint32{99}},
	} {
		_, native := testutil.GPIORequestV2(chip, c.lines, v2Input, 0)
		r := tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: fd, Lines: c.lines, Flags: v2Input})
		if linux.Errno(r.Errno) != native || native == 0 {
			t.Errorf("%s: errno %v, native %v", c.name, linux.Errno(r.Errno), native)
		}
	}
	r := tr.Do(t, testutil.Command{Op: "ioctl_ptr", Fd: fd, Flags: linux.GPIO_V2_GET_LINE_IOCTL, Addr: 8})
	if linux.Errno(r.Errno) != linux.EFAULT {
		t.Errorf("bad struct pointer: errno %v, want EFAULT", linux.Errno(r.Errno))
	}
	// An fd that is no chip: the kernel answers (ENOTTY), as natively.
	r = tr.Do(t, testutil.Command{Op: "gpio_v2", Fd: 0, Lines: []uint32{1}, Flags: v2Input})
	if linux.Errno(r.Errno) != linux.ENOTTY {
		t.Errorf("line request on stdin: errno %v, want ENOTTY", linux.Errno(r.Errno))
	}
	g.free(t, 1)
}

// Runs on any kernel: without gpiolib nothing is a chip, and every open
// is the kernel's.
func TestGPIOUnrelatedOpensAreTheKernels(t *testing.T) {
	g := &gpioEnv{d: startDaemonPolicy(t, notify.ServerConfig{}, gpioPolicy("fgacd-sim"))}
	tr := g.tracee(t, 65534)
	dir := testutil.PublicTempDir(t)
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A gpiochip-named link to something else: resolved, found not to be
	// a chip, and left to the kernel.
	link := filepath.Join(dir, "gpiochip-null")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want linux.Errno
	}{
		{"/etc/passwd", 0},
		{secret, linux.EACCES},
		{link, 0},
		{"/nonexistent/gpiochip9", linux.ENOENT},
	} {
		r := tr.Do(t, testutil.Command{Op: "open", Path: c.path})
		if linux.Errno(r.Errno) != c.want {
			t.Errorf("open %s: errno %v, want %v", c.path, linux.Errno(r.Errno), c.want)
		}
		if r.Errno == 0 {
			tr.Do(t, testutil.Command{Op: "close", Fd: r.OK})
		}
	}
}

// A line request interrupted after fgacd installed the line fd cannot be
// taken back; the restarted request (SA_RESTART) must get that same fd, or
// the next request would find the lines held (EBUSY) by one the app never
// learned of.
func TestGPIOLineRequestsUnderSignals(t *testing.T) {
	g := startGPIO(t)
	tr := g.tracee(t, 65534)
	fd := g.open(t, tr)
	n := testutil.Scaled(3000)
	r := tr.Do(t, testutil.Command{Op: "gpio_hammer", Fd: fd, Lines: []uint32{1, 2}, Flags: v2Output, N: n})
	replayed := 0
	for _, l := range g.d.logs.Lines() {
		if strings.Contains(string(l), "restart of a call already emulated") {
			replayed++
		}
	}
	t.Logf("%d requests: %d ok, %d EBUSY or another errno, %d EPERM; %d signals; %v cancelled notifications; %d restarts answered with the fd already installed",
		n, r.OK, r.Exist, r.Other, r.Sigs, g.d.counter(t, "fgacd_notifications_cancelled_total", nil), replayed)
	if r.OK != n {
		t.Errorf("requests under signals: %+v, want all %d granted", r, n)
	}
	if r.Sigs == 0 {
		t.Error("no signal was sent; the test proved nothing")
	}
	tr.Do(t, testutil.Command{Op: "close", Fd: fd})
	g.free(t, 1, 2)
}

// A learn-mode profile gives the app a handle and records its line
// requests; the suggested draft grants exactly those.
func TestGPIOLearnThenSuggest(t *testing.T) {
	chipPath, _ := testutil.RequireGPIOGuest(t)
	learn := func(string) string {
		return "version = 1\n[[profile]]\nname = \"robot\"\nmode = \"learn\"\n  [profile.match]\n  uid = [65534]\n"
	}
	d := startDaemonPolicy(t, notify.ServerConfig{}, learn)
	g := &gpioEnv{d: d, chip: chipPath}
	tr := g.tracee(t, 65534)
	fd := g.open(t, tr) // recorded, and a handle
	calls := []testutil.Command{
		{Op: "gpio_v2", Fd: fd, Lines: []uint32{1, 2}, Flags: v2Output},
		{Op: "gpio_v1_event", Fd: fd, Lines: []uint32{5}, Flags: v1Input, EventFlags: v1EventRising},
	}
	for _, c := range calls {
		if r := tr.Do(t, c); linux.Errno(r.Errno) != linux.EPERM {
			t.Fatalf("learn mode granted %s %v (errno %v)", c.Op, c.Lines, linux.Errno(r.Errno))
		}
	}
	var uids []uint32
	var reqs []policy.Request
	for _, line := range d.logs.Lines() {
		if rec, ok := dispatch.ParseRecord(line); ok && rec.Learn {
			uids = append(uids, rec.UID)
			reqs = append(reqs, rec.Request)
		}
	}
	draft, err := policy.Suggest("robot", uids, reqs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("suggested:\n%s", draft)
	spec, err := policy.Parse("suggested.toml", draft)
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	d.disp.SetPolicy(set)
	for _, c := range calls {
		r := tr.Do(t, c)
		if r.Errno != 0 {
			t.Errorf("replay of %s %v under the draft: errno %v, want granted", c.Op, c.Lines, linux.Errno(r.Errno))
			continue
		}
		tr.Do(t, testutil.Command{Op: "close", Fd: r.OK})
	}
	for _, c := range []testutil.Command{
		{Op: "gpio_v2", Fd: fd, Lines: []uint32{1, 3}, Flags: v2Output},
		{Op: "gpio_v2", Fd: fd, Lines: []uint32{1, 2}, Flags: v2Output | uint64(policy.GPIOFlagActiveLow)},
		{Op: "gpio_v1_event", Fd: fd, Lines: []uint32{5}, Flags: v1Input, EventFlags: v1EventRising | v1EventFall},
	} {
		if r := tr.Do(t, c); linux.Errno(r.Errno) != linux.EPERM {
			t.Errorf("%s %v flags %#x was not recorded, yet the draft grants it (errno %v)", c.Op, c.Lines, c.Flags, linux.Errno(r.Errno))
			if r.Errno == 0 {
				tr.Do(t, testutil.Command{Op: "close", Fd: r.OK})
			}
		}
	}
}

// TestGPIOLineRequestCost reports a brokered line request (open chip
// handle once; request two lines and close, N times) against the same
// native loop as root in the same guest. It asserts nothing about time.
func TestGPIOLineRequestCost(t *testing.T) {
	// Info, the daemon's default: every grant is still recorded.
	g := startGPIOLevel(t, zapcore.InfoLevel)
	if v := os.Getenv("FGACD_BENCH_PROCS"); v != "" {
		n, _ := strconv.Atoi(v)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
		t.Setenv("GOMAXPROCS", v)
	}
	const n = 300
	chip, err := linux.Open(g.chip, linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer linux.Close(chip)
	lines := []uint32{1, 2}
	start := time.Now()
	for i := 0; i < n; i++ {
		fd, e := testutil.GPIORequestV2(chip, lines, v2Output, 0)
		if e != 0 {
			t.Fatal(e)
		}
		linux.Close(fd)
	}
	native := time.Since(start) / n

	tr := g.tracee(t, 65534)
	fd := g.open(t, tr)
	tr.Do(t, testutil.Command{Op: "gpio_repeat", Fd: fd, Lines: lines, Flags: v2Output, N: 10}) // warm up
	start = time.Now()
	r := tr.Do(t, testutil.Command{Op: "gpio_repeat", Fd: fd, Lines: lines, Flags: v2Output, N: n})
	brokered := time.Since(start) / n
	if r.OK != n {
		t.Fatalf("brokered loop: %+v", r)
	}
	t.Logf("gpio-bench: line request+close of 2 lines, %d calls: native %v, brokered %v, ratio %.1fx",
		n, native, brokered, float64(brokered)/float64(native))
	// What of that is the notification round trip: a refused request
	// (same reading and deciding, no line taken) and an unrelated open.
	start = time.Now()
	r = tr.Do(t, testutil.Command{Op: "gpio_repeat", Fd: fd, Lines: []uint32{7}, Flags: v2Output, N: n})
	refused := time.Since(start) / n
	start = time.Now()
	tr.Do(t, testutil.Command{Op: "open_repeat", Path: "/etc/passwd", N: n})
	open := time.Since(start) / n
	t.Logf("gpio-bench: refused request %v, unrelated open+close under the filter %v", refused, open)
}

// TestUnrelatedOpenCost reports what an open fgacd does not manage costs
// under a filter that traps opens, against the same loop natively (both
// as uid 65534). It asserts nothing about time; make bench has the figure
// against a C supervisor.
func TestUnrelatedOpenCost(t *testing.T) {
	d := startDaemonLevel(t, notify.ServerConfig{}, gpioPolicy("fgacd-sim"), zapcore.InfoLevel)
	const n = 300
	native := testutil.StartTracee(t, testutil.TraceeOptions{Dir: "/", Nrs: []uint32{0x3ff}, Socket: d.socket})
	tr := d.tracee(t, testutil.TraceeOptions{Dir: "/", Nrs: testutil.GPIOTraceeNrs()})
	cost := func(tr *testutil.Tracee) time.Duration {
		tr.Do(t, testutil.Command{Op: "open_repeat", Path: "/etc/passwd", N: 10})
		start := time.Now()
		if r := tr.Do(t, testutil.Command{Op: "open_repeat", Path: "/etc/passwd", N: n}); r.OK != n {
			t.Fatalf("open loop: %+v", r)
		}
		return time.Since(start) / n
	}
	a, b := cost(native), cost(tr)
	t.Logf("open+close of /etc/passwd: native %v, under the filter (CONTINUE by fgacd) %v", a, b)
}
