package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/fgacd/fgacd/internal/testutil"
)

// freeTCPAddr returns a loopback address whose port was free a moment ago.
// realMain cannot tell us the port it got for "127.0.0.1:0", so pick one.
func freeTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRootRunServesMetricsAndStopsOnSIGINT runs the daemon in-process:
// it must create the intake socket, serve /metrics with fgacd's and the
// Go/process collectors, refuse a second daemon on the same socket, and
// exit 0 on SIGINT, removing its socket.
//
// Not parallel: the SIGINT goes to the whole test process, and only
// realMain's signal.NotifyContext may be listening when it arrives.
func TestRootRunServesMetricsAndStopsOnSIGINT(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := t.TempDir()
	policyDir := filepath.Join(tmp, "policies")
	if err := os.Mkdir(policyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile(filepath.Join("..", "..", "policies", "demo.toml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, policyDir, "demo.toml", string(demo))
	sock := filepath.Join(tmp, "s.sock")
	addr := freeTCPAddr(t)

	// Hold a SIGINT subscription of our own for the whole test, so a SIGINT
	// that arrives when realMain is not listening (it failed early, or has
	// just returned) cannot kill the test binary.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT)
	defer signal.Stop(sigs)

	type result struct {
		code           int
		stdout, stderr string
	}
	var res result
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var stdout, stderr bytes.Buffer
		res.code = realMain([]string{"run", "-config", os.DevNull, "-socket", sock,
			"-policy-dir", policyDir, "-metrics", addr, "-log-level", "warn"}, &stdout, &stderr)
		res.stdout, res.stderr = stdout.String(), stderr.String()
	}()
	// If anything below fails, still stop the daemon before the test ends.
	defer func() {
		select {
		case <-finished:
			return
		default:
		}
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("daemon did not stop within 10s of SIGINT")
		}
	}()

	// The socket exists only after signal.NotifyContext, so from here on a
	// SIGINT is the daemon's to handle.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Lstat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		select {
		case <-finished:
			t.Fatalf("daemon exited early with %d; stderr:\n%s", res.code, res.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("intake socket %s did not appear within 10s", sock)
		}
	}
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("intake socket mode = %v, %v; want the default 0666", fi.Mode().Perm(), err)
	}

	body := scrape(t, "http://"+addr+"/metrics", finished)
	for _, name := range []string{"fgacd_sessions", "fgacd_intake_rejects_total", "go_goroutines", "process_open_fds"} {
		if !regexp.MustCompile(`(?m)^` + name + `[ {]`).MatchString(body) {
			t.Errorf("/metrics has no %s sample", name)
		}
	}
	if !regexp.MustCompile(`(?m)^fgacd_sessions 0$`).MatchString(body) {
		t.Errorf("/metrics: want fgacd_sessions 0 with no tracee registered")
	}

	// A second daemon on the same socket must find the live one and refuse,
	// leaving the first one's socket in place.
	var errb bytes.Buffer
	if code := realMain([]string{"run", "-config", os.DevNull, "-socket", sock,
		"-policy-dir", policyDir, "-metrics", "off", "-log-level", "error"}, io.Discard, &errb); code != 1 {
		t.Errorf("second daemon on a live socket: exit %d, want 1", code)
	}
	if _, err := os.Lstat(sock); err != nil {
		t.Errorf("the refused second daemon removed the live socket: %v", err)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
		if res.code != 0 {
			t.Errorf("exit %d after SIGINT, want 0; stderr:\n%s", res.code, res.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop within 10s of SIGINT")
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("intake socket after shutdown: Lstat = %v, want it removed", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("metrics listener %s still accepts after shutdown", addr)
	}
}

// scrape GETs url until it answers 200 (the metrics listener starts just
// after the intake socket), failing after 10s or if the daemon exits.
func scrape(t *testing.T, url string, finished <-chan struct{}) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && rerr == nil {
				return string(b)
			}
			err = errors.Join(rerr, errors.New(resp.Status))
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		select {
		case <-finished:
			t.Fatalf("daemon exited while waiting for %s", url)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
