package testutil

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/pkg/notify"
)

const traceeEnv = "FGACD_TEST_TRACEE"

// TraceeOptions sets up a tracee.
type TraceeOptions struct {
	// Socket: register with fgacd there. Empty: pass the listener to the
	// test over an inherited socket (Tracee.Listener).
	Socket   string
	Metadata string
	UID, GID uint32 // default 65534
	Dir      string // working directory
	Umask    int    // default 022
	// WaitKillable sets SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19), which
	// stops signals from withdrawing a notification. runc 1.1 does not.
	WaitKillable bool
	// Nrs are the trapped syscalls; default mknod, mknodat, mount, umount2.
	Nrs []uint32
	// Ioctls are trapped ioctl commands (linux.GPIOLineIoctls).
	Ioctls []uint32
	// NewMountNS starts the tracee in a mount namespace of its own (made
	// private, so nothing it mounts propagates to the host).
	NewMountNS bool
}

// Tracee is an unprivileged child process under a notify filter.
type Tracee struct {
	Pid int
	// Listener is the filter's listener fd when Socket was empty; the test
	// owns it.
	Listener int

	cmd *exec.Cmd
	in  *json.Encoder
	out *bufio.Scanner
}

// Command is one request to the tracee.
type Command struct {
	Op   string `json:"op"`
	Dir  string `json:"dir,omitempty"` // dirfd: this directory opened O_PATH; "" = AT_FDCWD
	Path string `json:"path,omitempty"`
	Mode uint32 `json:"mode,omitempty"`
	Dev  uint64 `json:"dev,omitempty"`
	Addr uint64 `json:"addr,omitempty"`
	N    int    `json:"n,omitempty"`
	// mount and the races
	Source string `json:"source,omitempty"`
	FSType string `json:"fstype,omitempty"`
	Flags  uint64 `json:"flags,omitempty"`
	Data   string `json:"data,omitempty"`
	Alt    string `json:"alt,omitempty"`
	// GPIO (see gpio.go): Fd is a chip or line fd the tracee holds.
	Fd         int      `json:"fd,omitempty"`
	Lines      []uint32 `json:"lines,omitempty"`
	Values     uint64   `json:"values,omitempty"`
	Mask       uint64   `json:"mask,omitempty"`
	EventFlags uint32   `json:"event_flags,omitempty"`
	V1         bool     `json:"v1,omitempty"`
	TimeoutMs  int      `json:"timeout_ms,omitempty"`
}

// Result is the tracee's answer.
type Result struct {
	Errno  int    `json:"errno"`
	OK     int    `json:"ok,omitempty"`
	Exist  int    `json:"exist,omitempty"`
	Other  int    `json:"other,omitempty"`
	Sigs   int64  `json:"sigs,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// tally counts one answer of a repeated call: OK a success, Other an
// EPERM, Exist any other errno (the last kept in Errno).
func (r *Result) tally(e linux.Errno) {
	switch e {
	case 0:
		r.OK++
	case linux.EPERM:
		r.Other++
	default:
		r.Exist++
		r.Errno = int(e)
	}
}

// StartTracee starts a tracee; it is killed at the end of the test.
func StartTracee(t testing.TB, o TraceeOptions) *Tracee {
	t.Helper()
	if o.UID == 0 {
		o.UID = 65534
	}
	if o.GID == 0 {
		o.GID = 65534
	}
	if o.Umask == 0 {
		o.Umask = 0o22
	}
	if len(o.Nrs) == 0 {
		o.Nrs = defaultNrs()
	}
	cfg, _ := json.Marshal(o)
	// /proc/self/exe: the test binary sits in a 0700 build directory an
	// unprivileged child could not reach by path; the magic link skips it.
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), traceeEnv+"="+string(cfg))
	cmd.Dir = o.Dir
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: o.UID, Gid: o.GID, Groups: []uint32{}},
		// Go makes / MS_REC|MS_PRIVATE in the child after this unshare.
		// No Pdeathsig: it fires when the forking OS thread exits, and the
		// daemon's throw-away threads (internal/nsexec) do exit. Cleanup
		// kills the tracee instead.
	}
	if o.NewMountNS {
		cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
	}
	tr := &Tracee{Listener: -1}
	var parent *os.File
	if o.Socket == "" {
		fds, err := linux.Socketpair(linux.SOCK_SEQPACKET)
		if err != nil {
			t.Fatal(err)
		}
		parent = os.NewFile(uintptr(fds[0]), "tracee-parent")
		child := os.NewFile(uintptr(fds[1]), "tracee-child")
		defer child.Close()
		defer parent.Close()
		cmd.ExtraFiles = []*os.File{child}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr.cmd, tr.Pid = cmd, cmd.Process.Pid
	tr.in = json.NewEncoder(stdin)
	tr.out = bufio.NewScanner(stdout)
	t.Cleanup(tr.Kill)
	if parent != nil {
		c, err := net.FileConn(parent)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		buf, oob := make([]byte, 16), make([]byte, linux.CmsgSpace(1))
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, oobn, _, _, err := c.(*net.UnixConn).ReadMsgUnix(buf, oob)
		if err != nil {
			t.Fatalf("tracee did not send its listener: %v", err)
		}
		fds, err := linux.ParseRights(oob[:oobn])
		if err != nil || len(fds) != 1 {
			t.Fatalf("tracee listener: %v %v", fds, err)
		}
		tr.Listener = fds[0]
	}
	// The tracee says "ready" once its filter is loaded and registered.
	if r := tr.read(t); r.Detail != "ready" {
		t.Fatalf("tracee setup: %+v", r)
	}
	return tr
}

func (tr *Tracee) read(t testing.TB) Result {
	t.Helper()
	if !tr.out.Scan() {
		t.Fatalf("tracee %d gave no answer: %v", tr.Pid, tr.out.Err())
	}
	var r Result
	if err := json.Unmarshal(tr.out.Bytes(), &r); err != nil {
		t.Fatalf("tracee answer %q: %v", tr.out.Bytes(), err)
	}
	if r.Errno < 0 {
		t.Fatalf("tracee: %s", r.Detail)
	}
	return r
}

// Do runs one command and returns the answer.
func (tr *Tracee) Do(t testing.TB, c Command) Result {
	t.Helper()
	if err := tr.in.Encode(c); err != nil {
		t.Fatalf("tracee %d: %v", tr.Pid, err)
	}
	return tr.read(t)
}

// Send starts a command without waiting for the answer.
func (tr *Tracee) Send(t testing.TB, c Command) {
	t.Helper()
	if err := tr.in.Encode(c); err != nil {
		t.Fatalf("tracee %d: %v", tr.Pid, err)
	}
}

// Mknod makes the tracee call mknodat(dir or AT_FDCWD, path, mode, dev).
func (tr *Tracee) Mknod(t testing.TB, dir, path string, mode uint32, dev uint64) linux.Errno {
	t.Helper()
	return linux.Errno(tr.Do(t, Command{Op: "mknodat", Dir: dir, Path: path, Mode: mode, Dev: dev}).Errno)
}

// Kill ends the tracee and reaps it.
func (tr *Tracee) Kill() {
	if tr.cmd == nil || tr.cmd.Process == nil {
		return
	}
	tr.cmd.Process.Kill()
	tr.cmd.Wait()
	tr.cmd = nil
	if tr.Listener >= 0 {
		linux.Close(tr.Listener)
		tr.Listener = -1
	}
}

// MaybeRunTracee turns the test binary into a tracee when started by
// StartTracee. Call it first in TestMain.
func MaybeRunTracee() {
	cfg := os.Getenv(traceeEnv)
	if cfg == "" {
		return
	}
	os.Exit(traceeMain(cfg))
}

func traceeMain(cfg string) int {
	out := json.NewEncoder(os.Stdout)
	fail := func(format string, args ...any) int {
		out.Encode(Result{Errno: -1, Detail: fmt.Sprintf(format, args...)})
		return 1
	}
	var o TraceeOptions
	if err := json.Unmarshal([]byte(cfg), &o); err != nil {
		return fail("config: %v", err)
	}
	linux.Umask(o.Umask)
	// SIGUSR1 gets a Go handler, installed with SA_RESTART.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGUSR1)
	flags := uint(linux.SECCOMP_FILTER_FLAG_TSYNC | linux.SECCOMP_FILTER_FLAG_TSYNC_ESRCH)
	if o.WaitKillable {
		flags |= linux.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
	lfd, err := linux.InstallNotifyFilter(linux.NotifyFilter{Arch: linux.NativeArch, Notify: o.Nrs, Ioctls: o.Ioctls, Flags: flags})
	if err != nil {
		return fail("install filter: %v", err)
	}
	if o.Socket != "" {
		conn, err := notify.Register(o.Socket, lfd, notify.ContainerProcessState{Metadata: o.Metadata})
		if err != nil {
			return fail("%v", err)
		}
		defer conn.Close() // kept open: fgacd must not wait for EOF
	} else {
		f := os.NewFile(3, "parent")
		c, err := net.FileConn(f)
		if err != nil {
			return fail("parent socket: %v", err)
		}
		if _, _, err := c.(*net.UnixConn).WriteMsgUnix([]byte("L"), linux.UnixRights(lfd), nil); err != nil {
			return fail("send listener: %v", err)
		}
		c.Close()
		f.Close()
	}
	linux.Close(lfd)
	out.Encode(Result{Detail: "ready"})

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var c Command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			return fail("command: %v", err)
		}
		out.Encode(traceeDo(c))
	}
	return 0
}

func traceeDo(c Command) Result {
	dirfd := linux.AT_FDCWD
	if c.Dir != "" {
		fd, err := linux.Open(c.Dir, linux.O_PATH|linux.O_DIRECTORY, 0)
		if err != nil {
			return Result{Errno: int(linux.ErrnoOf(err)), Detail: err.Error()}
		}
		defer linux.Close(fd)
		dirfd = fd
	}
	switch c.Op {
	case "mknodat":
		return Result{Errno: int(linux.RawMknodat(dirfd, c.Path, c.Mode, c.Dev))}
	case "mknodat_ret": // OK is the call's return value (an fd a supervisor injected)
		r, e := linux.RawMknodatRet(dirfd, c.Path, c.Mode, c.Dev)
		return Result{OK: int(r), Errno: int(e)}
	case "mknodat_ptr": // a raw (possibly bad) path pointer
		_, e := linux.RawSyscall6(linux.SYS_MKNODAT, uintptr(dirfd), uintptr(c.Addr), uintptr(c.Mode), uintptr(c.Dev), 0, 0)
		return Result{Errno: int(e)}
	case "repeat": // N identical calls: OK successes, Other EPERMs, Exist any other errno (the last in Errno)
		var r Result
		for i := 0; i < c.N; i++ {
			r.tally(linux.RawMknodat(dirfd, c.Path, c.Mode, c.Dev))
		}
		return r
	case "hammer":
		return hammer(c)
	case "mount":
		return Result{Errno: int(linux.RawMount(c.Source, c.Path, c.FSType, uintptr(c.Flags), c.Data))}
	case "umount2":
		return Result{Errno: int(linux.RawUmount2(c.Path, int(c.Flags)))}
	case "mountrace_buf": // Path and Alt alternate in the target buffer
		return Result{OK: linux.MountRaceBuffer(c.Path, c.Alt, c.FSType, c.Data, c.Path, uintptr(c.Flags), c.N)}
	case "mountrace_link":
		return mountRaceLink(c)
	case "mount_hammer": // N mounts (FSType, Data) on Path, each unmounted, under signals
		return mountHammer(c)
	case "open": // openat(dirfd, Path, Flags): OK is the fd
		fd, err := linux.Openat(dirfd, c.Path, int(c.Flags), 0)
		if err != nil {
			return Result{Errno: int(linux.ErrnoOf(err)), Detail: err.Error()}
		}
		return Result{OK: fd}
	case "close":
		return Result{Errno: int(linux.ErrnoOf(linux.Close(c.Fd)))}
	case "gpio_v2": // request Lines on chip Fd: OK is the line fd
		fd, e := GPIORequestV2(c.Fd, c.Lines, c.Flags, c.Values)
		return Result{OK: fd, Errno: int(e)}
	case "gpio_v1_handle":
		vals := make([]byte, len(c.Lines))
		for i := range vals {
			vals[i] = byte(c.Values >> i & 1)
		}
		fd, e := GPIORequestV1Handle(c.Fd, c.Lines, uint32(c.Flags), vals)
		return Result{OK: fd, Errno: int(e)}
	case "gpio_v1_event":
		fd, e := GPIORequestV1Event(c.Fd, c.Lines[0], uint32(c.Flags), c.EventFlags)
		return Result{OK: fd, Errno: int(e)}
	case "gpio_chipinfo": // chip info on Fd: Detail is the label
		info, err := linux.GPIOGetChipInfo(c.Fd)
		return Result{Errno: int(linux.ErrnoOf(err)), Detail: info.Label}
	case "ioctl_ptr": // ioctl(Fd, Flags, Addr) with a raw (possibly bad) pointer
		_, e := linux.RawSyscall6(linux.SYS_IOCTL, uintptr(c.Fd), uintptr(c.Flags), uintptr(c.Addr), 0, 0, 0)
		return Result{Errno: int(e)}
	case "gpio_setconfig": // v2 SET_CONFIG of line fd Fd to Flags
		return Result{Errno: int(GPIOSetConfigV2(c.Fd, c.Flags))}
	case "gpio_set": // v2 SET_VALUES on line fd Fd
		return Result{Errno: int(GPIOSetValuesV2(c.Fd, c.Values, c.Mask))}
	case "gpio_event": // wait for one edge event on line fd Fd: OK is its id
		id, e := GPIOReadEvent(c.Fd, c.V1, c.TimeoutMs)
		return Result{OK: int(id), Errno: int(e)}
	case "open_repeat": // N opens of Path, each closed again
		var r Result
		for i := 0; i < c.N; i++ {
			fd, err := linux.Openat(dirfd, c.Path, 0, 0)
			if err != nil {
				r.Other++
				continue
			}
			r.OK++
			linux.Close(fd)
		}
		return r
	case "gpio_hammer": // gpio_repeat while SIGUSR1 (SA_RESTART) keeps hitting the thread
		return signalStorm(func() Result { return gpioRepeat(c) })
	case "gpio_repeat": // N v2 requests of Lines on Fd, each closed again
		return gpioRepeat(c)
	}
	return Result{Errno: -1, Detail: "unknown op " + c.Op}
}

// gpioRepeat makes N v2 requests of Lines on chip Fd, closing each line
// fd: OK grants, Other EPERMs, Exist any other errno (the last in Errno;
// EBUSY is what a line fd left behind would cause).
func gpioRepeat(c Command) Result {
	var r Result
	for i := 0; i < c.N; i++ {
		fd, e := GPIORequestV2(c.Fd, c.Lines, c.Flags, 0)
		if e == 0 {
			linux.Close(fd)
		}
		r.tally(e)
	}
	return r
}

// signalStorm runs fn on a locked thread while another goroutine sends
// that thread SIGUSR1 (a Go handler with SA_RESTART) every 20 µs or so.
func signalStorm(fn func() Result) Result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := linux.Gettid()
	var stop atomic.Bool
	var sigs atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			if linux.Tgkill(os.Getpid(), tid, syscall.SIGUSR1) == nil {
				sigs.Add(1)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	r := fn()
	stop.Store(true)
	<-done
	r.Sigs = sigs.Load()
	return r
}

// hammer makes and removes a node N times on one thread while another
// goroutine sends that thread SIGUSR1 (a Go handler with SA_RESTART) as
// fast as it can: each signal that lands while fgacd handles the call
// withdraws the notification and restarts the call.
func hammer(c Command) Result {
	return signalStorm(func() Result {
		var r Result
		for i := 0; i < c.N; i++ {
			switch e := linux.RawMknodat(linux.AT_FDCWD, c.Path, c.Mode, c.Dev); e {
			case 0:
				r.OK++
				if err := linux.Unlinkat(linux.AT_FDCWD, c.Path, 0); err != nil {
					r.Detail = "unlink: " + err.Error()
					return r
				}
			case linux.EEXIST:
				r.Exist++
				linux.Unlinkat(linux.AT_FDCWD, c.Path, 0)
			default:
				r.Other++
				r.Detail = "last errno " + strconv.Itoa(int(e))
			}
		}
		return r
	})
}

// mountHammer mounts FSType on Path and unmounts it, N times, under a
// signal storm as hammer's: OK counts mounts that succeeded, Other mounts
// that failed (the last errno in Detail), Exist umounts that failed (a
// umount answered after its notification was withdrawn restarts and finds
// nothing mounted: EINVAL).
func mountHammer(c Command) Result {
	return signalStorm(func() Result {
		var r Result
		for i := 0; i < c.N; i++ {
			if e := linux.RawMount(c.FSType, c.Path, c.FSType, uintptr(c.Flags), c.Data); e != 0 {
				r.Other++
				r.Detail = "mount: last errno " + strconv.Itoa(int(e))
				continue
			}
			r.OK++
			if e := linux.RawUmount2(c.Path, 0); e != 0 {
				r.Exist++
			}
		}
		return r
	})
}

// mountRaceLink mounts on Path (through the symlink Dir/link) N times while
// another goroutine keeps swapping that symlink between Source (allowed)
// and Alt (not allowed), atomically by rename. Each mount that succeeds is
// taken off Source again.
func mountRaceLink(c Command) Result {
	link := c.Dir + "/link"
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			dst := c.Source
			if i%2 == 1 {
				dst = c.Alt
			}
			tmp := link + ".new"
			os.Remove(tmp)
			if os.Symlink(dst, tmp) == nil {
				os.Rename(tmp, link)
			}
		}
	}()
	var r Result
	for i := 0; i < c.N; i++ {
		switch e := linux.RawMount(c.FSType, c.Path, c.FSType, uintptr(c.Flags), c.Data); e {
		case 0:
			r.OK++
			linux.RawUmount2(c.Source, 0)
		case linux.EPERM:
			r.Other++
		default:
			r.Exist++ // other errnos (ENOENT while the link is replaced)
		}
	}
	stop.Store(true)
	<-done
	return r
}

// Wait reads the answer to a command started with Send.
func (tr *Tracee) Wait(t testing.TB) Result {
	t.Helper()
	return tr.read(t)
}
