package linux

import (
	"fmt"
	"structs"

	"golang.org/x/sys/unix"
)

// Seccomp ioctl numbers and flags. x/sys lacks some of them; values from
// include/uapi/linux/seccomp.h (SECCOMP_IOW('!', n, T)).
const (
	SECCOMP_IOCTL_NOTIF_RECV      = unix.SECCOMP_IOCTL_NOTIF_RECV // 5.0
	SECCOMP_IOCTL_NOTIF_SEND      = unix.SECCOMP_IOCTL_NOTIF_SEND // 5.0
	SECCOMP_IOCTL_NOTIF_ID_VALID  = 0x80082102                    // 5.0: the original _IOR value; 5.17 added the _IOW 0x40082102 and still accepts this one
	SECCOMP_IOCTL_NOTIF_ADDFD     = 0x40182103                    // 5.9
	SECCOMP_IOCTL_NOTIF_SET_FLAGS = 0x40082104                    // 6.6

	SECCOMP_USER_NOTIF_FLAG_CONTINUE   = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE   // 5.5
	SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP // 6.6
	SECCOMP_ADDFD_FLAG_SETFD           = unix.SECCOMP_ADDFD_FLAG_SETFD           // 5.9
	SECCOMP_ADDFD_FLAG_SEND            = unix.SECCOMP_ADDFD_FLAG_SEND            // 5.14

	SECCOMP_FILTER_FLAG_NEW_LISTENER       = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

	AUDIT_ARCH_X86_64  = unix.AUDIT_ARCH_X86_64
	AUDIT_ARCH_I386    = unix.AUDIT_ARCH_I386
	AUDIT_ARCH_AARCH64 = unix.AUDIT_ARCH_AARCH64
)

// SeccompData is equivalent to struct seccomp_data (64 bytes).
type SeccompData struct {
	_                  structs.HostLayout
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// SeccompNotif is equivalent to struct seccomp_notif (80 bytes).
type SeccompNotif struct {
	_     structs.HostLayout
	ID    uint64
	Pid   uint32 // a thread id in the receiver's pid namespace; 0 if not visible there
	Flags uint32
	Data  SeccompData
}

// SeccompNotifResp is equivalent to struct seccomp_notif_resp (24 bytes).
type SeccompNotifResp struct {
	_     structs.HostLayout
	ID    uint64
	Val   int64
	Error int32 // negative errno, or 0
	Flags uint32
}

// SeccompNotifAddfd is equivalent to struct seccomp_notif_addfd (24 bytes).
type SeccompNotifAddfd struct {
	_          structs.HostLayout
	ID         uint64
	Flags      uint32
	Srcfd      uint32
	Newfd      uint32
	NewfdFlags uint32
}

// SeccompNotifSizes is equivalent to struct seccomp_notif_sizes.
type SeccompNotifSizes struct {
	_                structs.HostLayout
	SeccompNotif     uint16
	SeccompNotifResp uint16
	SeccompData      uint16
}

func (n *SeccompNotif) String() string {
	a := &n.Data.Args
	return fmt.Sprintf("id=%#x pid=%d arch=%#x nr=%d args=[%#x %#x %#x %#x %#x %#x]",
		n.ID, n.Pid, n.Data.Arch, n.Data.Nr, a[0], a[1], a[2], a[3], a[4], a[5])
}

func (r *SeccompNotifResp) String() string {
	return fmt.Sprintf("id=%#x val=%d error=%d flags=%#x", r.ID, r.Val, r.Error, r.Flags)
}

// SeccompListenerName is what /proc/self/fd/N shows for a seccomp
// listener fd (an anon inode, kernel/seccomp.c).
const SeccompListenerName = "anon_inode:seccomp notify"

// IsSeccompListener reports whether fd is a seccomp listener, and what it
// is instead (its /proc/self/fd link, or "" if unreadable) when it is not.
func IsSeccompListener(fd int) (bool, string) {
	p, err := FdPath(fd)
	return err == nil && p == SeccompListenerName, p
}
