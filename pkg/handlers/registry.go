package handlers

import (
	"github.com/fgacd/fgacd/internal/linux"
)

// Entry is one brokered syscall on one architecture.
type Entry struct {
	// Name is the policy's name for the syscall ("mknod" covers mknodat).
	Name string
	// Variant is the kernel's name, for records.
	Variant string
	// at says the first argument is a dirfd (the *at form).
	at bool
	// compat says pointers and ints are 32 bits wide (i386 tasks on x86_64).
	compat bool
	// umount2 says the second argument is umount2's flags.
	umount2 bool
	// form is how an open's arguments are laid out (formOpen…).
	form uint8
	// screens: the handler itself tells calls fgacd manages from calls it
	// leaves to the kernel (an openat of anything but a GPIO chip, an
	// ioctl that requests no lines), so it runs for every call, before
	// any policy shortcut.
	screens bool
	handle  func(h *Handlers, e *Entry, c *Call, out *Outcome)
}

// Screens reports whether the handler must see every call of this entry
// (see Entry.screens): the policy cannot be asked before it has.
func (e *Entry) Screens() bool { return e.screens }

const (
	formOpen    = iota // open(path, flags, mode)
	formOpenat         // openat(dirfd, path, flags, mode)
	formOpenat2        // openat2(dirfd, path, how, size)
)

type key struct {
	arch uint32
	nr   int32
}

// table is every syscall fgacd brokers, by arch and number, from the
// kernel's syscall tables (arch/x86/entry/syscalls/syscall_{64,32}.tbl,
// include/uapi/asm-generic/unistd.h for arm64, which has no mknod).
// A number not listed here is answered with the profile's default errno.
var table = map[key]*Entry{
	{linux.AUDIT_ARCH_X86_64, 133}: {Name: "mknod", Variant: "mknod", handle: (*Handlers).mknod},
	{linux.AUDIT_ARCH_X86_64, 259}: {Name: "mknod", Variant: "mknodat", at: true, handle: (*Handlers).mknod},
	{linux.AUDIT_ARCH_I386, 14}:    {Name: "mknod", Variant: "mknod", compat: true, handle: (*Handlers).mknod},
	{linux.AUDIT_ARCH_I386, 297}:   {Name: "mknod", Variant: "mknodat", at: true, compat: true, handle: (*Handlers).mknod},
	{linux.AUDIT_ARCH_AARCH64, 33}: {Name: "mknod", Variant: "mknodat", at: true, handle: (*Handlers).mknod},

	{linux.AUDIT_ARCH_X86_64, 165}: {Name: "mount", Variant: "mount", handle: (*Handlers).mount},
	{linux.AUDIT_ARCH_X86_64, 166}: {Name: "umount", Variant: "umount2", umount2: true, handle: (*Handlers).umount},
	{linux.AUDIT_ARCH_I386, 21}:    {Name: "mount", Variant: "mount", compat: true, handle: (*Handlers).mount},
	{linux.AUDIT_ARCH_I386, 22}:    {Name: "umount", Variant: "umount", compat: true, handle: (*Handlers).umount},
	{linux.AUDIT_ARCH_I386, 52}:    {Name: "umount", Variant: "umount2", compat: true, umount2: true, handle: (*Handlers).umount},
	{linux.AUDIT_ARCH_AARCH64, 40}: {Name: "mount", Variant: "mount", handle: (*Handlers).mount},
	{linux.AUDIT_ARCH_AARCH64, 39}: {Name: "umount", Variant: "umount2", umount2: true, handle: (*Handlers).umount},

	// GPIO: opens of chip devices and line-request ioctls. Every open and
	// every ioctl the filter sends here is screened; the filter sends only
	// the three line-request commands (matched by value in BPF).
	{linux.AUDIT_ARCH_X86_64, 2}:    {Name: "gpio_open", Variant: "open", form: formOpen, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_X86_64, 257}:  {Name: "gpio_open", Variant: "openat", at: true, form: formOpenat, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_X86_64, 437}:  {Name: "gpio_open", Variant: "openat2", at: true, form: formOpenat2, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_X86_64, 16}:   {Name: "gpio_line", Variant: "ioctl", screens: true, handle: (*Handlers).gpioLine},
	{linux.AUDIT_ARCH_I386, 5}:      {Name: "gpio_open", Variant: "open", compat: true, form: formOpen, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_I386, 295}:    {Name: "gpio_open", Variant: "openat", at: true, compat: true, form: formOpenat, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_I386, 437}:    {Name: "gpio_open", Variant: "openat2", at: true, compat: true, form: formOpenat2, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_I386, 54}:     {Name: "gpio_line", Variant: "ioctl", compat: true, screens: true, handle: (*Handlers).gpioLine},
	{linux.AUDIT_ARCH_AARCH64, 56}:  {Name: "gpio_open", Variant: "openat", at: true, form: formOpenat, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_AARCH64, 437}: {Name: "gpio_open", Variant: "openat2", at: true, form: formOpenat2, screens: true, handle: (*Handlers).gpioOpen},
	{linux.AUDIT_ARCH_AARCH64, 29}:  {Name: "gpio_line", Variant: "ioctl", screens: true, handle: (*Handlers).gpioLine},
}

// Lookup returns the entry for a notification, or nil for a syscall fgacd
// does not broker (including one from an arch it does not know: the arch is
// checked before the number is read, so an i386 number is never taken for
// a 64-bit one).
func Lookup(arch uint32, nr int32) *Entry {
	return table[key{arch, nr}]
}

// Names is the closed set of policy syscall names the table serves, for
// metrics labels.
func Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range table {
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, e.Name)
		}
	}
	return out
}
