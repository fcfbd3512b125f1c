package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fgacd/fgacd/internal/linux"
)

// notifier speaks systemd's sd_notify protocol (sd_notify(3)): datagrams
// of newline-separated assignments to $NOTIFY_SOCKET. Without systemd
// (no NOTIFY_SOCKET) every call is a no-op, so fgacd runs as a plain
// foreground daemon too.
type notifier struct {
	conn *net.UnixConn
	addr *net.UnixAddr
}

func newNotifier() (*notifier, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET") // children (none today) must not inherit it
	if path == "" {
		return &notifier{}, nil
	}
	if path[0] == '@' { // abstract namespace
		path = "\x00" + path[1:]
	}
	addr := &net.UnixAddr{Name: path, Net: "unixgram"}
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return nil, fmt.Errorf("sd_notify: %w", err)
	}
	return &notifier{conn: conn, addr: addr}, nil
}

// send writes one state update; errors are returned for logging only.
func (n *notifier) send(state ...string) error {
	if n == nil || n.conn == nil {
		return nil
	}
	_, err := n.conn.Write([]byte(strings.Join(state, "\n")))
	return err
}

func (n *notifier) ready(status string) error {
	return n.send("READY=1", "STATUS="+status)
}

// reloading follows Type=notify-reload's protocol (systemd 253): RELOADING
// with the monotonic time, then READY again when done.
func (n *notifier) reloading() error {
	return n.send("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatUint(linux.MonotonicUsec(), 10))
}

func (n *notifier) stopping() error { return n.send("STOPPING=1") }

// watchdogInterval is half of WATCHDOG_USEC when systemd asks for
// keep-alives for this process, else 0.
func watchdogInterval() time.Duration {
	usec, err := strconv.ParseUint(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec == 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond / 2
}

func (n *notifier) close() {
	if n != nil && n.conn != nil {
		n.conn.Close()
	}
}

// enabled reports whether a service manager listens.
func (n *notifier) enabled() bool { return n != nil && n.conn != nil }

// storeFd hands fd to systemd's fd store under name (FDSTORE=1; needs
// FileDescriptorStoreMax= in the unit): it outlives this process and comes
// back in LISTEN_FDS/LISTEN_FDNAMES when fgacd restarts.
func (n *notifier) storeFd(name string, fd int) error {
	if !n.enabled() {
		return nil
	}
	// Go refuses WriteMsgUnix on a connected datagram socket: send the fd
	// from an unconnected one.
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, _, err = c.WriteMsgUnix([]byte("FDSTORE=1\nFDNAME="+name), linux.UnixRights(fd), n.addr)
	return err
}

// removeFd drops name from the fd store (its tracees are gone).
func (n *notifier) removeFd(name string) error {
	return n.send("FDSTOREREMOVE=1", "FDNAME="+name)
}

// sessionFdPrefix names stored listener fds; anything else passed in
// LISTEN_FDS is the intake socket or ignored.
const sessionFdPrefix = "session-"

// activation is what systemd passed at start (sd_listen_fds(3)).
type activation struct {
	intake   *net.UnixListener // fgacd.socket, or nil
	sessions map[string]int    // stored listener fds by name
}

// activationFds reads LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES: the
// intake socket (fgacd.socket) and listener fds kept in the fd store.
func activationFds() (activation, error) {
	var a activation
	// systemd names us in LISTEN_PID; an upgrading fgacd cannot know our
	// pid before the exec and says FGACD_HANDOVER instead.
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) && os.Getenv(handoverEnv) == "" {
		return a, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	if err != nil || n < 1 {
		return a, errors.New("socket activation: LISTEN_FDS is not a positive number")
	}
	a.sessions = map[string]int{}
	for i := 0; i < n; i++ {
		fd := 3 + i
		name := ""
		if i < len(names) {
			name = names[i]
		}
		if strings.HasPrefix(name, sessionFdPrefix) {
			a.sessions[name] = fd
			continue
		}
		f := os.NewFile(uintptr(fd), "listen-fd")
		ln, err := net.FileListener(f)
		f.Close() // FileListener dups it
		if err != nil {
			continue
		}
		ul, ok := ln.(*net.UnixListener)
		if !ok || a.intake != nil {
			ln.Close()
			continue
		}
		// systemd owns the socket file: closing must not remove it.
		ul.SetUnlinkOnClose(false)
		a.intake = ul
	}
	return a, nil
}

// socketPair returns a connected pair of UNIX stream sockets as files.
func socketPair() ([2]*os.File, error) {
	fds, err := linux.Socketpair(linux.SOCK_STREAM)
	if err != nil {
		return [2]*os.File{}, err
	}
	return [2]*os.File{os.NewFile(uintptr(fds[0]), "handover"), os.NewFile(uintptr(fds[1]), "handover")}, nil
}
