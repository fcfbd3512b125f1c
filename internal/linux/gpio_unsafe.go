package linux

import "unsafe"

// GPIOIoctl issues a GPIO ioctl whose argument is the struct in buf; the
// kernel reads and writes buf in place.
func GPIOIoctl(fd int, cmd uintptr, buf []byte) error {
	err := ioctlPtr(fd, cmd, unsafe.Pointer(unsafe.SliceData(buf)))
	return sysErr("ioctl(GPIO)", err)
}

// GPIOGetChipInfo asks a chip fd for its name, label and line count.
func GPIOGetChipInfo(fd int) (GPIOChipInfo, error) {
	var b [68]byte
	if err := GPIOIoctl(fd, GPIO_GET_CHIPINFO_IOCTL, b[:]); err != nil {
		return GPIOChipInfo{}, err
	}
	return GPIOChipInfo{Name: cstr(b[:32]), Label: cstr(b[32:64]), Lines: *(*uint32)(unsafe.Pointer(&b[64]))}, nil
}

// GPIOLineName returns a line's name (gpio-line-names), "" if unnamed.
func GPIOLineName(fd int, offset uint32, scratch *[256]byte) (string, error) {
	*scratch = [256]byte{}
	*(*uint32)(unsafe.Pointer(&scratch[64])) = offset
	if err := GPIOIoctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, scratch[:]); err != nil {
		return "", err
	}
	return cstr(scratch[:32]), nil
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
