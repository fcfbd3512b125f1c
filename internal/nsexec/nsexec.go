// Package nsexec runs code in a caller's view of the system — its mount
// namespace, root, cwd, umask, filesystem credentials — without disturbing
// the daemon's shared threads.
//
// Work runs on a small pool of worker goroutines, each locked to an OS
// thread that has its own fs_struct (unshare(CLONE_FS)). A job may setns
// into a mount namespace (through Thread.Setns), chroot, chdir, change
// umask, fs credentials and effective capabilities; after each job the
// worker puts all of that back to the daemon's own. A worker whose state
// cannot be put back exits without unlocking, so the Go runtime throws the
// thread away (runtime.LockOSThread), and a new one takes its place.
//
// Why a pool: creating and ending a thread per call cost 0.1–0.2 ms on the
// 2-vCPU VM, as much as a whole native tmpfs mount and umount; a handoff to
// a waiting worker costs microseconds. No process is forked or executed.
//
// Fd ownership: the Pool owns the fds of the daemon's own root, cwd and
// mount namespace (opened by New, closed by Close). Fds a job opens are
// the job's to close or return; the fd table is shared with the daemon.
package nsexec

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/fgacd/fgacd/internal/linux"
)

// Thread is the worker a job runs on.
type Thread struct {
	p         *Pool
	nsMoved   bool
	credMoved bool
	fdDir     int // this thread's /proc/thread-self/fd, opened on first use
}

// SetCreds gives the worker the filesystem identity uid/gid/groups
// (linux.SetCreds); the pool restores root's after the job.
func (t *Thread) SetCreds(uid, gid uint32, groups []int) error {
	t.credMoved = true
	return linux.SetCreds(uid, gid, groups)
}

// RaiseEffectiveCap puts cap back into the effective set after SetCreds.
func (t *Thread) RaiseEffectiveCap(c int) error {
	t.credMoved = true
	return linux.RaiseEffectiveCap(c)
}

// FdDir returns an fd on this thread's /proc/thread-self/fd in the
// daemon's /proc (opened before any setns or chroot), to name fds as
// paths from the thread's root. Owned by the thread; do not close.
func (t *Thread) FdDir() (int, error) {
	if t.fdDir >= 0 {
		return t.fdDir, nil
	}
	if t.nsMoved {
		return -1, errors.New("nsexec: FdDir after Setns")
	}
	fd, err := linux.Open("/proc/thread-self/fd", linux.O_PATH|linux.O_DIRECTORY, 0)
	if err != nil {
		return -1, err
	}
	t.fdDir = fd
	return fd, nil
}

// Setns moves the worker into the mount namespace behind fd. It is a no-op
// when that is the daemon's own namespace and the worker is still there:
// setns costs tens of microseconds.
func (t *Thread) Setns(fd int) error {
	if !t.nsMoved {
		if ino, err := linux.NsIno(fd); err == nil && ino == t.p.nsIno {
			return nil
		}
	}
	t.nsMoved = true
	return linux.Setns(fd, linux.CLONE_NEWNS)
}

// Pool runs jobs on worker threads.
type Pool struct {
	root, cwd, mntns int
	nsIno            uint64
	groups           []int
	umask            int

	mu      sync.Mutex
	idle    []chan job
	workers int
	max     int
	closed  bool
}

type job struct {
	fn   func(*Thread) error
	done chan error
}

// New returns a pool of at most size workers (at least 1), capturing the
// calling process's root, cwd, mount namespace, groups and umask as the
// state workers return to.
func New(size int) (*Pool, error) {
	p := &Pool{root: -1, cwd: -1, mntns: -1, max: max(size, 1)}
	var err error
	if p.root, err = linux.Open("/", linux.O_PATH|linux.O_DIRECTORY, 0); err != nil {
		return nil, fmt.Errorf("nsexec: %w", err)
	}
	if p.cwd, err = linux.Open(".", linux.O_PATH|linux.O_DIRECTORY, 0); err != nil {
		p.Close()
		return nil, fmt.Errorf("nsexec: %w", err)
	}
	if p.mntns, err = linux.Open("/proc/thread-self/ns/mnt", linux.O_RDONLY, 0); err != nil {
		p.Close()
		return nil, fmt.Errorf("nsexec: %w", err)
	}
	if p.nsIno, err = linux.NsIno(p.mntns); err != nil {
		p.Close()
		return nil, fmt.Errorf("nsexec: %w", err)
	}
	if p.groups, err = linux.Getgroups(); err != nil {
		p.Close()
		return nil, fmt.Errorf("nsexec: %w", err)
	}
	p.umask = linux.Umask(0o022)
	linux.Umask(p.umask)
	return p, nil
}

// Close ends idle workers and releases the pool's fds; jobs running now
// finish first on their own.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	for _, w := range p.idle {
		close(w)
	}
	p.idle = nil
	p.mu.Unlock()
	for _, fd := range []int{p.root, p.cwd, p.mntns} {
		if fd >= 0 {
			linux.Close(fd)
		}
	}
}

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("nsexec: pool closed")

// Run runs fn on a worker thread and returns its error. A panic in fn is
// returned as an error (and the worker is thrown away): the daemon must
// survive it.
func (p *Pool) Run(fn func(*Thread) error) error {
	j := job{fn: fn, done: make(chan error, 1)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w <- j
		return <-j.done
	}
	if p.workers >= p.max {
		// All busy: run on a throw-away thread rather than queue behind
		// a job that may be stuck (a hanging FUSE mount, say).
		p.mu.Unlock()
		go p.throwaway(j)
		return <-j.done
	}
	p.workers++
	p.mu.Unlock()
	w := make(chan job, 1)
	go p.worker(w)
	w <- j
	return <-j.done
}

func (p *Pool) throwaway(j job) {
	runtime.LockOSThread()
	// Never unlocked: this thread's state is the caller's; it dies here.
	if err := linux.UnshareFS(); err != nil {
		j.done <- err
		return
	}
	t := &Thread{p: p, fdDir: -1}
	j.done <- safely(j.fn, t)
}

func (p *Pool) worker(w chan job) {
	runtime.LockOSThread()
	defer func() {
		p.mu.Lock()
		p.workers--
		p.mu.Unlock()
		// Exiting locked: the runtime ends this thread.
	}()
	if err := linux.UnshareFS(); err != nil {
		if j, ok := <-w; ok {
			j.done <- err
		}
		return
	}
	// The thread's fd directory is opened once and reused by every job.
	fdDir := -1
	defer func() {
		if fdDir >= 0 {
			linux.Close(fdDir)
		}
	}()
	for j := range w {
		t := &Thread{p: p, fdDir: fdDir}
		err, panicked := safelyP(j.fn, t)
		fdDir = t.fdDir
		rerr := p.reset(t)
		j.done <- err
		if panicked || rerr != nil {
			return
		}
		p.mu.Lock()
		if p.closed || len(p.idle) >= p.max {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
	}
}

// reset puts the worker back into the daemon's state.
func (p *Pool) reset(t *Thread) error {
	if t.credMoved {
		if err := linux.SetCreds(0, 0, p.groups); err != nil {
			return err
		}
		if err := linux.RestoreEffectiveCaps(); err != nil {
			return err
		}
	}
	if t.nsMoved {
		if err := linux.Setns(p.mntns, linux.CLONE_NEWNS); err != nil {
			return err
		}
	}
	if err := linux.Fchdir(p.root); err != nil {
		return err
	}
	if err := linux.ChrootHere(); err != nil {
		return err
	}
	if err := linux.Fchdir(p.cwd); err != nil {
		return err
	}
	linux.Umask(p.umask)
	return nil
}

func safely(fn func(*Thread) error, t *Thread) error {
	err, _ := safelyP(fn, t)
	return err
}

func safelyP(fn func(*Thread) error, t *Thread) (err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err, panicked = fmt.Errorf("nsexec: panic: %v", r), true
		}
	}()
	return fn(t), false
}

// Local runs jobs on the calling goroutine's own thread, saving the two
// thread hand-offs of Pool.Run (each a cross-CPU wake-up: about 20 µs on
// the 2-vCPU VM). The thread gets its own fs_struct on first use
// (unshare(CLONE_FS) is a no-op once it has one), and its state is put back
// after every job, as a pool worker's is. If that fails, the goroutine
// stays locked to the thread, which is then only ever used by this
// goroutine and dies with it; its later jobs go to the pool.
//
// One Local per goroutine (a session's); not safe for concurrent use.
// The daemon must not chdir, chroot or change its umask after start:
// threads with their own fs_struct would not see it.
type Local struct {
	p        *Pool
	poisoned bool
	// The fd directory of the thread this goroutine last ran a job on:
	// reused while the goroutine keeps landing on the same thread.
	fdDir, fdTid int
}

// NewLocal returns a Local falling back to p.
func (p *Pool) NewLocal() *Local { return &Local{p: p, fdDir: -1} }

// Close releases the cached fd directory.
func (l *Local) Close() {
	if l.fdDir >= 0 {
		linux.Close(l.fdDir)
		l.fdDir = -1
	}
}

// Run runs fn on the calling goroutine's thread.
func (l *Local) Run(fn func(*Thread) error) error {
	if l.poisoned {
		return l.p.Run(fn)
	}
	runtime.LockOSThread()
	if err := linux.UnshareFS(); err != nil {
		runtime.UnlockOSThread() // nothing changed
		return err
	}
	if tid := linux.Gettid(); tid != l.fdTid && l.fdDir >= 0 {
		linux.Close(l.fdDir)
		l.fdDir = -1
	}
	t := &Thread{p: l.p, fdDir: l.fdDir}
	err, panicked := safelyP(fn, t)
	l.fdDir, l.fdTid = t.fdDir, linux.Gettid()
	if rerr := l.p.reset(t); rerr != nil || panicked {
		l.poisoned = true // stays locked: the thread dies with the goroutine
		return err
	}
	runtime.UnlockOSThread()
	return err
}
