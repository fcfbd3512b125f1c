package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fgacd/fgacd/internal/testutil"
)

// The sd_notify and socket-activation protocols, spoken to a peer that
// does what systemd does: a unixgram NOTIFY_SOCKET it reads, and a
// listening intake socket passed as fd 3 with LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES. (This machine kind runs no systemd of its own.)
func TestSystemdNotifyAndSocketActivation(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "fgacd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	notifyPath := filepath.Join(tmp, "notify.sock")
	nsock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nsock.Close()
	intake := filepath.Join(tmp, "fgacd.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: intake, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()

	pdir := filepath.Join(tmp, "policies")
	os.Mkdir(pdir, 0o755)
	data, _ := os.ReadFile("../../policies/demo.toml")
	os.WriteFile(filepath.Join(pdir, "demo.toml"), data, 0o644)

	var stderr bytes.Buffer
	// LISTEN_PID must name fgacd itself: the shell's pid, kept by exec.
	admin := filepath.Join(tmp, "admin.sock")
	cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ exec "$0" run -config /dev/null -policy-dir "$1" -admin "$2" -metrics off -log-format console`, bin, pdir, admin)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath, "LISTEN_FDS=1", "LISTEN_FDNAMES=fgacd.socket", "WATCHDOG_USEC=200000")
	cmd.ExtraFiles = []*os.File{lf}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	defer cmd.Process.Kill()
	defer func() {
		if t.Failed() {
			t.Logf("fgacd stderr:\n%s", stderr.String())
		}
	}()

	msgs := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := nsock.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	expect := func(prefix string) string {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("notify socket closed waiting for %q", prefix)
				}
				if strings.HasPrefix(m, prefix) {
					return m
				}
			case <-deadline:
				t.Fatalf("no %q from fgacd", prefix)
			}
		}
	}
	if m := expect("READY=1"); !strings.Contains(m, "STATUS=serving") {
		t.Errorf("READY without a status: %q", m)
	}
	expect("WATCHDOG=1")

	// The intake works on the inherited socket.
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: intake, Net: "unix"})
	if err != nil {
		t.Fatalf("inherited intake socket: %v", err)
	}
	c.Write([]byte("not json"))
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("garbage registration got an answer")
	}
	c.Close()

	// fgacd status reads the admin socket.
	var sout, serr bytes.Buffer
	if code := realMain([]string{"status", "-admin", admin}, &sout, &serr); code != 0 || !strings.Contains(sout.String(), "sessions") {
		t.Errorf("fgacd status: exit %d\n%s%s", code, sout.String(), serr.String())
	}
	if fi, err := os.Stat(admin); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket mode: %v %v", fi, err)
	}

	cmd.Process.Signal(syscall.SIGHUP)
	if m := expect("RELOADING=1"); !strings.Contains(m, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING without MONOTONIC_USEC: %q", m)
	}
	expect("READY=1")
	cmd.Process.Signal(syscall.SIGTERM)
	expect("STOPPING=1")
	if err := cmd.Wait(); err != nil {
		t.Errorf("fgacd exit: %v", err)
	}
	if _, err := os.Stat(intake); err != nil {
		t.Errorf("the socket systemd owns was removed: %v", err)
	}
}
