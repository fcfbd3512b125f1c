package notify

import (
	"encoding/json"
	"fmt"
	"net"
	"os"

	"github.com/fgacd/fgacd/internal/linux"
)

// Register sends a listener fd to fgacd at socketPath with msg (its Fds
// are set to name the one fd) and returns the connection, which the caller
// should keep open for as long as it likes: fgacd does not wait for EOF.
// The caller keeps its own copy of fd and should close it once sent, so
// that the listener dies with fgacd rather than with the caller.
func Register(socketPath string, fd int, msg ContainerProcessState) (*net.UnixConn, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("register with fgacd: %w (is fgacd running?)", err)
	}
	if err := Send(conn, fd, msg); err != nil {
		conn.Close()
		return nil, fmt.Errorf("register with fgacd: %w", err)
	}
	return conn, nil
}

// Send writes one registration on an open connection: msg (its Fds set
// to name the one fd) with fd in SCM_RIGHTS.
func Send(conn *net.UnixConn, fd int, msg ContainerProcessState) error {
	if msg.Version == "" {
		msg.Version = "1.0.2"
	}
	if msg.Pid == 0 {
		msg.Pid = os.Getpid()
	}
	if msg.State.Version == "" {
		msg.State.Version = msg.Version
	}
	if msg.State.Status == "" {
		msg.State.Status = "running"
	}
	msg.Fds = []string{SeccompFdName}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, _, err = conn.WriteMsgUnix(b, linux.UnixRights(fd), nil)
	return err
}
