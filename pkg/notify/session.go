package notify

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/metrics"
)

// SessionConfig tunes a Session; zero fields take the defaults.
type SessionConfig struct {
	// Deadline bounds how long a notification may wait for its answer;
	// past it the watchdog answers EPERM. Default 5s.
	Deadline time.Duration
	// HotWindow is how long a session keeps its thread in poll(2) after
	// the last notification before parking in the netpoller. Default 20ms.
	HotWindow time.Duration
}

func (c SessionConfig) withDefaults() SessionConfig {
	if c.Deadline <= 0 {
		c.Deadline = 5 * time.Second
	}
	if c.HotWindow <= 0 {
		c.HotWindow = 20 * time.Millisecond
	}
	return c
}

// Session serves one listener fd.
type Session struct {
	// ID numbers sessions within one daemon run, for logs and status.
	ID       uint64
	Identity Identity
	Log      *zap.Logger
	// SyncWakeUp says SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6) is on.
	SyncWakeUp bool
	// StoreName is the session's name in systemd's fd store, if kept there.
	StoreName string

	cfg     SessionConfig
	metrics *metrics.Metrics
	fd      int
	file    *os.File // owns fd; registers it with the netpoller
	rc      syscall.RawConn

	closing atomic.Bool
	revents int16 // set by readyFn
	readyFn func(uintptr) bool

	// The watchdog answers the notification in flight when the handler
	// runs past the deadline. mu orders its SEND against the fd's close.
	mu       sync.Mutex
	fdClosed bool
	inFlight atomic.Uint64
	since    atomic.Int64 // when inFlight was received, UnixNano

	notif linux.SeccompNotif
	req   Request
	resp  Response
	kresp linux.SeccompNotifResp

	handled   atomic.Uint64
	cancelled atomic.Uint64
	profile   atomic.Pointer[string]
}

// SetProfile records which policy profile serves the session, for status.
func (s *Session) SetProfile(name string) { s.profile.Store(&name) }

// Profile is what SetProfile recorded.
func (s *Session) Profile() string {
	if p := s.profile.Load(); p != nil {
		return *p
	}
	return ""
}

// NewSession takes ownership of the listener fd, even on error.
func NewSession(fd int, id Identity, cfg SessionConfig, log *zap.Logger, m *metrics.Metrics) (*Session, error) {
	if err := linux.SetNonblock(fd, true); err != nil {
		linux.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "seccomp-notify")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("listener fd: %w", err)
	}
	s := &Session{Identity: id, Log: log, cfg: cfg.withDefaults(), metrics: m, fd: fd, file: f, rc: rc}
	if s.Log == nil {
		s.Log = zap.NewNop()
	}
	s.readyFn = s.ready
	// SYNC_WAKE_UP keeps the hand-off on one CPU (6.6; 1.9x lower latency
	// measured here). Older kernels say EINVAL: run without it.
	s.SyncWakeUp = linux.NotifSetFlags(fd, linux.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == nil
	return s, nil
}

// Fd returns the listener fd, borrowed: valid until Serve returns.
func (s *Session) Fd() int { return s.fd }

// Handled returns how many notifications the session answered, counting
// answers the caller never saw (interrupted, or the watchdog answered first).
func (s *Session) Handled() uint64 { return s.handled.Load() }

// IDValid checks that the notification is still pending, so that what was
// read about its caller (memory, /proc) belongs to that caller.
func (s *Session) IDValid(id uint64) error { return linux.NotifIDValid(s.fd, id) }

// Close asks Serve to stop; Serve closes the listener. Safe to call more
// than once and from any goroutine.
func (s *Session) Close() error {
	if s.closing.Swap(true) {
		return nil
	}
	// Wakes a netpoller wait at once; a hot poll(2) ends within HotWindow.
	return s.file.SetReadDeadline(time.Now())
}

// ErrSessionClosed is returned by Serve after Close.
var ErrSessionClosed = errors.New("session closed")

// Serve answers notifications until every task using the filter has exited
// (returns nil), Close is called (ErrSessionClosed) or the listener fails.
// It closes the listener fd before returning.
func (s *Session) Serve(h Handler) (err error) {
	watchdog.add(s)
	defer func() {
		watchdog.remove(s)
		s.mu.Lock()
		s.fdClosed = true
		s.file.Close()
		s.mu.Unlock()
	}()
	hot := false
	for {
		if s.closing.Load() {
			return ErrSessionClosed
		}
		var rev int16
		if hot {
			rev, err = linux.PollOne(s.fd, linux.POLLIN, int(s.cfg.HotWindow/time.Millisecond))
			if err != nil {
				return err
			}
			if rev == 0 {
				hot = false
				continue
			}
		} else {
			s.revents = 0
			if err := s.rc.Read(s.readyFn); err != nil {
				if s.closing.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
					return ErrSessionClosed
				}
				return fmt.Errorf("wait for listener: %w", err)
			}
			rev = s.revents
			if rev == 0 { // woken by Close
				continue
			}
		}
		if rev&linux.POLLIN == 0 {
			if rev&(linux.POLLERR|linux.POLLNVAL) != 0 {
				return fmt.Errorf("listener poll: revents %#x", rev)
			}
			// POLLHUP (5.8): no task uses the filter any more.
			return nil
		}
		hot = true
		if err := s.serveOne(h); err != nil {
			return err
		}
	}
}

// ready is the netpoller callback: true once the listener is readable or
// hung up, or the session is closing.
func (s *Session) ready(fd uintptr) bool {
	if s.closing.Load() {
		return true
	}
	rev, err := linux.PollOne(int(fd), linux.POLLIN, 0)
	if err != nil {
		rev = linux.POLLERR
	}
	s.revents = rev
	return rev != 0
}

func (s *Session) serveOne(h Handler) error {
	if err := linux.NotifRecv(s.fd, &s.notif); err != nil {
		if errors.Is(err, linux.ENOENT) {
			// Withdrawn before we got it, or (6.11) every target exited.
			s.cancelled.Add(1)
			s.metrics.Cancelled()
			return nil
		}
		return err
	}
	n := &s.notif
	s.req = Request{ID: n.ID, Pid: int(n.Pid), Arch: n.Data.Arch, Nr: n.Data.Nr, IP: n.Data.InstructionPointer, Args: n.Data.Args}
	s.resp = Response{}

	s.since.Store(time.Now().UnixNano())
	s.inFlight.Store(n.ID)
	h.Handle(s, &s.req, &s.resp)
	s.inFlight.Store(0)

	s.kresp = linux.SeccompNotifResp{ID: n.ID}
	switch {
	case s.resp.Continue:
		s.kresp.Flags = linux.SECCOMP_USER_NOTIF_FLAG_CONTINUE
	case s.resp.Errno != 0:
		s.kresp.Error = -int32(s.resp.Errno)
	default:
		s.kresp.Val = s.resp.Val
	}
	s.handled.Add(1)
	var err error
	if s.resp.Inject {
		err = s.answerWithFD()
	} else {
		err = linux.NotifSend(s.fd, &s.kresp)
	}
	cancelled := errors.Is(err, linux.ENOENT)
	if cancelled {
		s.cancelled.Add(1)
		s.metrics.Cancelled()
	}
	if s.resp.Finish != nil {
		s.resp.Finish(cancelled)
	}
	if err != nil && !cancelled {
		return err
	}
	return nil
}

// answerWithFD installs resp.InjectFD in the caller and answers with its
// number: atomically with ADDFD_FLAG_SEND (5.14), else ADDFD then SEND
// (5.9-5.13; a caller interrupted between the two keeps an fd it does not
// know of). A failed install (EMFILE…) becomes the caller's errno.
func (s *Session) answerWithFD() error {
	defer linux.Close(s.resp.InjectFD)
	if s.kresp.Error != 0 || s.kresp.Flags != 0 {
		return linux.NotifSend(s.fd, &s.kresp)
	}
	a := addfdOf(s.kresp.ID, s.resp.InjectFD, s.resp.InjectCloexec)
	switch addfdSupport(s.fd) {
	case addfdSend:
		a.Flags = linux.SECCOMP_ADDFD_FLAG_SEND
		_, err := linux.NotifAddfd(s.fd, &a)
		if err == nil || errors.Is(err, linux.ENOENT) {
			return err
		}
		s.kresp.Error = -int32(linux.ErrnoOf(err))
	case addfdOnly:
		remote, err := linux.NotifAddfd(s.fd, &a)
		if errors.Is(err, linux.ENOENT) {
			return err
		}
		if err != nil {
			s.kresp.Error = -int32(linux.ErrnoOf(err))
		} else {
			s.kresp.Val = int64(remote)
		}
	default:
		s.kresp.Error = -int32(linux.ENOSYS)
	}
	return linux.NotifSend(s.fd, &s.kresp)
}

// InjectFD installs fd in the caller of notification id without answering
// it, and returns the fd's number there: for calls that return the number
// inside a struct (GPIO line requests) rather than as the result.
func (s *Session) InjectFD(id uint64, fd int, cloexec bool) (int, error) {
	if addfdSupport(s.fd) == addfdNone {
		return -1, ErrNoAddfd
	}
	a := addfdOf(id, fd, cloexec)
	return linux.NotifAddfd(s.fd, &a)
}

// addfdOf is the ADDFD request that installs fd for notification id at
// the lowest free number, close-on-exec if asked.
func addfdOf(id uint64, fd int, cloexec bool) linux.SeccompNotifAddfd {
	a := linux.SeccompNotifAddfd{ID: id, Srcfd: uint32(fd)}
	if cloexec {
		a.NewfdFlags = linux.O_CLOEXEC
	}
	return a
}

// CanInjectFD reports whether this kernel can install fds in callers
// (SECCOMP_IOCTL_NOTIF_ADDFD, 5.9).
func (s *Session) CanInjectFD() bool { return addfdSupport(s.fd) != addfdNone }

// ErrNoAddfd: the kernel predates SECCOMP_IOCTL_NOTIF_ADDFD (5.9), so no
// fd can be handed to a caller.
var ErrNoAddfd = errors.New("this kernel cannot install fds in callers (SECCOMP_IOCTL_NOTIF_ADDFD needs Linux 5.9)")

const (
	addfdUnknown = iota
	addfdSend    // ADDFD with SECCOMP_ADDFD_FLAG_SEND (5.14)
	addfdOnly    // ADDFD, then SEND (5.9-5.13)
	addfdNone    // neither (< 5.9)
)

var addfdLevel atomic.Int32

// addfdSupport probes the kernel once, on the first listener that needs
// it: an ADDFD for a notification id that cannot be pending says ENOENT
// where the ioctl (and the flag) exist.
func addfdSupport(listener int) int32 {
	if l := addfdLevel.Load(); l != addfdUnknown {
		return l
	}
	l := int32(addfdNone)
	switch {
	case linux.ProbeAddfd(listener, true):
		l = addfdSend
	case linux.ProbeAddfd(listener, false):
		l = addfdOnly
	}
	addfdLevel.Store(l)
	return l
}

// expire answers the notification in flight with EPERM if it is older
// than the deadline, so the caller is never left hanging. The handler's own
// SEND then gets ENOENT and its Finish undoes what it did.
func (s *Session) expire(now int64) {
	id := s.inFlight.Load()
	if id == 0 || now-s.since.Load() < int64(s.cfg.Deadline) || id != s.inFlight.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Answer once: the handler may stay stuck for many ticks.
	if s.fdClosed || !s.inFlight.CompareAndSwap(id, 0) {
		return
	}
	r := linux.SeccompNotifResp{ID: id, Error: -int32(linux.EPERM)}
	if linux.NotifSend(s.fd, &r) == nil {
		s.metrics.DeadlineExceeded()
		s.Log.Warn("handler ran past its deadline; answered EPERM", zap.Uint64("notification", id), zap.Duration("deadline", s.cfg.Deadline))
	}
}

// watchdog scans serving sessions for notifications past their deadline.
// One goroutine for all sessions, running only while some session serves:
// a per-notification timer would cost a netpoller wake-up per call (seen
// in perf as an extra context switch per notification), and a goroutine
// per session would wake thousands of idle sessions. Precision: a tick.
var watchdog = &watchdogSet{sessions: map[*Session]struct{}{}}

const watchdogTick = 50 * time.Millisecond

type watchdogSet struct {
	mu       sync.Mutex
	sessions map[*Session]struct{}
	running  bool
}

func (w *watchdogSet) add(s *Session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sessions[s] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop()
	}
}

func (w *watchdogSet) remove(s *Session) {
	w.mu.Lock()
	delete(w.sessions, s)
	w.mu.Unlock()
}

func (w *watchdogSet) loop() {
	t := time.NewTicker(watchdogTick)
	defer t.Stop()
	var batch []*Session
	for now := range t.C {
		w.mu.Lock()
		if len(w.sessions) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		batch = batch[:0]
		for s := range w.sessions {
			if s.inFlight.Load() != 0 {
				batch = append(batch, s)
			}
		}
		w.mu.Unlock()
		for _, s := range batch {
			s.expire(now.UnixNano())
		}
	}
}
