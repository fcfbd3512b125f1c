package policy_test

import (
	"slices"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

func TestErrnos(t *testing.T) {
	// Linux asm-generic numbers, as on x86_64 and arm64.
	for name, want := range map[string]policy.Errno{
		"EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7, "EBADF": 9,
		"ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "EBUSY": 16, "EEXIST": 17,
		"EXDEV": 18, "ENODEV": 19, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24,
		"ENOTTY": 25, "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30, "EMLINK": 31,
		"EPIPE": 32, "ENAMETOOLONG": 36, "ENOSYS": 38, "ENOTEMPTY": 39, "ELOOP": 40, "EOPNOTSUPP": 95,
		"ENOTSUP": 95, "EDQUOT": 122,
	} {
		got, err := policy.ParseErrno(name)
		if err != nil || got != want {
			t.Errorf("ParseErrno(%s) = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := policy.ParseErrno("eperm"); err == nil {
		t.Error("names are case-sensitive")
	}
	if policy.EPERM.String() != "EPERM" || policy.Errno(95).String() != "EOPNOTSUPP" || policy.Errno(11).String() != "EAGAIN" || policy.Errno(999).String() != "errno 999" {
		t.Error("Errno.String")
	}
	names := policy.KnownErrnos()
	if !slices.IsSorted(names) || !slices.Contains(names, "ENOTSUP") {
		t.Errorf("KnownErrnos() = %v", names)
	}
	for _, name := range names {
		e, _ := policy.ParseErrno(name)
		if back, _ := policy.ParseErrno(e.String()); back != e {
			t.Errorf("%s: String() %q does not parse back", name, e)
		}
	}
}

func TestNames(t *testing.T) {
	if got := policy.KnownActions(); !slices.Equal(got, []string{"continue", "deny", "emulate"}) {
		t.Errorf("KnownActions() = %v", got)
	}
	if got := policy.KnownSyscalls(); !slices.Equal(got, []string{"gpio_line", "gpio_open", "mknod", "mount", "umount"}) {
		t.Errorf("KnownSyscalls() = %v", got)
	}
	if policy.ActionDeny.String() != "deny" || policy.ActionEmulate.String() != "emulate" || policy.ActionContinue.String() != "continue" {
		t.Error("Action.String")
	}
	for _, name := range policy.KnownFileTypes() {
		ft, err := policy.ParseFileType(name)
		if err != nil || ft.String() != name {
			t.Errorf("file type %s: %v, %v", name, ft, err)
		}
	}
	if policy.FileTypeChar.String() != "char" || policy.FileTypeSocket.String() != "socket" || policy.FileType(0).String() != "filetype(0)" {
		t.Error("FileType.String")
	}
}
