package handlers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/nsexec"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// GPIO brokering (docs/gpio.md).
//
// Opens: every open the filter traps comes here. Only a path whose last
// component starts with "gpiochip" is looked at further; anything else is
// answered CONTINUE at once: the kernel decides with the caller's own
// rights, which grants nothing. A gpiochip path is resolved in the
// caller's view with the caller's credentials to an O_PATH fd, which must
// be a character device of gpiolib's major; the daemon then reopens that
// inode itself, asks the chip for its label, and lets the policy decide.
//
// Line requests: the filter traps only the line-request ioctls and the two
// that reconfigure requested lines (refused). The daemon finds the chip
// behind the caller's fd by device number, reads the request once, decides
// on what it read, makes the request on its own cached chip fd with its
// copy of the struct, installs the line fd in the caller and writes the
// struct back, as the kernel would.

// gpioChipPrefix is what the last component of a brokered open starts
// with: udev and devtmpfs name chips gpiochipN.
const gpioChipPrefix = "gpiochip"

var errNotChip = errors.New("not a GPIO chip")

// openArgs decodes open(path, flags), openat(dirfd, path, flags) and
// openat2(dirfd, path, how, size).
func openArgs(e *Entry, a *[6]uint64) (dirfd int32, path uint64, flags uint64, how uint64, howSize uint64) {
	dirfd = linux.AT_FDCWD
	switch e.form {
	case formOpen:
		path, flags = a[0], uint64(uint32(a[1]))
	case formOpenat:
		dirfd, path, flags = int32(a[0]), a[1], uint64(uint32(a[2]))
	case formOpenat2:
		dirfd, path, how, howSize = int32(a[0]), a[1], a[2], a[3]
	}
	if e.compat {
		path &= 0xffffffff
		how &= 0xffffffff
	}
	return
}

// continueUnmanaged answers a call fgacd does not manage: the kernel runs
// it with the caller's own rights.
func continueUnmanaged(out *Outcome, syscall, reason string) {
	out.Request = policy.Request{Syscall: syscall}
	out.Decision = policy.Decision{Action: policy.ActionContinue, Reason: reason}
	out.Decided = true
	out.Continue = true
}

// chipPath reports whether an open of p is screened in: its last
// component (what follows the last "/") starts with gpiochip.
func chipPath(p string) bool {
	return strings.HasPrefix(p[strings.LastIndexByte(p, '/')+1:], gpioChipPrefix)
}

// chipMajor returns gpiolib's character major, 0 if this kernel has none.
// Only a found major is cached: 0 is looked up again next time.
func (h *Handlers) chipMajor() uint32 {
	if m := h.gpioMajor.Load(); m != 0 {
		return m
	}
	m, _ := linux.GPIOChipMajor()
	h.gpioMajor.Store(m)
	return m
}

// isChip reports whether st is a GPIO chip's character device.
func (h *Handlers) isChip(st *linux.Stat) bool {
	m := h.chipMajor()
	return m != 0 && st.Mode&linux.S_IFMT == linux.S_IFCHR && linux.DevMajor(st.Rdev) == m
}

func (h *Handlers) gpioOpen(e *Entry, c *Call, out *Outcome) {
	req := c.Req
	dirfd, addr, flags, howAddr, howSize := openArgs(e, &req.Args)
	n, err := h.mem.ReadCString(req.Pid, addr, c.Buf[:])
	if err != nil {
		continueUnmanaged(out, e.Name, "path unreadable: the kernel answers")
		return
	}
	raw := linux.String(c.Buf[:n]) // valid until the session's next notification
	if !chipPath(raw) {
		continueUnmanaged(out, e.Name, "not a GPIO chip path")
		return
	}
	var resolve uint64
	if e.form == formOpenat2 {
		// struct open_how {u64 flags, mode, resolve} (5.6). Only that
		// layout with known RESOLVE_* bits is brokered:
		// anything else the kernel refuses (E2BIG, EINVAL) or fgacd does
		// not understand, so the kernel answers.
		var how [24]byte
		if howSize != 24 || h.mem.Read(req.Pid, howAddr, how[:]) != nil {
			continueUnmanaged(out, e.Name, "open_how not the 5.6 layout: the kernel answers")
			return
		}
		flags = binary.NativeEndian.Uint64(how[0:])
		resolve = binary.NativeEndian.Uint64(how[16:])
		if resolve&^linux.ResolveKnown != 0 {
			continueUnmanaged(out, e.Name, "unknown RESOLVE_ flags: the kernel answers")
			return
		}
	}
	if flags&linux.O_PATH != 0 {
		// An O_PATH fd carries no I/O rights: the kernel may hand it out.
		continueUnmanaged(out, e.Name, "O_PATH open: the kernel answers")
		return
	}
	out.gpio = policy.GPIOArgs{Path: raw}
	out.Request = policy.Request{Syscall: e.Name, GPIO: &out.gpio}

	pathFd, rdev, err := h.resolveChip(c, dirfd, raw, flags, resolve)
	switch {
	case errors.Is(err, errGone):
		out.fail(err, linux.ENOENT)
		return
	case errors.Is(err, errNotChip):
		continueUnmanaged(out, e.Name, "not a GPIO chip")
		return
	case err != nil:
		// Nothing there (a file about to be created), no way through, a
		// loop: whatever the caller's own open meets, the kernel answers
		// it exactly, and CONTINUE grants nothing.
		continueUnmanaged(out, e.Name, "path does not resolve to a chip: the kernel answers")
		return
	}
	defer linux.Close(pathFd)
	// Native errnos that come before any permission check.
	if flags&(linux.O_CREAT|linux.O_EXCL) == linux.O_CREAT|linux.O_EXCL {
		out.fail(fmt.Errorf("open %s: %w", raw, linux.EEXIST), 0)
		return
	}
	if flags&linux.O_DIRECTORY != 0 {
		out.fail(fmt.Errorf("open %s: %w", raw, linux.ENOTDIR), 0)
		return
	}
	chip, err := linux.ReopenFd(pathFd, int(flags&(linux.O_ACCMODE|linux.O_NONBLOCK)))
	if err != nil {
		out.fail(fmt.Errorf("open chip %s: %w", raw, err), linux.EPERM)
		return
	}
	keepChip := false
	defer func() {
		if !keepChip {
			linux.Close(chip)
		}
	}()
	if err := h.chipArgs(chip, &out.gpio); err != nil {
		out.fail(err, linux.EIO)
		return
	}
	out.Decision = c.Profile.Decide(out.Request)
	out.Decided = true
	inject := chip
	switch out.Decision.Action {
	case policy.ActionDeny:
		// A learn-mode profile gets the handle too (it grants nothing), so
		// that the app's line requests reach fgacd and are recorded.
		if out.Decision.Rule != "" || !(c.Profile.GrantsGPIOLines(out.gpio.Chip) || out.Decision.Learn) {
			out.Errno = linux.Errno(out.Decision.Errno)
			return
		}
		// Lines but not the chip: the caller gets a handle that names the
		// chip and grants nothing (linux.NewGPIOHandle). Its line requests
		// still reach fgacd, which grants what the policy says; the chip
		// itself never leaves the daemon.
		handle, err := linux.NewGPIOHandle(rdev, out.gpio.Chip)
		if err != nil {
			out.fail(err, linux.EIO)
			return
		}
		out.Decision.Action = policy.ActionEmulate
		out.Decision.Errno = 0
		out.Decision.Reason = "lines granted on this chip: a handle, not the chip"
		inject = handle
	case policy.ActionContinue:
		out.Continue = true
		return
	}
	// No ID_VALID here: what was read from the caller and its /proc was
	// validated in resolveChip, and ADDFD itself fails (ENOENT) for a
	// caller that is gone.
	if !c.Valid.CanInjectFD() {
		out.fail(fmt.Errorf("open %s: %w", raw, notify.ErrNoAddfd), linux.EPERM)
		if inject != chip {
			linux.Close(inject)
		}
		return
	}
	out.Inject, out.InjectFD, out.InjectCloexec = true, inject, flags&linux.O_CLOEXEC != 0
	keepChip = inject == chip
}

// resolveChip resolves an open's path in the caller's view, with the
// caller's credentials (so it can reach only what it could reach itself),
// to an O_PATH fd, and checks that it is a GPIO chip (device rdev). An
// O_PATH open has no side effect on any device, so a path that turns out
// to be something else (a watchdog, a tty) is never opened for real. One
// ID_VALID, after the creds and the view are read, vouches for them and
// for what was read from the caller's memory before.
func (h *Handlers) resolveChip(c *Call, dirfd int32, raw string, flags, resolve uint64) (fd int, rdev uint64, err error) {
	req := c.Req
	cr, err := readCreds(req.Pid)
	if err != nil {
		return -1, 0, err
	}
	v, err := openView(req.Pid, dirfd, strings.HasPrefix(raw, "/"), false)
	if err != nil {
		return -1, 0, err
	}
	defer v.close()
	if err := c.Valid.IDValid(req.ID); err != nil {
		return -1, 0, errGone
	}
	oflags := uint64(linux.O_PATH)
	if flags&linux.O_NOFOLLOW != 0 {
		oflags |= linux.O_NOFOLLOW
	}
	// The caller's own RESOLVE_* restrictions (openat2) apply too; magic
	// links never: /proc/self would be the daemon.
	resolve |= linux.RESOLVE_NO_MAGICLINKS
	fd = -1
	err = h.run(c, func(t *nsexec.Thread) error {
		if _, err := v.enter(t, cr.umask); err != nil {
			return err
		}
		if err := t.SetCreds(cr.fsuid, cr.fsgid, cr.groups); err != nil {
			return err
		}
		pfd, err := linux.Openat2(linux.AT_FDCWD, raw, oflags, resolve)
		if err != nil {
			return fmt.Errorf("resolve %q: %w", raw, err)
		}
		fd = pfd
		return nil
	})
	if err != nil {
		// The walk's errno (ENOENT, EACCES, ELOOP…) is what the caller's
		// own open would have got.
		if fd >= 0 {
			linux.Close(fd)
		}
		return -1, 0, err
	}
	var st linux.Stat
	if err := linux.Fstat(fd, &st); err != nil || !h.isChip(&st) {
		linux.Close(fd)
		return -1, 0, errNotChip
	}
	return fd, st.Rdev, nil
}

// chipArgs fills the chip's identity from an open chip fd.
func (h *Handlers) chipArgs(chip int, a *policy.GPIOArgs) error {
	info, err := linux.GPIOGetChipInfo(chip)
	if err != nil {
		return fmt.Errorf("GPIO chip info: %w", err)
	}
	a.Chip, a.ChipName, a.ChipLines = info.Label, info.Name, info.Lines
	return nil
}

// callerChip finds which chip the caller's fd names, by device number:
// a chip fd, or a handle fgacd gave it. It stats /proc/TID/fd/N, which
// opens nothing. The caller may put another fd behind that number at any
// time; it only chooses which chip it asks about, and the policy decides
// on that chip. Anything else is errNotChip.
func (h *Handlers) callerChip(c *Call, fd int32) (rdev uint64, handle bool, err error) {
	if fd < 0 {
		return 0, false, fmt.Errorf("fd %d: %w", fd, linux.EBADF)
	}
	p := h.callerFd(c.Req.Pid, int(fd))
	var st linux.Stat
	if err := linux.StatPath(p, &st); err != nil {
		if linux.ErrnoOf(err) == linux.ENOENT {
			return 0, false, fmt.Errorf("fd %d: %w", fd, linux.EBADF)
		}
		return 0, false, err
	}
	switch {
	case h.isChip(&st):
		rdev = st.Rdev
	case st.Mode&linux.S_IFMT == linux.S_IFREG:
		handle = true
		// A handle names its chip. Anyone can make a memfd of that name;
		// it gets them what the policy grants on that chip, as the real
		// handle would, and nothing more.
		var buf [256]byte
		n, err := linux.Readlinkat(linux.AT_FDCWD, p, buf[:])
		if err != nil {
			return 0, false, errNotChip
		}
		var ok bool
		if rdev, ok = linux.ParseGPIOHandle(string(buf[:n])); !ok || linux.DevMajor(rdev) != h.chipMajor() {
			return 0, false, errNotChip
		}
	default:
		return 0, false, errNotChip
	}
	if err := c.Valid.IDValid(c.Req.ID); err != nil {
		return 0, false, errGone
	}
	return rdev, handle, nil
}

// callerFd names fd in thread tid's fd table (/proc/TID/fd/N): a magic
// link to the file, reachable without taking a copy of it.
func (h *Handlers) callerFd(tid, fd int) string {
	return procDir(tid) + "/fd/" + strconv.Itoa(fd)
}

// chipEntry is the daemon's own fd on a chip, with what it said about
// itself: label and line count never change while the chip exists, and
// neither do line names (gpiolib sets them at registration).
type chipEntry struct {
	rdev  uint64
	fd    int
	info  linux.GPIOChipInfo
	names []string // by offset, read on first use
	known []bool
	refs  int  // handlers using fd now; guarded by chipsMu
	gone  bool // forgotten: close fd when refs drops to 0
}

// chip returns the daemon's entry for the chip rdev, opening it through
// the daemon's own /dev on first use, and holds it until release. The
// entry's fd stays open for the daemon's life, or until the chip is gone
// (forget) and no handler uses it: never closed under another session's
// ioctl, whose fd number could otherwise be reused meanwhile.
func (h *Handlers) chip(rdev uint64) (*chipEntry, error) {
	h.chipsMu.Lock()
	defer h.chipsMu.Unlock()
	if e := h.chips[rdev]; e != nil {
		e.refs++
		return e, nil
	}
	dev, err := linux.GPIOChipPath(rdev)
	if err != nil {
		return nil, fmt.Errorf("chip %d:%d: %w", linux.DevMajor(rdev), linux.DevMinor(rdev), err)
	}
	p, err := linux.Open(dev, linux.O_PATH, 0)
	if err != nil {
		return nil, err
	}
	defer linux.Close(p)
	var st linux.Stat
	if err := linux.Fstat(p, &st); err != nil || !h.isChip(&st) || st.Rdev != rdev {
		return nil, fmt.Errorf("%s is not chip %d:%d: %w", dev, linux.DevMajor(rdev), linux.DevMinor(rdev), linux.ENODEV)
	}
	fd, err := linux.ReopenFd(p, linux.O_RDWR)
	if err != nil {
		return nil, err
	}
	info, err := linux.GPIOGetChipInfo(fd)
	if err != nil {
		linux.Close(fd)
		return nil, fmt.Errorf("GPIO chip info: %w", err)
	}
	e := &chipEntry{rdev: rdev, fd: fd, info: info, names: make([]string, info.Lines), known: make([]bool, info.Lines), refs: 1}
	if h.chips == nil {
		h.chips = map[uint64]*chipEntry{}
	}
	h.chips[rdev] = e
	return e, nil
}

// forget drops e after its chip went away (ENODEV), so the next request
// opens whatever chip now has that number.
func (h *Handlers) forget(e *chipEntry) {
	h.chipsMu.Lock()
	defer h.chipsMu.Unlock()
	if h.chips[e.rdev] == e {
		delete(h.chips, e.rdev)
		e.gone = true
	}
}

// release ends a use begun by chip.
func (h *Handlers) release(e *chipEntry) {
	h.chipsMu.Lock()
	defer h.chipsMu.Unlock()
	if e.refs--; e.refs == 0 && e.gone {
		linux.Close(e.fd)
	}
}

// lineNames fills names for offsets (validated to be on the chip).
func (h *Handlers) lineNames(e *chipEntry, offsets []uint32, names []string) error {
	h.chipsMu.Lock()
	defer h.chipsMu.Unlock()
	var scratch [256]byte
	for i, o := range offsets {
		if !e.known[o] {
			n, err := linux.GPIOLineName(e.fd, o, &scratch)
			if err != nil {
				return fmt.Errorf("line %d info: %w", o, err)
			}
			e.names[o], e.known[o] = n, true
		}
		names[i] = e.names[o]
	}
	return nil
}

// lineReq is a decoded line request.
type lineReq struct {
	api     string
	fdOff   int // where the kernel puts the line fd
	offsets []uint32
	flags   policy.GPIOFlags
}

// v1 handle flags as policy flags.
func v1HandleFlags(f uint32) (policy.GPIOFlags, bool) {
	var out policy.GPIOFlags
	for _, m := range []struct {
		v1 uint32
		p  policy.GPIOFlags
	}{
		{linux.GPIOHANDLE_REQUEST_INPUT, policy.GPIOFlagInput},
		{linux.GPIOHANDLE_REQUEST_OUTPUT, policy.GPIOFlagOutput},
		{linux.GPIOHANDLE_REQUEST_ACTIVE_LOW, policy.GPIOFlagActiveLow},
		{linux.GPIOHANDLE_REQUEST_OPEN_DRAIN, policy.GPIOFlagOpenDrain},
		{linux.GPIOHANDLE_REQUEST_OPEN_SOURCE, policy.GPIOFlagOpenSource},
		{linux.GPIOHANDLE_REQUEST_BIAS_PULL_UP, policy.GPIOFlagBiasPullUp},
		{linux.GPIOHANDLE_REQUEST_BIAS_PULL_DOWN, policy.GPIOFlagBiasPullDown},
		{linux.GPIOHANDLE_REQUEST_BIAS_DISABLE, policy.GPIOFlagBiasDisabled},
	} {
		if f&m.v1 != 0 {
			out |= m.p
			f &^= m.v1
		}
	}
	return out, f == 0
}

// asIs: a line requested with neither input nor output keeps the
// direction it has, which may be either; it needs both allowed. (Without
// this a request with no flags would pass any allowlist and could drive
// a line that some earlier owner left as an output.)
func asIs(f policy.GPIOFlags) policy.GPIOFlags {
	if f&(policy.GPIOFlagInput|policy.GPIOFlagOutput) == 0 {
		f |= policy.GPIOFlagInput | policy.GPIOFlagOutput
	}
	return f
}

// v2Flags are the bits a v2 line config may carry (GPIO_V2_LINE_VALID_FLAGS).
const v2Flags = uint64(policy.GPIOFlagsKnown &^ policy.GPIOFlagDebounce)

// decodeLineReq reads what the policy decides on from a request struct,
// refusing with EINVAL what the kernel's checks (drivers/gpio/
// gpiolib-cdev.c, linereq_create, linehandle_create, lineevent_create)
// refuse before looking at any line, and offsets beyond the chip.
func decodeLineReq(cmd uint32, b []byte, chipLines uint32) (lineReq, error) {
	u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(b[off:]) }
	u64 := func(off int) uint64 { return binary.NativeEndian.Uint64(b[off:]) }
	inval := func(what string) (lineReq, error) {
		return lineReq{}, fmt.Errorf("line request: %s: %w", what, linux.EINVAL)
	}
	var r lineReq
	switch cmd {
	case linux.GPIO_V2_GET_LINE_IOCTL:
		r = lineReq{api: "v2", fdOff: linux.GPIOV2ReqFd}
		n := u32(linux.GPIOV2ReqNumLines)
		if n == 0 || n > linux.GPIOLinesMax {
			return inval("num_lines " + strconv.Itoa(int(n)))
		}
		for i := 0; i < 5; i++ {
			if u32(linux.GPIOV2ReqPadding+4*i) != 0 {
				return inval("padding")
			}
		}
		cfg := linux.GPIOV2ReqConfig
		nattrs := u32(cfg + linux.GPIOV2CfgNumAttrs)
		if nattrs > linux.GPIOV2MaxAttrs {
			return inval("num_attrs")
		}
		for i := 0; i < 5; i++ {
			if u32(cfg+linux.GPIOV2CfgPadding+4*i) != 0 {
				return inval("config padding")
			}
		}
		base := u64(cfg + linux.GPIOV2CfgFlags)
		r.offsets = make([]uint32, n)
		for i := range r.offsets {
			r.offsets[i] = u32(linux.GPIOV2ReqOffsets + 4*i)
			// The line's flags: the first FLAGS attribute whose mask holds
			// it, else the config's (gpio_v2_line_config_flags).
			f := base
			var deb policy.GPIOFlags
			flagsSet := false
			for a := 0; a < int(nattrs); a++ {
				at := cfg + linux.GPIOV2CfgAttrs + a*linux.GPIOV2CfgAttrSize
				if u64(at+16)&(1<<uint(i)) == 0 {
					continue
				}
				switch u32(at) {
				case linux.GPIO_V2_LINE_ATTR_ID_FLAGS:
					if !flagsSet {
						f, flagsSet = u64(at+8), true
					}
				case linux.GPIO_V2_LINE_ATTR_ID_DEBOUNCE:
					deb = policy.GPIOFlagDebounce
				}
			}
			if f&^v2Flags != 0 {
				return inval("flags " + strconv.FormatUint(f, 16))
			}
			r.flags |= asIs(policy.GPIOFlags(f)) | deb
		}
	case linux.GPIO_GET_LINEHANDLE_IOCTL:
		r = lineReq{api: "v1", fdOff: linux.GPIOHandleReqFd}
		n := u32(linux.GPIOHandleReqLines)
		if n == 0 || n > linux.GPIOLinesMax {
			return inval("lines " + strconv.Itoa(int(n)))
		}
		f, ok := v1HandleFlags(u32(linux.GPIOHandleReqFlags))
		if !ok {
			return inval("handle flags")
		}
		r.flags = asIs(f)
		r.offsets = make([]uint32, n)
		for i := range r.offsets {
			r.offsets[i] = u32(linux.GPIOHandleReqOffsets + 4*i)
		}
	case linux.GPIO_GET_LINEEVENT_IOCTL:
		r = lineReq{api: "v1", fdOff: linux.GPIOEventReqFd}
		f, ok := v1HandleFlags(u32(linux.GPIOEventReqHandleFlag))
		if !ok {
			return inval("handle flags")
		}
		ef := u32(linux.GPIOEventReqEventFlags)
		if ef&^(linux.GPIOEVENT_REQUEST_RISING_EDGE|linux.GPIOEVENT_REQUEST_FALLING_EDGE) != 0 {
			return inval("event flags")
		}
		// An event line is an input (lineevent_create refuses OUTPUT).
		r.flags = f | policy.GPIOFlagInput
		if ef&linux.GPIOEVENT_REQUEST_RISING_EDGE != 0 {
			r.flags |= policy.GPIOFlagEdgeRising
		}
		if ef&linux.GPIOEVENT_REQUEST_FALLING_EDGE != 0 {
			r.flags |= policy.GPIOFlagEdgeFalling
		}
		r.offsets = []uint32{u32(linux.GPIOEventReqOffset)}
	default:
		return lineReq{}, errNotChip
	}
	for _, o := range r.offsets {
		if o >= chipLines {
			return inval("offset " + strconv.Itoa(int(o)) + " beyond the chip's " + strconv.Itoa(int(chipLines)) + " lines")
		}
	}
	return r, nil
}

// lineReqSize is the struct size of a line-request ioctl, 0 for any other.
func lineReqSize(cmd uint32) int {
	switch cmd {
	case linux.GPIO_V2_GET_LINE_IOCTL:
		return linux.GPIOV2LineRequestSize
	case linux.GPIO_GET_LINEHANDLE_IOCTL:
		return linux.GPIOHandleRequestSize
	case linux.GPIO_GET_LINEEVENT_IOCTL:
		return linux.GPIOEventRequestSize
	}
	return 0
}

func (h *Handlers) gpioLine(e *Entry, c *Call, out *Outcome) {
	req := c.Req
	fd, cmd, addr := int32(req.Args[0]), uint32(req.Args[1]), req.Args[2]
	if e.compat {
		addr &= 0xffffffff
	}
	if lineSetConfig(cmd) {
		// A granted line fd reconfigured in place (input to output, edges
		// added) would escape its rule: refused, whatever the rules say.
		// The app can release the lines and request them anew.
		out.Request = policy.Request{Syscall: e.Name}
		out.Decision = policy.Decision{Action: policy.ActionDeny, Errno: policy.EPERM,
			Reason: "line reconfiguration is not brokered: request the lines anew"}
		out.Decided, out.Errno = true, linux.EPERM
		return
	}
	size := lineReqSize(cmd)
	if size == 0 {
		// A filter that sends other ioctls here (a hand-written OCI
		// profile) gets them back: the kernel decides.
		continueUnmanaged(out, e.Name, "not a GPIO line request")
		return
	}
	out.gpio = policy.GPIOArgs{}
	out.Request = policy.Request{Syscall: e.Name, GPIO: &out.gpio}
	// The fd first, as the kernel looks at it before the struct.
	rdev, handle, err := h.callerChip(c, fd)
	if errors.Is(err, errNotChip) {
		// A line-request command on something else: the kernel's answer
		// (ENOTTY) is the native one.
		continueUnmanaged(out, e.Name, "fd is not a GPIO chip")
		return
	}
	if err != nil {
		out.fail(err, linux.EPERM)
		return
	}
	buf := make([]byte, size)
	if err := h.mem.Read(req.Pid, addr, buf); err != nil {
		out.fail(fmt.Errorf("read line request: %w", err), linux.EFAULT)
		return
	}
	chip, err := h.chip(rdev)
	if err != nil {
		out.fail(err, linux.ENODEV)
		return
	}
	defer h.release(chip)
	out.gpio.Chip, out.gpio.ChipName, out.gpio.ChipLines = chip.info.Label, chip.info.Name, chip.info.Lines
	lr, err := decodeLineReq(cmd, buf, out.gpio.ChipLines)
	if err != nil {
		out.fail(err, linux.EINVAL)
		return
	}
	out.gpio.API, out.gpio.Lines, out.gpio.Flags = lr.api, lr.offsets, lr.flags
	out.gpio.Names = make([]string, len(lr.offsets))
	if err := h.lineNames(chip, lr.offsets, out.gpio.Names); err != nil {
		if linux.ErrnoOf(err) == linux.ENODEV {
			h.forget(chip)
		}
		out.fail(err, linux.EIO)
		return
	}
	out.Decision = c.Profile.Decide(out.Request)
	out.Decided = true
	switch out.Decision.Action {
	case policy.ActionDeny:
		out.Errno = linux.Errno(out.Decision.Errno)
		return
	case policy.ActionContinue:
		if !handle {
			// The chip fd may be one fgacd opened with its own rights
			// (a gpio_open grant, passed on or kept across a reload):
			// the kernel would take any line on it. Never a grant.
			out.Decision.Action, out.Decision.Errno = policy.ActionDeny, policy.EPERM
			out.Decision.Reason = "continue refused: the chip fd may carry fgacd's rights"
			out.Errno = linux.EPERM
			return
		}
		out.Continue = true // on a handle the kernel says ENOTTY
		return
	}
	if !c.Valid.CanInjectFD() {
		out.fail(notify.ErrNoAddfd, linux.EPERM)
		return
	}
	// The result goes back through the struct, all of it, as the kernel's
	// copy_to_user does: make sure that memory takes a write before any
	// line is taken (writing back what was read changes nothing).
	if err := h.mem.Write(req.Pid, addr, buf); err != nil {
		out.fail(fmt.Errorf("line request result: %w", err), linux.EFAULT)
		return
	}
	if err := linux.GPIOIoctl(chip.fd, uintptr(cmd), buf); err != nil {
		if linux.ErrnoOf(err) == linux.ENODEV {
			h.forget(chip) // the chip went away; the caller sees ENODEV
		}
		out.fail(fmt.Errorf("line request on %s: %w", out.gpio.Chip, err), linux.EIO)
		return
	}
	line := int(int32(binary.NativeEndian.Uint32(buf[lr.fdOff:])))
	defer linux.Close(line)
	if err := c.Valid.IDValid(req.ID); err != nil {
		out.fail(errGone, linux.ENOENT) // closing ours frees the lines
		return
	}
	remote, err := c.Valid.InjectFD(req.ID, line, true)
	if err != nil {
		out.fail(fmt.Errorf("install line fd: %w", err), linux.EMFILE)
		return
	}
	binary.NativeEndian.PutUint32(buf[lr.fdOff:], uint32(remote))
	if err := h.mem.Write(req.Pid, addr, buf); err != nil {
		// The caller unmapped its struct meanwhile: it keeps an fd it does
		// not know of (closed when it exits) and gets the kernel's EFAULT.
		out.fail(fmt.Errorf("line request result: %w", err), linux.EFAULT)
		return
	}
	out.Val = 0
	out.Effect = &lineEffect{h: h, tid: req.Pid, fd: remote, addr: addr, want: buf}
}

// lineSetConfig reports the ioctls that reconfigure lines already
// requested: v2 GPIO_V2_LINE_SET_CONFIG_IOCTL (5.10), v1
// GPIOHANDLE_SET_CONFIG_IOCTL (5.5).
func lineSetConfig(cmd uint32) bool {
	return cmd == linux.GPIO_V2_LINE_SET_CONFIG_IOCTL || cmd == linux.GPIOHANDLE_SET_CONFIG_IOCTL
}

// lineEffect is a line fd installed in the caller. It cannot be taken
// back (no call closes another process's fd), so Undo never does; Intact
// lets a restarted request (the caller was interrupted after the install)
// be answered with the same fd, which its struct already holds. A new
// request from the same place with the same arguments is told apart by
// the struct: a restart finds it exactly as fgacd wrote it back; a new
// request has been filled anew (libgpiod zeroes it, fd field included).
type lineEffect struct {
	h    *Handlers
	tid  int
	fd   int    // the line fd's number in the caller
	addr uint64 // the caller's struct
	want []byte // the struct as fgacd wrote it back
}

func (l *lineEffect) Undo() bool { return false }

func (l *lineEffect) Intact() bool {
	link, err := os.Readlink(l.h.callerFd(l.tid, l.fd))
	if err != nil || !strings.HasPrefix(link, "anon_inode:gpio") {
		return false
	}
	got := make([]byte, len(l.want))
	return l.h.mem.Read(l.tid, l.addr, got) == nil && bytes.Equal(got, l.want)
}

func (l *lineEffect) Release() {}
