package notify_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/notify"
)

func TestMain(m *testing.M) {
	testutil.MaybeRunTracee()
	// Open the Go netpoller's epoll fd now, so that the first test's fd
	// baseline does not count it as a leak.
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r.Close()
	w.Close()
	os.Exit(m.Run())
}

// The session tests serve the listener of a real tracee (uid 65534 under a
// notify filter for mknodat) with a small Handler, and look at what the
// tracee's calls return.

// handlerFunc is a Handler from a func.
type handlerFunc func(s *notify.Session, req *notify.Request, resp *notify.Response)

func (f handlerFunc) Handle(s *notify.Session, req *notify.Request, resp *notify.Response) {
	f(s, req, resp)
}

func (handlerFunc) Close() {}

// served is a Session serving a tracee's listener on its own goroutine.
type served struct {
	s   *notify.Session
	tr  *testutil.Tracee
	dir string // mode 1777, the tracee's cwd
	fd  int    // the listener, owned by s

	done   chan error
	ended  bool
	result error
}

// serve starts a tracee and serves its listener with h. At the end of the
// test the session is closed and waited for, and no fd may be left over.
func serve(t *testing.T, cfg notify.SessionConfig, h notify.Handler) *served {
	t.Helper()
	testutil.RequireRoot(t)
	before := testutil.OpenFds(t)
	t.Cleanup(func() { // runs last, after the tracee is killed
		if leaks := testutil.FdLeaks(t, before); len(leaks) > 0 {
			t.Errorf("fds leaked: %v", leaks)
		}
	})
	dir := filepath.Join(testutil.PublicTempDir(t), "nodes")
	if err := os.Mkdir(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o1777); err != nil { // past the umask
		t.Fatal(err)
	}
	tr := testutil.StartTracee(t, testutil.TraceeOptions{Dir: dir})
	fd := tr.Listener
	tr.Listener = -1 // NewSession owns it from here, even on error
	s, err := notify.NewSession(fd, notify.Identity{}, cfg, zaptest.NewLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	sv := &served{s: s, tr: tr, dir: dir, fd: fd, done: make(chan error, 1)}
	go func() { sv.done <- s.Serve(h) }()
	t.Cleanup(func() {
		s.Close()
		sv.wait(t)
	})
	return sv
}

// wait returns what Serve returned.
func (sv *served) wait(t *testing.T) error {
	t.Helper()
	if !sv.ended {
		select {
		case sv.result = <-sv.done:
			sv.ended = true
		case <-time.After(30 * time.Second):
			t.Fatalf("Serve did not return\n%s", strings.Join(serveStacks(), "\n\n"))
		}
	}
	return sv.result
}

func (sv *served) mknod(t *testing.T, name string, mode uint32, dev uint64) linux.Errno {
	t.Helper()
	return sv.tr.Mknod(t, "", name, mode, dev)
}

// stat returns the node at name in the tracee's directory, or nil.
func (sv *served) stat(t *testing.T, name string) *linux.Stat {
	t.Helper()
	var st linux.Stat
	err := linux.Fstatat(linux.AT_FDCWD, filepath.Join(sv.dir, name), &st, linux.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, linux.ENOENT) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &st
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30s", what)
		panic("unreachable")
	}
}

// serveStacks returns the stacks of the goroutines running Session.Serve.
func serveStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "notify.(*Session).Serve(") {
			out = append(out, g)
		}
	}
	return out
}

// Where a Serve goroutine waits, read from its stack.
const (
	parked = "parked in the netpoller"
	hot    = "in poll(2)"
	other  = "elsewhere"
)

func serveState() (string, int) {
	st := serveStacks()
	if len(st) != 1 {
		return other, len(st)
	}
	switch g := st[0]; {
	case strings.Contains(g, "runtime_pollWait"):
		return parked, 1
	case strings.Contains(g, "linux.PollOne(") && !strings.Contains(g, "RawRead"):
		return hot, 1
	}
	return other, 1
}

// waitFor polls cond until it holds, for up to 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitServeGone(t *testing.T) {
	t.Helper()
	waitFor(t, "the Serve goroutine to exit", func() bool { return len(serveStacks()) == 0 })
}

// The handler's errno is what the tracee's call returns, and the Request
// is the call as the tracee made it.
func TestSessionErrno(t *testing.T) {
	type seen struct {
		req   notify.Request
		valid error
	}
	reqs := make(chan seen, 1)
	sv := serve(t, notify.SessionConfig{}, handlerFunc(func(s *notify.Session, req *notify.Request, resp *notify.Response) {
		reqs <- seen{*req, s.IDValid(req.ID)}
		resp.Errno = linux.EACCES
	}))
	if testutil.KernelAtLeast("6.6") && !sv.s.SyncWakeUp {
		t.Error("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is not on, on a kernel that has it (6.6)")
	}

	const mode = linux.S_IFCHR | 0o640
	dev := linux.Mkdev(1, 3)
	if e := sv.mknod(t, "denied", mode, dev); e != linux.EACCES {
		t.Fatalf("mknod = %v; want EACCES", e)
	}
	got := recv(t, reqs, "request")
	if got.valid != nil {
		t.Errorf("IDValid in the handler: %v", got.valid)
	}
	req := got.req
	if req.Nr != linux.SYS_MKNODAT || req.Arch != linux.NativeArch {
		t.Errorf("nr %d arch %#x; want mknodat (%d) on %#x", req.Nr, req.Arch, linux.SYS_MKNODAT, linux.NativeArch)
	}
	if int32(req.Args[0]) != linux.AT_FDCWD || req.Args[1] == 0 || uint32(req.Args[2]) != mode || req.Args[3] != dev {
		t.Errorf("args %#x; want AT_FDCWD, a path pointer, %#o, %#x", req.Args, mode, dev)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", sv.tr.Pid, req.Pid)); err != nil {
		t.Errorf("request pid %d is not a thread of the tracee %d: %v", req.Pid, sv.tr.Pid, err)
	}
	if err := sv.s.IDValid(req.ID); !errors.Is(err, linux.ENOENT) {
		t.Errorf("IDValid after the answer = %v; want ENOENT", err)
	}
	if sv.stat(t, "denied") != nil {
		t.Error("a denied node exists")
	}
}

// CONTINUE lets the kernel run the call with the caller's own rights: it
// is not a grant. A char device needs CAP_MKNOD, which uid 65534 lacks; a
// FIFO needs none.
func TestSessionContinue(t *testing.T) {
	sv := serve(t, notify.SessionConfig{}, handlerFunc(func(_ *notify.Session, _ *notify.Request, resp *notify.Response) {
		resp.Continue = true
	}))
	if e := sv.mknod(t, "chr", linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != linux.EPERM {
		t.Errorf("char device with CONTINUE: %v; want EPERM from the kernel", e)
	}
	if sv.stat(t, "chr") != nil {
		t.Error("the char device exists")
	}
	if e := sv.mknod(t, "fifo", linux.S_IFIFO|0o666, 0); e != 0 {
		t.Fatalf("FIFO with CONTINUE: %v; want success", e)
	}
	st := sv.stat(t, "fifo")
	if st == nil || st.Mode&linux.S_IFMT != linux.S_IFIFO || st.Uid != 65534 {
		t.Fatalf("FIFO: %+v; want a FIFO owned by 65534, made by the tracee itself", st)
	}
}

// The zero Response returns 0 without the kernel running the call, and
// Handled counts every answer.
func TestSessionValAndHandled(t *testing.T) {
	sv := serve(t, notify.SessionConfig{}, handlerFunc(func(_ *notify.Session, _ *notify.Request, resp *notify.Response) {
		resp.Val = 0
	}))
	for i := range 3 {
		name := fmt.Sprintf("n%d", i)
		if e := sv.mknod(t, name, linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != 0 {
			t.Fatalf("mknod %s = %v; want 0", name, e)
		}
		if sv.stat(t, name) != nil {
			t.Fatalf("%s exists: the kernel ran the call", name)
		}
		if n := sv.s.Handled(); n != uint64(i+1) {
			t.Fatalf("Handled() = %d after %d calls", n, i+1)
		}
	}
}

// A handler past its deadline: the watchdog answers EPERM, the handler's
// own SEND fails with ENOENT and its Finish hears cancelled, and the
// session goes on serving.
func TestSessionWatchdog(t *testing.T) {
	release := make(chan struct{})
	finished := make(chan bool, 2)
	calls := 0
	sv := serve(t, notify.SessionConfig{Deadline: 200 * time.Millisecond}, handlerFunc(func(_ *notify.Session, _ *notify.Request, resp *notify.Response) {
		calls++
		resp.Finish = func(cancelled bool) { finished <- cancelled }
		if calls == 1 {
			// Held until the tracee has its answer from the watchdog.
			select {
			case <-release:
			case <-time.After(30 * time.Second):
			}
			return // Val 0: what the tracee would have seen without the watchdog
		}
		resp.Errno = linux.EACCES
	}))
	if e := sv.mknod(t, "slow", linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != linux.EPERM {
		t.Fatalf("mknod with a stuck handler = %v; want EPERM from the watchdog", e)
	}
	close(release)
	if !recv(t, finished, "Finish of the late answer") {
		t.Error("Finish of the late answer: cancelled = false; want true")
	}
	if e := sv.mknod(t, "next", linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != linux.EACCES {
		t.Fatalf("next mknod = %v; want the handler's EACCES", e)
	}
	if recv(t, finished, "Finish of the next answer") {
		t.Error("Finish of the next answer: cancelled = true; want false")
	}
}

// When the last task using the filter exits, the listener says POLLHUP:
// Serve returns nil, having closed the fd, from either kind of wait.
func TestSessionEndsWhenTraceeExits(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   notify.SessionConfig
		warm  bool // make a call first, so the session waits in poll(2)
		state string
	}{
		{"parked", notify.SessionConfig{}, false, parked},
		{"hot", notify.SessionConfig{HotWindow: time.Hour}, true, hot},
	} {
		t.Run(c.name, func(t *testing.T) {
			sv := serve(t, c.cfg, handlerFunc(func(_ *notify.Session, _ *notify.Request, resp *notify.Response) {
				resp.Errno = linux.EACCES
			}))
			if c.warm && sv.mknod(t, "x", linux.S_IFIFO|0o666, 0) != linux.EACCES {
				t.Fatal("the handler did not answer")
			}
			waitFor(t, "Serve to wait "+c.state, func() bool { s, _ := serveState(); return s == c.state })
			sv.tr.Kill()
			if err := sv.wait(t); err != nil {
				t.Fatalf("Serve = %v; want nil", err)
			}
			if ok, _ := linux.IsSeccompListener(sv.fd); ok {
				t.Errorf("fd %d is still a seccomp listener", sv.fd)
			}
			waitServeGone(t)
		})
	}
}

// Close is cancel: Serve returns ErrSessionClosed, whichever way it waits.
func TestSessionClose(t *testing.T) {
	t.Run("parked", func(t *testing.T) {
		sv := serve(t, notify.SessionConfig{}, handlerFunc(func(*notify.Session, *notify.Request, *notify.Response) {}))
		waitFor(t, "Serve to park", func() bool { s, _ := serveState(); return s == parked })
		if err := sv.s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := sv.wait(t); !errors.Is(err, notify.ErrSessionClosed) {
			t.Fatalf("Serve = %v; want ErrSessionClosed", err)
		}
		if err := sv.s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		waitServeGone(t)
	})
	t.Run("hot", func(t *testing.T) {
		// Long enough to be seen in poll(2) right after a call, short
		// enough that Serve notices Close soon: a hot wait is not
		// interrupted, it ends within HotWindow.
		sv := serve(t, notify.SessionConfig{HotWindow: time.Second}, handlerFunc(func(*notify.Session, *notify.Request, *notify.Response) {}))
		for i := 0; ; i++ {
			if e := sv.mknod(t, "x", linux.S_IFIFO|0o666, 0); e != 0 {
				t.Fatal(e)
			}
			var s string
			waitFor(t, "Serve to wait after a call", func() bool { s, _ = serveState(); return s != other })
			if s == hot {
				break
			}
			if i == 10 {
				t.Fatal("never caught Serve in its hot poll(2)")
			}
		}
		sv.s.Close()
		if err := sv.wait(t); !errors.Is(err, notify.ErrSessionClosed) {
			t.Fatalf("Serve = %v; want ErrSessionClosed", err)
		}
		waitServeGone(t)
	})
	t.Run("before Serve", func(t *testing.T) {
		testutil.RequireRoot(t)
		tr := testutil.StartTracee(t, testutil.TraceeOptions{Dir: testutil.PublicTempDir(t)})
		fd := tr.Listener
		tr.Listener = -1
		s, err := notify.NewSession(fd, notify.Identity{}, notify.SessionConfig{}, zaptest.NewLogger(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if err := s.Serve(handlerFunc(func(*notify.Session, *notify.Request, *notify.Response) {
			t.Error("handler called after Close")
		})); !errors.Is(err, notify.ErrSessionClosed) {
			t.Fatalf("Serve = %v; want ErrSessionClosed", err)
		}
		if ok, _ := linux.IsSeccompListener(fd); ok {
			t.Errorf("fd %d is still a seccomp listener", fd)
		}
	})
}

// An injected fd becomes the call's result in the tracee, atomically with
// ADDFD_FLAG_SEND (5.14) and by ADDFD then SEND as on 5.9-5.13; the
// session closes its own copy either way (the fd check at cleanup).
func TestSessionInjectsFD(t *testing.T) {
	for _, send := range []bool{true, false} {
		t.Run(fmt.Sprintf("flag_send=%v", send), func(t *testing.T) {
			sv := serve(t, notify.SessionConfig{}, handlerFunc(func(s *notify.Session, req *notify.Request, resp *notify.Response) {
				fd, err := linux.Open("/dev/null", linux.O_RDWR, 0)
				if err != nil {
					resp.Errno = linux.EIO
					return
				}
				resp.Inject, resp.InjectFD, resp.InjectCloexec = true, fd, true
			}))
			defer notify.ForceAddfd(send)()
			r := sv.tr.Do(t, testutil.Command{Op: "mknodat_ret", Path: "x", Mode: linux.S_IFIFO | 0o600})
			if r.Errno != 0 || r.OK < 3 {
				t.Fatalf("tracee got %d, errno %v; want an fd", r.OK, linux.Errno(r.Errno))
			}
			link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", sv.tr.Pid, r.OK))
			if err != nil || link != "/dev/null" {
				t.Errorf("fd %d in the tracee is %q (%v), want /dev/null", r.OK, link, err)
			}
			info, _ := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", sv.tr.Pid, r.OK))
			var flags uint64
			for _, l := range strings.Split(string(info), "\n") {
				if v, ok := strings.CutPrefix(l, "flags:"); ok {
					flags, _ = strconv.ParseUint(strings.TrimSpace(v), 8, 64)
				}
			}
			if flags&linux.O_CLOEXEC == 0 {
				t.Errorf("fd %d is not close-on-exec:\n%s", r.OK, info)
			}
		})
	}
}
