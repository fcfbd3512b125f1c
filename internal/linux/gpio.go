package linux

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// GPIO character device uAPI (include/uapi/linux/gpio.h). The ioctl
// numbers and struct layouts are the same on x86_64, i386 and arm64: the
// structs hold no pointers and the v2 ones are padded explicitly.
const (
	GPIO_GET_CHIPINFO_IOCTL    = 0x8044b401 // struct gpiochip_info (68 bytes)
	GPIO_GET_LINEHANDLE_IOCTL  = 0xc16cb403 // struct gpiohandle_request (364), v1
	GPIO_GET_LINEEVENT_IOCTL   = 0xc030b404 // struct gpioevent_request (48), v1
	GPIO_V2_GET_LINEINFO_IOCTL = 0xc100b405 // struct gpio_v2_line_info (256), 5.10
	GPIO_V2_GET_LINE_IOCTL     = 0xc250b407 // struct gpio_v2_line_request (592), 5.10

	// Reconfiguring lines already requested, on the line fd.
	GPIO_V2_LINE_SET_CONFIG_IOCTL = 0xc110b40d // struct gpio_v2_line_config (272), 5.10
	GPIOHANDLE_SET_CONFIG_IOCTL   = 0xc054b40a // struct gpiohandle_config (84), v1, 5.5
)

// Sizes and field offsets of the request structs.
const (
	GPIOV2LineRequestSize = 592
	GPIOV2ReqOffsets      = 0   // __u32 offsets[64]
	GPIOV2ReqConsumer     = 256 // char consumer[32]
	GPIOV2ReqConfig       = 288 // struct gpio_v2_line_config
	GPIOV2ReqNumLines     = 560
	GPIOV2ReqEventBufSize = 564
	GPIOV2ReqPadding      = 568 // __u32 padding[5]
	GPIOV2ReqFd           = 588

	// struct gpio_v2_line_config, from its start.
	GPIOV2CfgFlags    = 0  // __aligned_u64 flags
	GPIOV2CfgNumAttrs = 8  // __u32 num_attrs
	GPIOV2CfgPadding  = 12 // __u32 padding[5]
	GPIOV2CfgAttrs    = 32 // struct gpio_v2_line_config_attribute attrs[10], 24 bytes each
	GPIOV2CfgAttrSize = 24 // attr {id, padding, union 8 bytes}, mask
	GPIOV2MaxAttrs    = 10

	GPIOHandleRequestSize = 364
	GPIOHandleReqOffsets  = 0   // __u32 lineoffsets[64]
	GPIOHandleReqFlags    = 256 // __u32 flags
	GPIOHandleReqDefaults = 260 // __u8 default_values[64]
	GPIOHandleReqConsumer = 324 // char consumer_label[32]
	GPIOHandleReqLines    = 356 // __u32 lines
	GPIOHandleReqFd       = 360 // int fd

	GPIOEventRequestSize   = 48
	GPIOEventReqOffset     = 0 // __u32 lineoffset
	GPIOEventReqHandleFlag = 4 // __u32 handleflags
	GPIOEventReqEventFlags = 8 // __u32 eventflags
	GPIOEventReqConsumer   = 12
	GPIOEventReqFd         = 44 // int fd

	GPIOLinesMax = 64 // GPIO_V2_LINES_MAX, GPIOHANDLES_MAX
)

// v2 attribute ids (enum gpio_v2_line_attr_id).
const (
	GPIO_V2_LINE_ATTR_ID_FLAGS         = 1
	GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES = 2
	GPIO_V2_LINE_ATTR_ID_DEBOUNCE      = 3
)

// v1 handle flags (GPIOHANDLE_REQUEST_*) and event flags (GPIOEVENT_REQUEST_*).
const (
	GPIOHANDLE_REQUEST_INPUT          = 1 << 0
	GPIOHANDLE_REQUEST_OUTPUT         = 1 << 1
	GPIOHANDLE_REQUEST_ACTIVE_LOW     = 1 << 2
	GPIOHANDLE_REQUEST_OPEN_DRAIN     = 1 << 3
	GPIOHANDLE_REQUEST_OPEN_SOURCE    = 1 << 4
	GPIOHANDLE_REQUEST_BIAS_PULL_UP   = 1 << 5
	GPIOHANDLE_REQUEST_BIAS_PULL_DOWN = 1 << 6
	GPIOHANDLE_REQUEST_BIAS_DISABLE   = 1 << 7

	GPIOEVENT_REQUEST_RISING_EDGE  = 1 << 0
	GPIOEVENT_REQUEST_FALLING_EDGE = 1 << 1
)

// GPIOChipInfo is struct gpiochip_info.
type GPIOChipInfo struct {
	Name  string
	Label string
	Lines uint32
}

// GPIOChipMajor returns the character device major gpiolib registered
// ("gpiochip" in /proc/devices). It is fixed for the boot: gpiolib takes
// its region once at init. 0 when this kernel has no GPIO character device.
func GPIOChipMajor() (uint32, error) {
	f, err := os.Open("/proc/devices")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "Character devices:" comes first; the block section has no gpiochip.
		num, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if ok && name == "gpiochip" {
			n, err := strconv.ParseUint(num, 10, 32)
			return uint32(n), err
		}
		if strings.HasPrefix(sc.Text(), "Block devices:") {
			break
		}
	}
	return 0, sc.Err()
}

// ReopenFd opens the file behind fd anew with flags (O_CLOEXEC always
// added), through /proc/self/fd: the way to turn an O_PATH fd into one
// that can do I/O, with the opener's rights checked on the same inode.
func ReopenFd(fd int, flags int) (int, error) {
	return Open("/proc/self/fd/"+strconv.Itoa(fd), flags, 0)
}

// Open flags a brokered open passes on.
const (
	O_ACCMODE  = unix.O_ACCMODE
	O_NONBLOCK = unix.O_NONBLOCK
	O_CREAT    = unix.O_CREAT
	O_EXCL     = unix.O_EXCL
	O_RDWR     = unix.O_RDWR
	O_TMPFILE  = unix.O_TMPFILE
)

// GPIOLineIoctls are the ioctl commands that request lines, and those
// that reconfigure requested lines (refused: a granted line must not turn
// into what its rule does not allow): the only ioctls a GPIO filter sends
// to fgacd.
var GPIOLineIoctls = []uint32{GPIO_V2_GET_LINE_IOCTL, GPIO_GET_LINEHANDLE_IOCTL, GPIO_GET_LINEEVENT_IOCTL,
	GPIO_V2_LINE_SET_CONFIG_IOCTL, GPIOHANDLE_SET_CONFIG_IOCTL}

// GPIOHandlePrefix starts the memfd name of the handle fgacd gives an app
// granted lines but not their chip; "MAJ:MIN" of the chip follows.
const GPIOHandlePrefix = "fgacd gpiochip "

// NewGPIOHandle makes that handle: an empty memfd sealed against any
// write or growth (memfd_create(2), 3.17; F_ADD_SEALS), named after the
// chip. It carries no right to anything: it only tells fgacd which chip
// the app asks lines of, and the policy decides what it gets.
func NewGPIOHandle(rdev uint64, label string) (int, error) {
	name := GPIOHandlePrefix + devNumber(rdev) + " " + label
	if len(name) > 200 { // memfd names are at most 249 bytes
		name = name[:200]
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, sysErr("memfd_create", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return -1, sysErr("fcntl(F_ADD_SEALS)", err)
	}
	return fd, nil
}

// ParseGPIOHandle reads the chip's device number back from the target of
// a handle's /proc/PID/fd link ("/memfd:fgacd gpiochip 254:0 label (deleted)").
func ParseGPIOHandle(link string) (rdev uint64, ok bool) {
	rest, ok := strings.CutPrefix(link, "/memfd:"+GPIOHandlePrefix)
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, " ")
	maj, min, ok := strings.Cut(num, ":")
	a, err1 := strconv.ParseUint(maj, 10, 32)
	b, err2 := strconv.ParseUint(min, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, false
	}
	return Mkdev(uint32(a), uint32(b)), true
}

// GPIOChipPath finds a chip's device node in the daemon's /dev from its
// device number, through sysfs (/sys/dev/char/MAJ:MIN/uevent DEVNAME).
func GPIOChipPath(rdev uint64) (string, error) {
	b, err := os.ReadFile("/sys/dev/char/" + devNumber(rdev) + "/uevent")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(l, "DEVNAME="); ok && name != "" && !strings.Contains(name, "..") {
			return "/dev/" + name, nil
		}
	}
	return "", ENOENT
}

// devNumber spells a device number the way sysfs and the handle name do:
// "MAJ:MIN".
func devNumber(rdev uint64) string {
	return strconv.FormatUint(uint64(DevMajor(rdev)), 10) + ":" + strconv.FormatUint(uint64(DevMinor(rdev)), 10)
}
