// Package guestcheck is a `go test -c` binary (CGO_ENABLED=0) run inside
// the GPIO test guest to show that Go test binaries work there: the
// testing package, t.TempDir, os/exec, and a raw ioctl on the simulated
// chip. It lives under testdata so that ./... leaves it alone.
package guestcheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

type gpiochipInfo struct {
	Name  [32]byte
	Label [32]byte
	Lines uint32
}

const gpioGetChipinfoIoctl = 0x8044b401

func inGuest(t *testing.T) {
	t.Helper()
	if os.Getenv("FGACD_GPIO_GUEST") != "1" {
		t.Skip("not in the GPIO test guest (FGACD_GPIO_GUEST unset): run it with tests/gpio/run.sh")
	}
}

func TestTempDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestExec(t *testing.T) {
	out, err := exec.Command("uname", "-r").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("uname -r: %s", bytes.TrimSpace(out))
}

func TestChipInfo(t *testing.T) {
	inGuest(t)
	dev := os.Getenv("FGACD_GPIO_CHIP")
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var info gpiochipInfo
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), gpioGetChipinfoIoctl, uintptr(unsafe.Pointer(&info))); errno != 0 {
		t.Fatalf("GPIO_GET_CHIPINFO_IOCTL: %v", errno)
	}
	label := string(bytes.TrimRight(info.Label[:], "\x00"))
	if label != os.Getenv("FGACD_GPIO_LABEL") || info.Lines != 8 {
		t.Fatalf("chip %s: label %q, %d lines; want %q, 8", dev, label, info.Lines, os.Getenv("FGACD_GPIO_LABEL"))
	}
}
