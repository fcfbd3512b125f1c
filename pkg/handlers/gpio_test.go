package handlers

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/pkg/policy"
)

// v2req builds a struct gpio_v2_line_request.
func v2req(offsets []uint32, flags uint64, attrs ...[3]uint64) []byte {
	b := make([]byte, linux.GPIOV2LineRequestSize)
	for i, o := range offsets {
		binary.NativeEndian.PutUint32(b[4*i:], o)
	}
	cfg := linux.GPIOV2ReqConfig
	binary.NativeEndian.PutUint64(b[cfg:], flags)
	binary.NativeEndian.PutUint32(b[cfg+linux.GPIOV2CfgNumAttrs:], uint32(len(attrs)))
	for i, a := range attrs { // id, value, mask
		at := cfg + linux.GPIOV2CfgAttrs + i*linux.GPIOV2CfgAttrSize
		binary.NativeEndian.PutUint32(b[at:], uint32(a[0]))
		binary.NativeEndian.PutUint64(b[at+8:], a[1])
		binary.NativeEndian.PutUint64(b[at+16:], a[2])
	}
	binary.NativeEndian.PutUint32(b[linux.GPIOV2ReqNumLines:], uint32(len(offsets)))
	return b
}

func TestDecodeLineRequestV2(t *testing.T) {
	const in, out, rise = uint64(policy.GPIOFlagInput), uint64(policy.GPIOFlagOutput), uint64(policy.GPIOFlagEdgeRising)
	r, err := decodeLineReq(linux.GPIO_V2_GET_LINE_IOCTL, v2req([]uint32{1, 2, 5}, out,
		[3]uint64{linux.GPIO_V2_LINE_ATTR_ID_FLAGS, in | rise, 0b100},   // line 5: input with edges
		[3]uint64{linux.GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, 0b11, 0b11}, // values: no flag
		[3]uint64{linux.GPIO_V2_LINE_ATTR_ID_DEBOUNCE, 1000, 0b100}), 8)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.GPIOFlagOutput | policy.GPIOFlagInput | policy.GPIOFlagEdgeRising | policy.GPIOFlagDebounce
	if r.api != "v2" || len(r.offsets) != 3 || r.offsets[2] != 5 || r.flags != want || r.fdOff != linux.GPIOV2ReqFd {
		t.Errorf("decoded %+v, flags %v, want %v", r, r.flags.Names(), want.Names())
	}
	// The config's flags do not count for a line every one of whose
	// flags an attribute overrides.
	r, _ = decodeLineReq(linux.GPIO_V2_GET_LINE_IOCTL, v2req([]uint32{3}, out, [3]uint64{linux.GPIO_V2_LINE_ATTR_ID_FLAGS, in, 1}), 8)
	if r.flags != policy.GPIOFlagInput {
		t.Errorf("overridden line: %v, want input only", r.flags.Names())
	}
	// The first FLAGS attribute holding a line is the one the kernel uses.
	r, _ = decodeLineReq(linux.GPIO_V2_GET_LINE_IOCTL, v2req([]uint32{3}, in,
		[3]uint64{linux.GPIO_V2_LINE_ATTR_ID_FLAGS, out, 1},
		[3]uint64{linux.GPIO_V2_LINE_ATTR_ID_FLAGS, in, 1}), 8)
	if r.flags != policy.GPIOFlagOutput {
		t.Errorf("two FLAGS attributes: %v, want output (the first)", r.flags.Names())
	}
	// No direction: the line keeps the one it has, either.
	r, _ = decodeLineReq(linux.GPIO_V2_GET_LINE_IOCTL, v2req([]uint32{3}, uint64(policy.GPIOFlagActiveLow)), 8)
	if r.flags != policy.GPIOFlagInput|policy.GPIOFlagOutput|policy.GPIOFlagActiveLow {
		t.Errorf("as-is request: %v, want input, output and active_low", r.flags.Names())
	}

	bad := map[string][]byte{
		"no lines":         v2req(nil, in),
		"65 lines":         v2req(make([]uint32, 65), in),
		"offset 8 of 8":    v2req([]uint32{8}, in),
		"unknown flag bit": v2req([]uint32{1}, 1<<20),
		"used flag":        v2req([]uint32{1}, 1),
		"11 attributes":    v2req([]uint32{1}, in, make([][3]uint64, 11)...),
	}
	pad := v2req([]uint32{1}, in)
	pad[linux.GPIOV2ReqPadding+8] = 1
	bad["request padding"] = pad
	cpad := v2req([]uint32{1}, in)
	cpad[linux.GPIOV2ReqConfig+linux.GPIOV2CfgPadding] = 1
	bad["config padding"] = cpad
	for name, b := range bad {
		if _, err := decodeLineReq(linux.GPIO_V2_GET_LINE_IOCTL, b, 8); !errors.Is(err, linux.EINVAL) {
			t.Errorf("%s: %v, want EINVAL", name, err)
		}
	}
}

func TestDecodeLineRequestV1(t *testing.T) {
	h := make([]byte, linux.GPIOHandleRequestSize)
	binary.NativeEndian.PutUint32(h[0:], 4)
	binary.NativeEndian.PutUint32(h[4:], 6)
	binary.NativeEndian.PutUint32(h[linux.GPIOHandleReqFlags:], linux.GPIOHANDLE_REQUEST_OUTPUT|linux.GPIOHANDLE_REQUEST_OPEN_DRAIN)
	binary.NativeEndian.PutUint32(h[linux.GPIOHandleReqLines:], 2)
	r, err := decodeLineReq(linux.GPIO_GET_LINEHANDLE_IOCTL, h, 8)
	if err != nil || r.api != "v1" || len(r.offsets) != 2 || r.offsets[1] != 6 ||
		r.flags != policy.GPIOFlagOutput|policy.GPIOFlagOpenDrain || r.fdOff != linux.GPIOHandleReqFd {
		t.Errorf("handle: %+v %v", r, err)
	}
	binary.NativeEndian.PutUint32(h[linux.GPIOHandleReqFlags:], 1<<8)
	if _, err := decodeLineReq(linux.GPIO_GET_LINEHANDLE_IOCTL, h, 8); !errors.Is(err, linux.EINVAL) {
		t.Errorf("unknown v1 flag: %v", err)
	}

	ev := make([]byte, linux.GPIOEventRequestSize)
	binary.NativeEndian.PutUint32(ev[linux.GPIOEventReqOffset:], 5)
	binary.NativeEndian.PutUint32(ev[linux.GPIOEventReqEventFlags:], linux.GPIOEVENT_REQUEST_FALLING_EDGE)
	r, err = decodeLineReq(linux.GPIO_GET_LINEEVENT_IOCTL, ev, 8)
	if err != nil || r.offsets[0] != 5 || r.flags != policy.GPIOFlagInput|policy.GPIOFlagEdgeFalling || r.fdOff != linux.GPIOEventReqFd {
		t.Errorf("event: %+v %v", r, err)
	}
	binary.NativeEndian.PutUint32(ev[linux.GPIOEventReqOffset:], 8)
	if _, err := decodeLineReq(linux.GPIO_GET_LINEEVENT_IOCTL, ev, 8); !errors.Is(err, linux.EINVAL) {
		t.Errorf("event offset beyond the chip: %v", err)
	}
}

func TestGPIOHandleName(t *testing.T) {
	fd, err := linux.NewGPIOHandle(linux.Mkdev(254, 3), "fgacd-sim")
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "handle")
	defer f.Close()
	link, err := linux.FdPath(fd)
	if err != nil {
		t.Fatal(err)
	}
	rdev, ok := linux.ParseGPIOHandle(link)
	if !ok || rdev != linux.Mkdev(254, 3) {
		t.Errorf("handle %q parsed as %d:%d %v", link, linux.DevMajor(rdev), linux.DevMinor(rdev), ok)
	}
	// Sealed: nothing can be written into it.
	if _, err := f.Write([]byte("x")); !errors.Is(err, linux.EPERM) {
		t.Errorf("write into the handle: %v, want EPERM", err)
	}
	for _, l := range []string{"/memfd:other (deleted)", "/tmp/memfd:fgacd gpiochip 254:3", "/memfd:fgacd gpiochip x:3 (deleted)"} {
		if _, ok := linux.ParseGPIOHandle(l); ok {
			t.Errorf("%q parsed as a handle", l)
		}
	}
}

func TestOpenScreenByName(t *testing.T) {
	for p, want := range map[string]bool{
		"/dev/gpiochip0": true, "gpiochip12": true, "/dev/gpiochip-leds": true,
		"/dev/null": false, "/dev/gpiochip0/": false, "/etc/gpiochip0.conf/x": false, "": false,
	} {
		if got := chipPath(p); got != want {
			t.Errorf("%q screened in: %v, want %v", p, got, want)
		}
	}
}

// Whatever a caller puts in its struct, decoding never panics, and what it
// lets through names only lines the chip has and flags a policy can name.
func FuzzDecodeLineRequest(f *testing.F) {
	f.Add(uint8(0), v2req([]uint32{1, 2}, uint64(policy.GPIOFlagOutput)))
	f.Add(uint8(0), v2req([]uint32{5}, uint64(policy.GPIOFlagInput), [3]uint64{linux.GPIO_V2_LINE_ATTR_ID_DEBOUNCE, 10, 1}))
	f.Add(uint8(1), make([]byte, linux.GPIOHandleRequestSize))
	f.Add(uint8(2), make([]byte, linux.GPIOEventRequestSize))
	cmds := []uint32{linux.GPIO_V2_GET_LINE_IOCTL, linux.GPIO_GET_LINEHANDLE_IOCTL, linux.GPIO_GET_LINEEVENT_IOCTL}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		cmd := cmds[int(which)%len(cmds)]
		b := make([]byte, lineReqSize(cmd))
		copy(b, data)
		r, err := decodeLineReq(cmd, b, 8)
		if err != nil {
			return
		}
		if len(r.offsets) == 0 || len(r.offsets) > linux.GPIOLinesMax {
			t.Fatalf("%d lines let through", len(r.offsets))
		}
		for _, o := range r.offsets {
			if o >= 8 {
				t.Fatalf("offset %d of an 8-line chip let through", o)
			}
		}
		if r.flags&^policy.GPIOFlagsKnown != 0 || r.flags&(policy.GPIOFlagInput|policy.GPIOFlagOutput) == 0 {
			t.Fatalf("flags %v let through", r.flags.Names())
		}
	})
}
