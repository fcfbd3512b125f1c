package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/fgacd/fgacd/pkg/notify"
)

// Binary upgrade without systemd (SIGUSR2): the running fgacd starts the
// binary now at its path with dups of the intake socket and of every
// session's listener (LISTEN_FDS/LISTEN_FDNAMES, FGACD_HANDOVER=1) and a
// handshake socket. The new process sets everything up and says "ready";
// only then does the old one stop serving (finishing the notifications in
// hand), and says "go"; the new one starts serving. Until "ready" nothing
// changed: if the new binary fails, the old one just goes on. Pending
// notifications wait in the kernel during the switch: apps see neither
// ENOSYS nor a lost call.

const handoverEnv = "FGACD_HANDOVER"

// handshake is the new process's end: it reads "go" after writing "ready".
type handshake struct{ f *os.File }

// handoverHandshake returns the handshake of a process started by an
// upgrade, or nil.
func handoverHandshake() *handshake {
	v := os.Getenv(handoverEnv)
	os.Unsetenv(handoverEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	return &handshake{f: os.NewFile(uintptr(fd), "handover")}
}

// readyThenWait tells the old process we are set up and waits for it to
// stop serving.
func (h *handshake) readyThenWait() error {
	defer h.f.Close()
	if _, err := h.f.Write([]byte("ready\n")); err != nil {
		return fmt.Errorf("handover: %w", err)
	}
	h.f.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 3)
	if n, err := h.f.Read(buf); err != nil || string(buf[:n]) != "go\n" {
		return fmt.Errorf("handover: the old fgacd did not hand over (%q, %v)", buf[:n], err)
	}
	return nil
}

// upgradeOnUSR2 runs the old side of an upgrade when SIGUSR2 arrives. On
// success it calls stop, which ends this process's run.
func upgradeOnUSR2(ctx context.Context, srv *notify.Server, store *sessionStore, log *zap.Logger, stop func()) error {
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	defer signal.Stop(usr2)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-usr2:
			if err := upgrade(srv, store, log); err != nil {
				log.Error("binary upgrade failed; this process goes on serving", zap.Error(err))
				continue
			}
			log.Info("binary upgrade done; the new process serves every session")
			stop()
			return nil
		}
	}
}

func upgrade(srv *notify.Server, store *sessionStore, log *zap.Logger) (err error) {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	exe = strings.TrimSuffix(exe, " (deleted)") // the binary was replaced: take the new one at that path
	lf, err := srv.ListenerFile()
	if err != nil {
		return fmt.Errorf("intake socket: %w", err)
	}
	defer lf.Close()
	hs := srv.Handoffs()
	files := []*os.File{lf}
	names := []string{"fgacd.socket"}
	for i := range hs {
		if hs[i].Name == "" {
			hs[i].Name = newSessionName()
		}
		store.writeRecord(hs[i].Name, hs[i].Identity)
		f := os.NewFile(uintptr(hs[i].Fd), hs[i].Name)
		defer f.Close()
		files = append(files, f)
		names = append(names, hs[i].Name)
	}
	pair, err := socketPair()
	if err != nil {
		return err
	}
	defer pair[0].Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = append(files, pair[1])
	cmd.Env = append(os.Environ(),
		"LISTEN_FDS="+strconv.Itoa(len(files)), "LISTEN_FDNAMES="+strings.Join(names, ":"),
		handoverEnv+"="+strconv.Itoa(3+len(files)))
	if err := cmd.Start(); err != nil {
		pair[1].Close()
		return fmt.Errorf("start %s: %w", exe, err)
	}
	pair[1].Close()
	go cmd.Wait() // reaped if it dies; once we exit it is reparented
	pair[0].SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 6)
	if n, err := pair[0].Read(buf); err != nil || string(buf[:n]) != "ready\n" {
		cmd.Process.Kill()
		return fmt.Errorf("the new fgacd (pid %d) did not get ready: %q %v", cmd.Process.Pid, buf[:n], err)
	}
	// Stop serving here; the notifications in hand are answered first.
	for i := range hs {
		hs[i].Session.StoreName = hs[i].Name // keep its record: the new process owns it now
	}
	srv.Close()
	if _, err := pair[0].Write([]byte("go\n")); err != nil {
		return errors.Join(errors.New("handover: the new fgacd went away after getting ready"), err)
	}
	return nil
}
