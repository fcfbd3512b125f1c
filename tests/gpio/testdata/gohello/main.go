// Command gohello proves that a static Go binary (CGO_ENABLED=0) runs in
// the GPIO test guest: it prints the runtime and kernel it sees and, when
// FGACD_GPIO_CHIP is set, the chip's label read with GPIO_GET_CHIPINFO_IOCTL.
// It lives under testdata so that ./... (go vet, go test, the arch tests)
// leaves it alone; tests/gpio/run.sh builds it by path.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// gpiochipInfo mirrors struct gpiochip_info from <linux/gpio.h>.
type gpiochipInfo struct {
	Name  [32]byte
	Label [32]byte
	Lines uint32
}

// gpioGetChipinfoIoctl is _IOR(0xB4, 0x01, struct gpiochip_info).
const gpioGetChipinfoIoctl = 0x8044b401

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func main() {
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err != nil {
		fmt.Fprintln(os.Stderr, "gohello: uname:", err)
		os.Exit(1)
	}
	rel := make([]byte, 0, len(uts.Release))
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	fmt.Printf("gohello: %s %s/%s, GOMAXPROCS %d, kernel %s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), rel)

	dev := os.Getenv("FGACD_GPIO_CHIP")
	if dev == "" {
		return
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gohello:", err)
		os.Exit(1)
	}
	defer f.Close()
	var info gpiochipInfo
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), gpioGetChipinfoIoctl, uintptr(unsafe.Pointer(&info)))
	if errno != 0 {
		fmt.Fprintln(os.Stderr, "gohello: GPIO_GET_CHIPINFO_IOCTL:", errno)
		os.Exit(1)
	}
	fmt.Printf("gohello: %s: name %s, label %s, %d lines\n", dev, cstr(info.Name[:]), cstr(info.Label[:]), info.Lines)
}
