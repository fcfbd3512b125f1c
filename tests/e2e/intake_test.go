package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/notify"
)

func dial(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// send writes b with fds, then waits until the daemon closed the
// connection (it always does, after a registration or a refusal).
func sendAndWaitClose(t *testing.T, c *net.UnixConn, b []byte, fds ...int) {
	t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = linux.UnixRights(fds...)
	}
	if _, _, err := c.WriteMsgUnix(b, oob, nil); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("daemon answered; it should only close")
	}
	c.Close()
}

func pipeFds(t *testing.T) (int, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rfd, _ := linux.Dup(int(r.Fd()))
	wfd, _ := linux.Dup(int(w.Fd()))
	r.Close()
	w.Close()
	return rfd, wfd
}

const goodMsg = `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"state":{"ociVersion":"1.0.2","id":"x","status":"creating","pid":1,"bundle":"/b"}}`

func TestIntakeSurvivesBadClients(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{ReadTimeout: 300 * time.Millisecond, MaxMessage: 4096})
	// Warm up so lazily opened fds (epoll, /proc handles) are counted in
	// the baseline.
	tr0 := d.tracee(t, testutil.TraceeOptions{})
	tr0.Mknod(t, "", filepath.Join(d.dir, "warm"), linux.S_IFCHR|0o666, linux.Mkdev(1, 3))
	tr0.Kill()
	waitFor(t, "warm-up session to end", func() bool { return len(d.srv.Sessions()) == 0 })
	before := testutil.OpenFds(t)
	g0 := goroutines()

	rejects := func(reason string) float64 {
		return d.counter(t, "fgacd_intake_rejects_total", map[string]string{"reason": reason})
	}
	cases := []struct {
		name, reason string
		run          func()
	}{
		{"garbage bytes", "bad_json", func() {
			sendAndWaitClose(t, dial(t, d.socket), []byte("\x00\xffGET / HTTP/1.0\r\n\r\n"))
		}},
		{"oversized JSON", "too_large", func() {
			sendAndWaitClose(t, dial(t, d.socket), []byte(`{"metadata":"`+strings.Repeat("a", 8192)))
		}},
		{"no fd", "bad_fds", func() {
			sendAndWaitClose(t, dial(t, d.socket), []byte(goodMsg))
		}},
		{"a pipe instead of a listener", "not_seccomp_listener", func() {
			r, w := pipeFds(t)
			sendAndWaitClose(t, dial(t, d.socket), []byte(goodMsg), r)
			linux.Close(r)
			linux.Close(w)
		}},
		{"too many fds", "bad_fds", func() {
			var fds []int
			for i := 0; i < 4; i++ {
				r, w := pipeFds(t)
				fds = append(fds, r, w)
			}
			sendAndWaitClose(t, dial(t, d.socket), []byte(goodMsg), fds...)
			for _, fd := range fds {
				linux.Close(fd)
			}
		}},
		{"unknown field", "bad_json", func() {
			sendAndWaitClose(t, dial(t, d.socket), []byte(`{"ociVersion":"1","fds":[],"pidz":3}`))
		}},
		{"connects and hangs", "timeout", func() {
			c := dial(t, d.socket)
			c.Write([]byte(`{"ociVersion":`))
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Error("hanging client got data")
			}
			c.Close()
		}},
		{"connects and sends nothing", "no_message", func() {
			c := dial(t, d.socket)
			c.CloseWrite()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			c.Read(make([]byte, 1))
			c.Close()
		}},
	}
	for _, c := range cases {
		n := rejects(c.reason)
		c.run()
		waitFor(t, c.name+" to be counted", func() bool { return rejects(c.reason) == n+1 })
	}
	waitFor(t, "fds to return to the baseline", func() bool { return len(testutil.FdLeaks(t, before)) == 0 })
	waitFor(t, "goroutines to return to the baseline", func() bool { return goroutines() <= g0 })

	// A valid registration right after works.
	tr := d.tracee(t, testutil.TraceeOptions{})
	if e := tr.Mknod(t, "", filepath.Join(d.dir, "after"), linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != 0 {
		t.Fatalf("registration after bad clients: errno %v", e)
	}
}

// A runtime that writes its message in pieces, pretty-printed like crun,
// and keeps the connection open, is served as soon as the object is whole.
func TestIntakeSplitPrettyMessageWithOpenConnection(t *testing.T) {
	d := startDaemon(t, notify.ServerConfig{})
	tr := testutil.StartTracee(t, testutil.TraceeOptions{Dir: d.dir}) // hands us its listener
	// We are root, a trusted runtime: the message's pid names the tracee.
	msg := "{\n  \"ociVersion\": \"0.2.0\",\n  \"fds\": [\n    \"seccompFd\"\n  ],\n  \"pid\": " + strconv.Itoa(tr.Pid) + ",\n" +
		"  \"metadata\": \"\",\n  \"state\": {\n    \"ociVersion\": \"0.2.0\",\n    \"id\": \"c1\",\n" +
		"    \"status\": \"creating\",\n    \"pid\": " + strconv.Itoa(tr.Pid) + ",\n    \"bundle\": \"/run/c1\"\n  }\n}\n"
	c := dial(t, d.socket)
	defer c.Close()
	if _, _, err := c.WriteMsgUnix([]byte(msg[:7]), linux.UnixRights(tr.Listener), nil); err != nil {
		t.Fatal(err)
	}
	for i := 7; i < len(msg); i += 11 {
		time.Sleep(time.Millisecond)
		c.Write([]byte(msg[i:min(i+11, len(msg))]))
	}
	linux.Close(tr.Listener)
	tr.Listener = -1
	// The connection stays open; the call must still be answered.
	if e := tr.Mknod(t, "", filepath.Join(d.dir, "split"), linux.S_IFCHR|0o666, linux.Mkdev(1, 3)); e != 0 {
		t.Fatalf("mknod through a split registration: errno %v", e)
	}
}
