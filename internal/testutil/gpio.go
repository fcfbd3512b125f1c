package testutil

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/fgacd/fgacd/internal/linux"
)

// GPIO helpers for tests in the Linux 6.1 guest (tests/gpio), where
// gpio-sim provides a chip. They issue the uAPI ioctls as an app would,
// natively or from a tracee under fgacd.

// RequireGPIOGuest skips unless the test runs in the GPIO guest.
func RequireGPIOGuest(t testing.TB) (chip, simSysfs string) {
	t.Helper()
	if os.Getenv("FGACD_GPIO_GUEST") != "1" {
		t.Skip("needs a GPIO chip: this kernel has no gpio-sim; runs in the Linux 6.1 guest (make test-gpio, tests/gpio/README.md)")
	}
	chip, simSysfs = os.Getenv("FGACD_GPIO_CHIP"), os.Getenv("FGACD_GPIO_SIM_SYSFS")
	if chip == "" || simSysfs == "" {
		t.Fatal("guest without FGACD_GPIO_CHIP or FGACD_GPIO_SIM_SYSFS")
	}
	return chip, simSysfs
}

// GPIOTraceeNrs are the syscalls a GPIO tracee traps: opens.
func GPIOTraceeNrs() []uint32 { return linux.GPIOOpenNrs }

// GPIORequestV2 requests lines with GPIO_V2_GET_LINE_IOCTL on chip. values
// sets outputs (bit i for lines[i]) when flags hold OUTPUT. It returns the
// line fd from the struct, the ioctl's return value and errno.
func GPIORequestV2(chip int, lines []uint32, flags uint64, values uint64) (fd int, errno linux.Errno) {
	b := make([]byte, linux.GPIOV2LineRequestSize)
	for i, o := range lines {
		binary.NativeEndian.PutUint32(b[linux.GPIOV2ReqOffsets+4*i:], o)
	}
	copy(b[linux.GPIOV2ReqConsumer:], "fgacd-test")
	cfg := linux.GPIOV2ReqConfig
	binary.NativeEndian.PutUint64(b[cfg+linux.GPIOV2CfgFlags:], flags)
	if flags&(1<<3) != 0 && values != 0 { // GPIO_V2_LINE_FLAG_OUTPUT
		binary.NativeEndian.PutUint32(b[cfg+linux.GPIOV2CfgNumAttrs:], 1)
		at := cfg + linux.GPIOV2CfgAttrs
		binary.NativeEndian.PutUint32(b[at:], linux.GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES)
		binary.NativeEndian.PutUint64(b[at+8:], values)
		binary.NativeEndian.PutUint64(b[at+16:], 1<<len(lines)-1)
	}
	binary.NativeEndian.PutUint32(b[linux.GPIOV2ReqNumLines:], uint32(len(lines)))
	binary.NativeEndian.PutUint32(b[linux.GPIOV2ReqFd:], 0xffffffff)
	if err := linux.GPIOIoctl(chip, linux.GPIO_V2_GET_LINE_IOCTL, b); err != nil {
		return -1, linux.ErrnoOf(err)
	}
	return int(int32(binary.NativeEndian.Uint32(b[linux.GPIOV2ReqFd:]))), 0
}

// GPIORequestV1Handle requests lines with GPIO_GET_LINEHANDLE_IOCTL.
func GPIORequestV1Handle(chip int, lines []uint32, flags uint32, values []byte) (fd int, errno linux.Errno) {
	b := make([]byte, linux.GPIOHandleRequestSize)
	for i, o := range lines {
		binary.NativeEndian.PutUint32(b[linux.GPIOHandleReqOffsets+4*i:], o)
	}
	binary.NativeEndian.PutUint32(b[linux.GPIOHandleReqFlags:], flags)
	copy(b[linux.GPIOHandleReqDefaults:], values)
	copy(b[linux.GPIOHandleReqConsumer:], "fgacd-test")
	binary.NativeEndian.PutUint32(b[linux.GPIOHandleReqLines:], uint32(len(lines)))
	binary.NativeEndian.PutUint32(b[linux.GPIOHandleReqFd:], 0xffffffff)
	if err := linux.GPIOIoctl(chip, linux.GPIO_GET_LINEHANDLE_IOCTL, b); err != nil {
		return -1, linux.ErrnoOf(err)
	}
	return int(int32(binary.NativeEndian.Uint32(b[linux.GPIOHandleReqFd:]))), 0
}

// GPIORequestV1Event requests edge events on one line with
// GPIO_GET_LINEEVENT_IOCTL.
func GPIORequestV1Event(chip int, line uint32, handleFlags, eventFlags uint32) (fd int, errno linux.Errno) {
	b := make([]byte, linux.GPIOEventRequestSize)
	binary.NativeEndian.PutUint32(b[linux.GPIOEventReqOffset:], line)
	binary.NativeEndian.PutUint32(b[linux.GPIOEventReqHandleFlag:], handleFlags)
	binary.NativeEndian.PutUint32(b[linux.GPIOEventReqEventFlags:], eventFlags)
	copy(b[linux.GPIOEventReqConsumer:], "fgacd-test")
	binary.NativeEndian.PutUint32(b[linux.GPIOEventReqFd:], 0xffffffff)
	if err := linux.GPIOIoctl(chip, linux.GPIO_GET_LINEEVENT_IOCTL, b); err != nil {
		return -1, linux.ErrnoOf(err)
	}
	return int(int32(binary.NativeEndian.Uint32(b[linux.GPIOEventReqFd:]))), 0
}

// GPIOSetValuesV2 sets output values on a v2 line fd (bit i: line i).
func GPIOSetValuesV2(line int, bits, mask uint64) linux.Errno {
	var b [16]byte
	binary.NativeEndian.PutUint64(b[0:], bits)
	binary.NativeEndian.PutUint64(b[8:], mask)
	return linux.ErrnoOf(linux.GPIOIoctl(line, gpioV2SetValues, b[:]))
}

// GPIO_V2_LINE_SET_VALUES_IOCTL: not brokered, the line fd's own ioctl.
const gpioV2SetValues = 0xc010b40f

// GPIOReadEvent waits up to timeoutMs for one edge event on a line fd and
// returns its id: v2 (struct gpio_v2_line_event, 48 bytes: id at 8) or v1
// (struct gpioevent_data, 16 bytes: id at 8); 1 rising, 2 falling.
func GPIOReadEvent(line int, v1 bool, timeoutMs int) (id uint32, errno linux.Errno) {
	rev, err := linux.PollOne(line, linux.POLLIN, timeoutMs)
	if err != nil {
		return 0, linux.ErrnoOf(err)
	}
	if rev&linux.POLLIN == 0 {
		return 0, linux.EAGAIN
	}
	size := 48
	if v1 {
		size = 16
	}
	b := make([]byte, size)
	n, err := linux.Read(line, b)
	if err != nil {
		return 0, linux.ErrnoOf(err)
	}
	if n != size {
		return 0, linux.EIO
	}
	return binary.NativeEndian.Uint32(b[8:]), 0
}

// Scaled is n for counts of calls a test makes, divided by 10 in the GPIO
// guest: QEMU emulates its CPU in software there (KVM is unusable on these
// machines), about 30 times slower, and the suite must fit its budget.
func Scaled(n int) int {
	if os.Getenv("FGACD_GPIO_GUEST") == "1" {
		return max(1, n/10)
	}
	return n
}

// GPIOSetConfigV2 reconfigures the lines of a v2 line fd to flags
// (GPIO_V2_LINE_SET_CONFIG_IOCTL): what fgacd refuses.
func GPIOSetConfigV2(line int, flags uint64) linux.Errno {
	b := make([]byte, 272) // struct gpio_v2_line_config
	binary.NativeEndian.PutUint64(b[linux.GPIOV2CfgFlags:], flags)
	return linux.ErrnoOf(linux.GPIOIoctl(line, linux.GPIO_V2_LINE_SET_CONFIG_IOCTL, b))
}
