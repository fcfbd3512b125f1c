// Package client attaches a process to fgacd: it builds the seccomp filter
// that sends the syscalls fgacd brokers to a listener (with libseccomp,
// the right tool to build filters), loads it for every thread of the
// process, and hands the listener to fgacd in the OCI state message.
//
// After Attach returns nil, the brokered syscalls of the process and every
// child it starts are decided by fgacd; the filter cannot be removed. The
// fgac-run launcher is this package plus exec, and is the supported way to
// run an unmodified program under fgacd.
//
// Go programs may call Attach on themselves early in main. Two things to
// know: the filter is loaded with TSYNC (every thread), which the kernel
// refuses to combine with a listener before 5.7; and without
// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (libseccomp >= 2.6 sets it where
// the kernel has it, 5.19) Go's preemption signal (SIGURG) can withdraw a
// brokered call while fgacd handles it and restart it; fgacd undoes and
// recognises such restarts, but each costs another round trip.
//
// Fd ownership: Attach closes its own copy of the listener once fgacd has
// it, so the listener lives exactly as long as fgacd holds it: if fgacd
// goes away, brokered calls fail with ENOSYS instead of hanging.
package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	seccomp "github.com/seccomp/libseccomp-golang"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/pkg/notify"
)

// DefaultSocket is where fgacd listens by default.
const DefaultSocket = "/run/fgacd/fgacd.sock"

// Brokered are the syscalls fgacd handles; names unknown on this arch
// (umount on x86_64) are skipped.
var Brokered = []string{"mknod", "mknodat", "mount", "umount", "umount2"}

// NewMountAPI are answered ENOSYS in BPF, so tools (util-linux >= 2.39)
// fall back to mount(2), which fgacd brokers.
var NewMountAPI = []string{"fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "fspick", "mount_setattr"}

// Options configure Attach.
type Options struct {
	Socket   string // default DefaultSocket
	Metadata string // passed as the OCI listenerMetadata (believed only from root peers)
	// SpecAllow keeps the CPU's speculation mitigations that seccomp turns
	// on by default (SSBD) off: SECCOMP_FILTER_FLAG_SPEC_ALLOW.
	SpecAllow bool
	// Syscalls overrides Brokered.
	Syscalls []string
	// GPIO also sends opens (open, openat, openat2) and the GPIO
	// line-request ioctls to fgacd (GPIOOpens, linux.GPIOLineIoctls).
	// Every open then takes a round trip: fgacd answers the ones that are
	// not of a GPIO chip with CONTINUE (docs/gpio.md has the cost).
	GPIO bool
}

// GPIOOpens are the open syscalls a GPIO filter traps (names unknown on
// this arch are skipped: arm64 has no open).
var GPIOOpens = []string{"open", "openat", "openat2"}

// ErrUnreachable: fgacd could not be reached; nothing was loaded.
var ErrUnreachable = errors.New("fgacd is not reachable")

// Attach loads the filter and registers with fgacd. It connects first: if
// fgacd is not there it returns an error wrapping ErrUnreachable and the
// process is unchanged. An error after the filter is loaded leaves the
// brokered calls failing (ENOSYS once the listener is closed); the caller
// should exit.
func Attach(o Options) error {
	if o.Socket == "" {
		o.Socket = DefaultSocket
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: o.Socket, Net: "unix"})
	if err != nil {
		return fmt.Errorf("%w at %s: %w", ErrUnreachable, o.Socket, err)
	}
	defer conn.Close()

	f, err := buildFilter(o)
	if err != nil {
		return err
	}
	defer f.Release()
	if err := f.Load(); err != nil {
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	fd, err := f.GetNotifFd()
	if err != nil {
		return fmt.Errorf("seccomp listener: %w", err)
	}
	defer linux.Close(int(fd))
	msg := notify.ContainerProcessState{Metadata: o.Metadata, Pid: os.Getpid()}
	if err := notify.Send(conn, int(fd), msg); err != nil {
		return fmt.Errorf("register with fgacd: %w", err)
	}
	return nil
}

func buildFilter(o Options) (*seccomp.ScmpFilter, error) {
	f, err := seccomp.NewFilter(seccomp.ActAllow) // TSYNC is on by default
	if err != nil {
		return nil, fmt.Errorf("seccomp filter: %w", err)
	}
	fail := func(err error) (*seccomp.ScmpFilter, error) {
		f.Release()
		return nil, err
	}
	if err := f.SetNoNewPrivsBit(true); err != nil {
		return fail(fmt.Errorf("seccomp filter: %w", err))
	}
	// Wait-killable receive (libseccomp 2.6, kernel 5.19): signals no
	// longer withdraw a call fgacd is handling. Older: run without.
	_ = f.SetWaitKill(true)
	if o.SpecAllow {
		if err := f.SetSSB(true); err != nil {
			return fail(fmt.Errorf("seccomp filter: spec-allow: %w", err))
		}
	}
	names := o.Syscalls
	if names == nil {
		names = Brokered
	}
	for _, n := range names {
		sc, err := seccomp.GetSyscallFromName(n)
		if err != nil {
			continue // not on this arch
		}
		if err := f.AddRule(sc, seccomp.ActNotify); err != nil {
			return fail(fmt.Errorf("seccomp filter: notify %s: %w", n, err))
		}
	}
	if o.GPIO {
		if err := addGPIO(f); err != nil {
			return fail(err)
		}
	}
	enosys := seccomp.ActErrno.SetReturnCode(int16(syscall.ENOSYS))
	for _, n := range NewMountAPI {
		sc, err := seccomp.GetSyscallFromName(n)
		if err != nil {
			continue
		}
		if err := f.AddRule(sc, enosys); err != nil {
			return fail(fmt.Errorf("seccomp filter: %s: %w", n, err))
		}
	}
	return f, nil
}

// addGPIO traps opens, and ioctls whose command is a line request. The
// command is compared on its low 32 bits only: the kernel takes it as an
// unsigned int, so a caller setting high bits must not slip past.
func addGPIO(f *seccomp.ScmpFilter) error {
	for _, n := range GPIOOpens {
		sc, err := seccomp.GetSyscallFromName(n)
		if err != nil {
			continue
		}
		if err := f.AddRule(sc, seccomp.ActNotify); err != nil {
			return fmt.Errorf("seccomp filter: notify %s: %w", n, err)
		}
	}
	ioctl, err := seccomp.GetSyscallFromName("ioctl")
	if err != nil {
		return fmt.Errorf("seccomp filter: ioctl: %w", err)
	}
	for _, cmd := range linux.GPIOLineIoctls {
		c, err := seccomp.MakeCondition(1, seccomp.CompareMaskedEqual, 0xffffffff, uint64(cmd))
		if err != nil {
			return fmt.Errorf("seccomp filter: ioctl %#x: %w", cmd, err)
		}
		if err := f.AddRuleConditional(ioctl, seccomp.ActNotify, []seccomp.ScmpCondition{c}); err != nil {
			return fmt.Errorf("seccomp filter: notify ioctl %#x: %w", cmd, err)
		}
	}
	return nil
}
