package notify

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/metrics"
)

// ServerConfig configures the intake socket; zero fields take defaults.
type ServerConfig struct {
	Path string      // default /run/fgacd/fgacd.sock
	Mode os.FileMode // default 0666: any local user may register; the policy decides what it gets
	// MaxMessage caps one registration's JSON (default 64 KiB).
	MaxMessage int
	// ReadTimeout bounds how long a client may take to send its message (default 5s).
	ReadTimeout time.Duration
	// MaxFds is the most fds one message may pass (default 4).
	MaxFds int
	// MaxPending caps registrations being read at once (default 64);
	// more are refused at once so a flood of idle connections cannot pin
	// the daemon.
	MaxPending int
	// TrustedUIDs are the peers whose message fields (pid, metadata,
	// annotations, container id) are believed: OCI runtimes. Default [0].
	TrustedUIDs []uint32
	// AllowUIDs, when set, is the only peers allowed to register at all.
	AllowUIDs []uint32
	// ProcRoot is where /proc is (tests point it elsewhere).
	ProcRoot string
	Session  SessionConfig
	// Started runs when a session starts serving; Ended when it stops.
	// gone is true when its tracees exited or it failed, false when the
	// daemon closed it (shutdown): a restarted daemon may adopt it again.
	Started func(*Session)
	Ended   func(s *Session, gone bool)
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.Path == "" {
		c.Path = "/run/fgacd/fgacd.sock"
	}
	if c.Mode == 0 {
		c.Mode = 0o666
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = 64 << 10
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 5 * time.Second
	}
	if c.MaxFds <= 0 {
		c.MaxFds = 4
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 64
	}
	if c.TrustedUIDs == nil {
		c.TrustedUIDs = []uint32{0}
	}
	if c.ProcRoot == "" {
		c.ProcRoot = "/proc"
	}
	return c
}

// Server is the intake: it accepts registrations on a UNIX stream socket
// and runs a Session for each listener fd it receives.
type Server struct {
	cfg     ServerConfig
	log     *zap.Logger
	metrics *metrics.Metrics
	opener  Opener
	ln      *net.UnixListener

	pending chan struct{}
	nextID  atomic.Uint64
	closing atomic.Bool

	mu       sync.Mutex
	conns    map[*net.UnixConn]struct{}
	sessions map[uint64]*Session
	wg       sync.WaitGroup
}

// Listen creates the intake socket. An existing socket file is replaced
// only when nothing answers on it (a stale one from a crash); a live
// daemon there is an error.
func Listen(cfg ServerConfig, opener Opener, log *zap.Logger, m *metrics.Metrics) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
		return nil, fmt.Errorf("intake socket: %w", err)
	}
	if err := RemoveStaleSocket(cfg.Path); err != nil {
		return nil, fmt.Errorf("intake socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: cfg.Path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("intake socket: %w", err)
	}
	if err := os.Chmod(cfg.Path, cfg.Mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("intake socket: %w", err)
	}
	return NewServer(ln, cfg, opener, log, m), nil
}

// NewServer serves on an existing listener (socket activation, tests).
func NewServer(ln *net.UnixListener, cfg ServerConfig, opener Opener, log *zap.Logger, m *metrics.Metrics) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.withDefaults()
	return &Server{
		cfg: cfg, log: log, metrics: m, opener: opener, ln: ln,
		pending:  make(chan struct{}, cfg.MaxPending),
		conns:    map[*net.UnixConn]struct{}{},
		sessions: map[uint64]*Session{},
	}
}

// RemoveStaleSocket removes the socket file at path if nothing answers on
// it (left by a crash). A live listener there, or a file that is not a
// socket, is an error; a missing file is not.
func RemoveStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%s: another fgacd is listening there", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale %s: %w", path, err)
	}
	return nil
}

// Addr is the socket's path.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve accepts registrations until Close. It returns nil after Close.
func (s *Server) Serve() error {
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off instead of spinning.
			s.log.Error("accept on intake socket", zap.Error(err))
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case s.pending <- struct{}{}:
		default:
			s.metrics.Reject(metrics.RejectTimeout)
			s.log.Warn("registration refused: too many pending registrations", zap.Int("max_pending", s.cfg.MaxPending))
			conn.Close()
			continue
		}
		if !s.track(conn) {
			<-s.pending
			conn.Close()
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sess := s.register(conn)
			<-s.pending
			if sess != nil {
				// A fresh goroutine: this one's stack grew while decoding
				// JSON, and an idle session should cost a small stack.
				s.spawn(sess)
			}
		}()
	}
}

func (s *Server) track(c *net.UnixConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *net.UnixConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close stops accepting, ends every session and waits for them. Calling
// it again waits again and returns nil.
func (s *Server) Close() error {
	var err error
	if !s.closing.Swap(true) {
		err = s.ln.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	for _, ss := range s.sessions {
		ss.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// SessionInfo is a live session, for status.
type SessionInfo struct {
	ID       uint64
	Identity Identity
	Profile  string
	Handled  uint64
}

// Sessions lists live sessions.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SessionInfo, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, SessionInfo{ID: ss.ID, Identity: ss.Identity, Profile: ss.Profile(), Handled: ss.Handled()})
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// rejectError is a refused registration: reason is the metric label.
type rejectError struct {
	reason string
	err    error
}

func (e *rejectError) Error() string { return e.err.Error() }
func (e *rejectError) Unwrap() error { return e.err }

func reject(reason string, format string, args ...any) error {
	return &rejectError{reason: reason, err: fmt.Errorf(format, args...)}
}

// register reads one registration and closes the connection: runtimes
// expect no answer, and keep their own end open.
func (s *Server) register(conn *net.UnixConn) *Session {
	defer s.untrack(conn)
	defer conn.Close()
	log := s.log
	sess, err := s.readRegistration(conn, &log)
	if err != nil {
		var re *rejectError
		reason := metrics.RejectIO
		if errors.As(err, &re) {
			reason = re.reason
		}
		s.metrics.Reject(reason)
		if reason == metrics.RejectNoMessage {
			log.Debug("registration closed without a message")
		} else {
			log.Warn("registration refused", zap.String("reason", reason), zap.Error(err))
		}
		return nil
	}
	return sess
}

// readRegistration reads one message and its fds. Every received fd is
// closed on every path except the listener handed to the new Session.
func (s *Server) readRegistration(conn *net.UnixConn, logp **zap.Logger) (sess *Session, err error) {
	var fds []int
	defer func() {
		for _, fd := range fds {
			if fd >= 0 {
				linux.Close(fd)
			}
		}
	}()

	peer, peerPidfd, err := peerOf(conn)
	if err != nil {
		return nil, reject(metrics.RejectIdentity, "peer credentials: %w", err)
	}
	if peerPidfd >= 0 {
		defer linux.Close(peerPidfd)
	}
	*logp = s.log.With(zap.Int32("peer_pid", peer.Pid), zap.Uint32("peer_uid", peer.Uid))
	if len(s.cfg.AllowUIDs) > 0 && !slices.Contains(s.cfg.AllowUIDs, peer.Uid) {
		return nil, reject(metrics.RejectPeer, "peer uid %d may not register", peer.Uid)
	}

	if err := conn.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)); err != nil {
		return nil, err
	}
	// Messages are a few hundred bytes: start small and grow up to the
	// cap, so a thousand registrations do not leave 64 MiB of garbage.
	buf := make([]byte, min(1024, s.cfg.MaxMessage))
	// One more fd than allowed fits, so "too many" is seen, not truncated.
	oob := make([]byte, linux.CmsgSpace(s.cfg.MaxFds+1))
	var sc objectScanner
	got, end := 0, -1
	for end < 0 {
		if got == len(buf) {
			if got >= s.cfg.MaxMessage {
				return nil, reject(metrics.RejectTooLarge, "message larger than %d bytes", s.cfg.MaxMessage)
			}
			buf = append(buf, make([]byte, min(len(buf), s.cfg.MaxMessage-len(buf)))...)
		}
		n, oobn, flags, _, rerr := conn.ReadMsgUnix(buf[got:], oob)
		if oobn > 0 {
			more, perr := linux.ParseRights(oob[:oobn])
			fds = append(fds, more...)
			if perr != nil {
				return nil, reject(metrics.RejectFds, "%w", perr)
			}
		}
		if flags&linux.MSG_CTRUNC != 0 || len(fds) > s.cfg.MaxFds {
			return nil, reject(metrics.RejectFds, "more than %d fds passed", s.cfg.MaxFds)
		}
		if n > 0 {
			e, serr := sc.feed(buf[got : got+n])
			if serr != nil {
				return nil, reject(metrics.RejectBadJSON, "%w", serr)
			}
			if e >= 0 {
				end = got + e
			}
			got += n
		}
		if rerr != nil && end < 0 {
			var ne net.Error
			switch {
			case errors.As(rerr, &ne) && ne.Timeout():
				return nil, reject(metrics.RejectTimeout, "no complete message within %s (%d bytes)", s.cfg.ReadTimeout, got)
			case errors.Is(rerr, io.EOF) && got == 0 && len(fds) == 0:
				return nil, reject(metrics.RejectNoMessage, "connection closed before a message")
			case errors.Is(rerr, io.EOF):
				return nil, reject(metrics.RejectBadJSON, "connection closed inside the message (%d bytes)", got)
			default:
				return nil, reject(metrics.RejectIO, "read registration: %w", rerr)
			}
		}
	}
	msg, err := ParseMessage(buf[:end])
	if err != nil {
		return nil, reject(metrics.RejectBadJSON, "%w", err)
	}
	idx, err := msg.SeccompFdIndex(len(fds))
	if err != nil {
		return nil, reject(metrics.RejectFds, "%w", err)
	}
	lfd := fds[idx]
	if ok, p := linux.IsSeccompListener(lfd); !ok {
		return nil, reject(metrics.RejectNotNotify, "fd named %q is not a seccomp listener (%q)", SeccompFdName, p)
	}

	id, err := s.identify(peer, peerPidfd, msg)
	if err != nil {
		return nil, reject(metrics.RejectIdentity, "%w", err)
	}
	fds[idx] = -1 // the session owns it from here, even if NewSession fails
	sess, err = NewSession(lfd, id, s.cfg.Session, nil, s.metrics)
	if err != nil {
		return nil, reject(metrics.RejectIO, "start session: %w", err)
	}
	return sess, nil
}

func peerOf(conn *net.UnixConn) (linux.Ucred, int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return linux.Ucred{}, -1, err
	}
	var cred linux.Ucred
	pidfd := -1
	var cerr error
	err = rc.Control(func(fd uintptr) {
		cred, cerr = linux.Peercred(int(fd))
		if cerr == nil {
			// SO_PEERPIDFD (6.5) pins the peer as of connect(2).
			if p, err := linux.PeerPidfd(int(fd)); err == nil {
				pidfd = p
			}
		}
	})
	if err == nil {
		err = cerr
	}
	if err == nil && pidfd < 0 {
		pidfd, err = linux.PidfdOpen(int(cred.Pid), false)
	}
	if err != nil {
		if pidfd >= 0 {
			linux.Close(pidfd)
		}
		return linux.Ucred{}, -1, err
	}
	return cred, pidfd, nil
}

// identify builds the session identity. The peer is always known from the
// kernel; the message's fields are believed only from a trusted runtime.
func (s *Server) identify(peer linux.Ucred, peerPidfd int, msg *ContainerProcessState) (Identity, error) {
	pi, err := pinnedIdentity(s.cfg.ProcRoot, int(peer.Pid), peerPidfd)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{
		PeerPid: int(peer.Pid), PeerUID: peer.Uid, PeerGID: peer.Gid, PeerExe: pi.Exe,
		Pid: int(peer.Pid), UID: peer.Uid, GID: peer.Gid, Exe: pi.Exe, Cgroup: pi.Cgroup,
		OCIVersion: msg.Version,
	}
	if !slices.Contains(s.cfg.TrustedUIDs, peer.Uid) {
		return id, nil
	}
	id.Trusted = true
	id.Metadata = msg.Metadata
	id.ContainerID = msg.State.ID
	id.Bundle = msg.State.Bundle
	id.Annotations = msg.State.Annotations
	pid := msg.Pid
	if pid == 0 {
		pid = msg.State.Pid
	}
	if pid > 0 && pid != int(peer.Pid) {
		tpi, err := processIdentity(s.cfg.ProcRoot, pid)
		if err != nil {
			return Identity{}, err
		}
		id.Pid, id.UID, id.GID, id.Exe, id.Cgroup = pid, tpi.UID, tpi.GID, tpi.Exe, tpi.Cgroup
	}
	return id, nil
}

// run serves sess until it ends, in its own goroutine.
func (s *Server) run(sess *Session) {
	sess.ID = s.nextID.Add(1)
	id := &sess.Identity
	sess.Log = s.log.With(zap.Uint64("session", sess.ID), zap.Int("pid", id.Pid), zap.Uint32("uid", id.UID),
		zap.String("exe", id.Exe), zap.String("container", id.ContainerID))
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		sess.Close()
		sess.Serve(nopHandler{}) // closes the fd
		return
	}
	s.sessions[sess.ID] = sess
	s.mu.Unlock()
	s.metrics.SessionOpened()
	h := s.opener.Open(sess)
	sess.Log.Info("session started", zap.Bool("trusted", id.Trusted), zap.String("metadata", id.Metadata),
		zap.Bool("sync_wake_up", sess.SyncWakeUp), zap.Bool("adopted", sess.StoreName != ""))
	if s.cfg.Started != nil {
		s.cfg.Started(sess)
	}
	err := sess.Serve(h)
	h.Close()
	if s.cfg.Ended != nil {
		s.cfg.Ended(sess, !errors.Is(err, ErrSessionClosed))
	}
	s.metrics.SessionClosed()
	s.mu.Lock()
	delete(s.sessions, sess.ID)
	s.mu.Unlock()
	switch {
	case err == nil:
		sess.Log.Info("session ended: no task uses the filter", zap.Uint64("handled", sess.Handled()))
	case errors.Is(err, ErrSessionClosed):
		sess.Log.Info("session closed", zap.Uint64("handled", sess.Handled()))
	default:
		sess.Log.Error("session failed", zap.Error(err), zap.Uint64("handled", sess.Handled()))
	}
}

// Handoff is a listener fd (a dup the caller owns) and who is behind it,
// for handing a session to another process.
type Handoff struct {
	Fd       int
	Identity Identity
	Name     string // StoreName; set by the caller when empty
	Session  *Session
}

// Handoffs dups the listener of every live session. The sessions keep
// serving until Close; the caller owns the dups.
func (s *Server) Handoffs() []Handoff {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Handoff, 0, len(s.sessions))
	for _, ss := range s.sessions {
		fd, err := linux.Dup(ss.Fd())
		if err != nil {
			continue
		}
		out = append(out, Handoff{Fd: fd, Identity: ss.Identity, Name: ss.StoreName, Session: ss})
	}
	return out
}

// ListenerFile dups the intake socket, and makes Close leave its file in
// place: another process is taking it over.
func (s *Server) ListenerFile() (*os.File, error) {
	s.ln.SetUnlinkOnClose(false)
	return s.ln.File()
}

// Adopt serves a listener fd that did not come through the intake: one
// kept across a restart (systemd's fd store, or handed over by the old
// process). The Server owns fd from here, even on error. name is the
// session's name in the fd store.
func (s *Server) Adopt(fd int, id Identity, name string) error {
	if ok, p := linux.IsSeccompListener(fd); !ok {
		linux.Close(fd)
		return fmt.Errorf("adopt fd %d: not a seccomp listener (%q)", fd, p)
	}
	sess, err := NewSession(fd, id, s.cfg.Session, nil, s.metrics)
	if err != nil {
		return fmt.Errorf("adopt: %w", err)
	}
	sess.StoreName = name
	s.spawn(sess)
	return nil
}

// spawn serves sess on a goroutine of its own, which Close waits for.
func (s *Server) spawn(sess *Session) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.run(sess)
	}()
}

type nopHandler struct{}

func (nopHandler) Handle(*Session, *Request, *Response) {}
func (nopHandler) Close()                               {}
