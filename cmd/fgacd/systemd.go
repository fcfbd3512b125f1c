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
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("sd_notify: %w", err)
	}
	return &notifier{conn: conn}, nil
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

// activationListener returns the intake socket systemd passed
// (fgacd.socket; sd_listen_fds(3): LISTEN_PID, LISTEN_FDS from fd 3,
// LISTEN_FDNAMES), or nil when fgacd was not socket-activated.
func activationListener() (*net.UnixListener, error) {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return nil, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	if err != nil || n < 1 {
		return nil, errors.New("socket activation: LISTEN_FDS is not a positive number")
	}
	var found *net.UnixListener
	for i := 0; i < n; i++ {
		f := os.NewFile(uintptr(3+i), "listen-fd")
		name := ""
		if i < len(names) {
			name = names[i]
		}
		ln, err := net.FileListener(f)
		f.Close() // FileListener dups it
		if err != nil {
			continue
		}
		ul, ok := ln.(*net.UnixListener)
		if !ok || found != nil || (name != "" && name != "intake" && name != "fgacd.socket" && n > 1) {
			ln.Close()
			continue
		}
		found = ul
	}
	if found == nil {
		return nil, errors.New("socket activation: no UNIX stream listening socket among the passed fds")
	}
	// systemd owns the socket file: closing the listener must not remove it.
	found.SetUnlinkOnClose(false)
	return found, nil
}
