package notify

import (
	"github.com/fgacd/fgacd/internal/linux"
)

// Request is one notification as the kernel gave it.
type Request struct {
	ID   uint64
	Pid  int // thread id of the caller, in the daemon's pid namespace
	Arch uint32
	Nr   int32
	IP   uint64
	Args [6]uint64
}

// Response is the answer to a Request. The zero value is "return 0".
type Response struct {
	Errno    linux.Errno // returned as -errno when nonzero
	Val      int64       // the syscall's return value when Errno is 0
	Continue bool        // SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the call with the caller's own rights
	// Finish, when set, runs after SEND. cancelled is true when SEND said
	// ENOENT: the caller was interrupted (or the watchdog answered first)
	// and will not see this answer, so any side effect must be undone.
	Finish func(cancelled bool)
	// Inject asks for InjectFD, an fd of the daemon's, to be installed in
	// the caller as the call's result (SECCOMP_IOCTL_NOTIF_ADDFD): the
	// call returns its number there. The session owns InjectFD once
	// Handle returns, and closes it after answering.
	Inject        bool
	InjectFD      int
	InjectCloexec bool // the caller's copy gets FD_CLOEXEC
}

// Handler answers notifications for one session. Handle runs on the
// session's goroutine, one notification at a time.
type Handler interface {
	Handle(s *Session, req *Request, resp *Response)
	// Close releases what the handler holds for the session.
	Close()
}

// Opener makes the Handler for a new session, after its identity is known.
type Opener interface {
	Open(s *Session) Handler
}

// Identity says who is behind a session, from the kernel: the peer's
// SO_PEERCRED and pidfd; the tracee's /proc entries. OCI fields are set only
// when the peer is a trusted runtime.
type Identity struct {
	PeerPid int
	PeerUID uint32
	PeerGID uint32
	PeerExe string

	Trusted bool // the peer is a configured trusted runtime

	Pid    int // the tracee: the JSON pid for a trusted peer, else the peer
	UID    uint32
	GID    uint32
	Exe    string
	Cgroup string

	OCIVersion  string
	Metadata    string
	ContainerID string
	Bundle      string
	Annotations map[string]string

	// Unknown marks a listener adopted without its identity record (after
	// a restart): it must be served deny-only.
	Unknown bool `json:",omitempty"`
}
