package handlers

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/nsexec"
	"github.com/fgacd/fgacd/pkg/memread"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// memReader is what handlers need of pkg/memread.
type memReader interface {
	Read(pid int, addr uint64, buf []byte) error
	ReadCString(pid int, addr uint64, buf []byte) (int, error)
	Write(pid int, addr uint64, buf []byte) error
	Prefetch(pid int, addrs []uint64, scratch []byte, out []string, ok []bool)
}

// Validator is the caller's listener as handlers use it; *notify.Session
// is one. IDValid checks that a notification is still pending
// (SECCOMP_IOCTL_NOTIF_ID_VALID); InjectFD installs an fd in the caller
// without answering (SECCOMP_IOCTL_NOTIF_ADDFD, 5.9).
type Validator interface {
	IDValid(id uint64) error
	InjectFD(id uint64, fd int, cloexec bool) (int, error)
	CanInjectFD() bool
}

// Decider is the caller's policy profile (*policy.Profile).
type Decider interface {
	Decide(policy.Request) policy.Decision
	DecideByName(req policy.Request, name string) (policy.Decision, bool)
	// GrantsGPIOLines reports whether some rule can grant lines of the
	// chip labelled chip (then an open of it that is not granted gets an
	// O_PATH handle to ask for them through).
	GrantsGPIOLines(chip string) bool
}

// Call is one notification for a handler.
type Call struct {
	Req     *notify.Request
	Valid   Validator
	Profile Decider
	// Local runs emulations on the session's own thread; nil: the pool.
	Local *nsexec.Local
	// Buf holds the path the handler reads; strings the handler puts in
	// the Outcome may point into it, so it must stay untouched until the
	// next notification of the session. The session owns it.
	Buf *PathBuf
}

// PathBuf is a buffer for one path argument (PATH_MAX).
type PathBuf [memread.PathMax]byte

// Outcome is what a handler did and what the caller gets.
type Outcome struct {
	// Request is what the decision was taken on (for the record).
	Request  policy.Request
	Decision policy.Decision
	Decided  bool // false: the call failed before the policy was asked
	Errno    linux.Errno
	Val      int64
	Continue bool
	// Err says why the call failed before or after the decision (for the
	// record); the caller sees Errno.
	Err error
	// Effect is what an emulation changed, kept until the caller has
	// surely seen the answer; nil when nothing changed.
	Effect Effect
	// Inject: the answer is InjectFD, an fd of the daemon's, installed in
	// the caller (its number there is the call's result). The Outcome owns
	// InjectFD until dispatch hands it to the session or closes it.
	Inject        bool
	InjectFD      int
	InjectCloexec bool

	mknod policy.MknodArgs // storage for Request.Mknod, so decoding does not allocate
	gpio  policy.GPIOArgs  // storage for Request.GPIO
}

// Effect is a side effect of an emulated call.
type Effect interface {
	// Undo reverts the effect if it is still the one the emulation made,
	// and reports whether it did.
	Undo() bool
	// Intact reports whether the effect is still in place, unchanged.
	Intact() bool
	// Release frees what the effect holds (fds). Call it exactly once.
	Release()
}

// Reset clears o for reuse.
func (o *Outcome) Reset() { *o = Outcome{} }

// fail records an error that ends the call before or after the decision.
func (o *Outcome) fail(err error, def linux.Errno) {
	o.Err = err
	o.Errno = ErrnoOf(err, def)
}

// Settle turns what a handler's resolve-decide-act step returned into the
// answer: err fails the call; otherwise a deny or continue decision is
// applied. It reports whether the decision was to emulate (and, with a nil
// err, that it went through). Dispatch uses it too, for a decision taken
// without the arguments.
func (o *Outcome) Settle(err error) (emulated bool) {
	if err != nil {
		o.fail(err, linux.EPERM)
		return false
	}
	switch o.Decision.Action {
	case policy.ActionDeny:
		o.Errno = linux.Errno(o.Decision.Errno)
	case policy.ActionContinue:
		o.Continue = true
	case policy.ActionEmulate:
		return true
	}
	return false
}

// ErrnoOf is the one place an error becomes the errno a caller sees: the
// errno inside err, or def when it carries none. Never 0: an error is never
// a success.
func ErrnoOf(err error, def linux.Errno) linux.Errno {
	var e linux.Errno
	if errors.As(err, &e) && e != 0 {
		return e
	}
	if def == 0 {
		return linux.EPERM
	}
	return def
}

// errGone: the caller's notification is no longer pending (it was killed
// or interrupted); whatever we answer is discarded.
var errGone = errors.New("notification no longer valid")

// Handlers holds what handlers share.
type Handlers struct {
	mem memReader

	poolOnce sync.Once
	pool     *nsexec.Pool
	poolErr  error

	selfOnce  sync.Once
	selfNs    uint64       // the daemon's mount namespace inode
	selfRoot  linux.FileID // the daemon's root
	selfFdDir int          // /proc/self/fd (threads share the fd table and the root)
	selfNsFd  int          // the daemon's mount namespace (to undo mounts made in it)

	gpioMajor atomic.Uint32 // the gpiochip character major, once known
	chipsMu   sync.Mutex
	chips     map[uint64]*chipEntry // the daemon's chip fds, by device number
}

// sharesView reports whether the caller thread tid is in the daemon's
// mount namespace with the daemon's root: then paths resolve for it as
// they do for any daemon thread (statx on /proc, no fds opened). The
// caller is blocked in its syscall and cannot change its own namespace or
// root meanwhile; the caller validates the notification afterwards.
func (h *Handlers) sharesView(tid int) bool {
	h.selfOnce.Do(func() {
		h.selfFdDir = -1
		root, err := linux.StatID("/")
		if err != nil {
			return
		}
		nsFd, err := linux.Open("/proc/self/ns/mnt", linux.O_RDONLY, 0)
		if err != nil {
			return
		}
		ns, err := linux.NsIno(nsFd)
		if err != nil {
			linux.Close(nsFd)
			return
		}
		fdDir, err := linux.Open("/proc/self/fd", linux.O_PATH|linux.O_DIRECTORY, 0)
		if err != nil {
			linux.Close(nsFd)
			return
		}
		h.selfNs, h.selfRoot, h.selfFdDir, h.selfNsFd = ns, root, fdDir, nsFd
	})
	if h.selfFdDir < 0 {
		return false
	}
	dir := procDir(tid)
	ns, err := linux.NsLinkIno(dir + "/ns/mnt")
	if err != nil || ns != h.selfNs {
		return false
	}
	root, err := linux.StatID(dir + "/root")
	return err == nil && root == h.selfRoot
}

// workers returns the thread pool emulations run on, made on first use.
func (h *Handlers) workers() (*nsexec.Pool, error) {
	h.poolOnce.Do(func() { h.pool, h.poolErr = nsexec.New(4) })
	return h.pool, h.poolErr
}

// run runs fn in the worker pool.
func (h *Handlers) run(c *Call, fn func(*nsexec.Thread) error) error {
	if c != nil && c.Local != nil {
		return c.Local.Run(fn)
	}
	p, err := h.workers()
	if err != nil {
		return err
	}
	return p.Run(fn)
}

// NewLocal returns a runner for one session's goroutine (see
// nsexec.Local), or nil when the pool could not be made.
func (h *Handlers) NewLocal() *nsexec.Local {
	p, err := h.workers()
	if err != nil {
		return nil
	}
	return p.NewLocal()
}

// Close stops the worker threads and closes the daemon's chip fds.
func (h *Handlers) Close() {
	h.chipsMu.Lock()
	for rdev, e := range h.chips {
		delete(h.chips, rdev)
		if e.gone = true; e.refs == 0 {
			linux.Close(e.fd)
		}
	}
	h.chipsMu.Unlock()
	if p, _ := h.workers(); p != nil {
		p.Close()
	}
}

// New returns handlers that read tracee memory with mem; nil means a
// default memread.Reader.
func New(mem memReader) *Handlers {
	if mem == nil {
		mem = &memread.Reader{}
	}
	return &Handlers{mem: mem}
}

// Handle runs e's handler.
func (h *Handlers) Handle(e *Entry, c *Call, out *Outcome) {
	e.handle(h, e, c, out)
}
