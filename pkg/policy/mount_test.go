package policy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

func TestMountConstants(t *testing.T) {
	// include/uapi/linux/mount.h and include/linux/fs.h.
	for name, got := range map[string][2]uint64{
		"MS_RDONLY": {policy.MS_RDONLY, 1}, "MS_NOSUID": {policy.MS_NOSUID, 2}, "MS_NODEV": {policy.MS_NODEV, 4},
		"MS_NOEXEC": {policy.MS_NOEXEC, 8}, "MS_SYNCHRONOUS": {policy.MS_SYNCHRONOUS, 16}, "MS_REMOUNT": {policy.MS_REMOUNT, 32},
		"MS_MANDLOCK": {policy.MS_MANDLOCK, 64}, "MS_DIRSYNC": {policy.MS_DIRSYNC, 128}, "MS_NOSYMFOLLOW": {policy.MS_NOSYMFOLLOW, 256},
		"MS_NOATIME": {policy.MS_NOATIME, 1024}, "MS_NODIRATIME": {policy.MS_NODIRATIME, 2048}, "MS_BIND": {policy.MS_BIND, 4096},
		"MS_MOVE": {policy.MS_MOVE, 8192}, "MS_REC": {policy.MS_REC, 16384}, "MS_SILENT": {policy.MS_SILENT, 32768},
		"MS_UNBINDABLE": {policy.MS_UNBINDABLE, 1 << 17}, "MS_PRIVATE": {policy.MS_PRIVATE, 1 << 18}, "MS_SLAVE": {policy.MS_SLAVE, 1 << 19},
		"MS_SHARED": {policy.MS_SHARED, 1 << 20}, "MS_RELATIME": {policy.MS_RELATIME, 1 << 21},
		"MS_STRICTATIME": {policy.MS_STRICTATIME, 1 << 24}, "MS_LAZYTIME": {policy.MS_LAZYTIME, 1 << 25},
		"MNT_FORCE": {policy.MNT_FORCE, 1}, "MNT_DETACH": {policy.MNT_DETACH, 2}, "MNT_EXPIRE": {policy.MNT_EXPIRE, 4},
		"UMOUNT_NOFOLLOW": {policy.UMOUNT_NOFOLLOW, 8},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %#x, want %#x", name, got[0], got[1])
		}
	}
}

func TestMountNames(t *testing.T) {
	flags := policy.KnownMountFlags()
	want := []string{"dirsync", "lazytime", "mand", "noatime", "nodev", "nodiratime", "noexec", "nosuid", "nosymfollow", "relatime", "ro", "silent", "strictatime", "sync"}
	if !slices.Equal(flags, want) {
		t.Errorf("KnownMountFlags() = %v", flags)
	}
	all, err := policy.ParseMountFlags(flags)
	const attrs = policy.MS_RDONLY | policy.MS_NOSUID | policy.MS_NODEV | policy.MS_NOEXEC | policy.MS_SYNCHRONOUS |
		policy.MS_MANDLOCK | policy.MS_DIRSYNC | policy.MS_NOSYMFOLLOW | policy.MS_NOATIME | policy.MS_NODIRATIME |
		policy.MS_SILENT | policy.MS_RELATIME | policy.MS_STRICTATIME | policy.MS_LAZYTIME
	if err != nil || all != attrs {
		t.Errorf("ParseMountFlags(all) = %#x, %v; want %#x", all, err, uint64(attrs))
	}
	for _, name := range flags {
		b, _ := policy.ParseMountFlags([]string{name})
		if got := policy.MountFlagNames(b); !slices.Equal(got, []string{name}) {
			t.Errorf("MountFlagNames(ParseMountFlags(%s)) = %v", name, got)
		}
	}
	if b, err := policy.ParseMountFlags(nil); b != 0 || err != nil {
		t.Errorf("ParseMountFlags(nil) = %#x, %v", b, err)
	}
	if _, err := policy.ParseMountFlags([]string{"ro", "rw"}); err == nil || !strings.Contains(err.Error(), `unknown mount flag "rw"`) {
		t.Errorf("unknown flag: %v", err)
	}
	// Records name flags in bit order, and never hide unknown bits.
	got := policy.MountFlagNames(policy.MS_LAZYTIME | policy.MS_NOSUID | policy.MS_RDONLY | policy.MS_BIND | policy.MS_REC)
	if !slices.Equal(got, []string{"ro", "nosuid", "lazytime", "0x5000"}) {
		t.Errorf("MountFlagNames = %v", got)
	}
	if got := policy.MountFlagNames(0); len(got) != 0 {
		t.Errorf("MountFlagNames(0) = %v", got)
	}

	if got := policy.KnownUmountFlags(); !slices.Equal(got, []string{"detach", "expire", "force", "nofollow"}) {
		t.Errorf("KnownUmountFlags() = %v", got)
	}
	if b, err := policy.ParseUmountFlags([]string{"detach", "nofollow"}); err != nil || b != policy.MNT_DETACH|policy.UMOUNT_NOFOLLOW {
		t.Errorf("ParseUmountFlags = %#x, %v", b, err)
	}
	if _, err := policy.ParseUmountFlags([]string{"lazy"}); err == nil || !strings.Contains(err.Error(), `unknown umount flag "lazy"`) {
		t.Errorf("unknown umount flag: %v", err)
	}
	if got := policy.UmountFlagNames(policy.MNT_FORCE | policy.MNT_EXPIRE | 0x10); !slices.Equal(got, []string{"force", "expire", "0x10"}) {
		t.Errorf("UmountFlagNames = %v", got)
	}
	if got := policy.KnownPropagations(); !slices.Equal(got, []string{"private", "shared", "slave", "unbindable"}) {
		t.Errorf("KnownPropagations() = %v", got)
	}
	for op, name := range map[policy.MountOp]string{
		policy.MountNew: "new", policy.MountBind: "bind", policy.MountRemount: "remount",
		policy.MountPropagation: "propagation", policy.MountMove: "move", 0: "mountop(0)", 6: "mountop(6)",
	} {
		if op.String() != name {
			t.Errorf("MountOp(%d).String() = %q, want %q", op, op.String(), name)
		}
	}
}

func TestParseMountOptions(t *testing.T) {
	opt := func(name, value string, has bool) policy.MountOption {
		return policy.MountOption{Name: name, Value: value, HasValue: has}
	}
	tests := []struct {
		data string
		want []policy.MountOption
	}{
		{"", nil},
		{",,,", nil},
		{"size=8m", []policy.MountOption{opt("size", "8m", true)}},
		{"size=8m,mode=1777", []policy.MountOption{opt("size", "8m", true), opt("mode", "1777", true)}},
		{"noswap,,uid=0,", []policy.MountOption{opt("noswap", "", false), opt("uid", "0", true)}},
		{"x=", []policy.MountOption{opt("x", "", true)}},
		{"a=b=c", []policy.MountOption{opt("a", "b=c", true)}},
		{"Nr_inodes.x-1=1k", []policy.MountOption{opt("Nr_inodes.x-1", "1k", true)}},
		{"context=system_u:object_r:tmp_t:s0", []policy.MountOption{opt("context", "system_u:object_r:tmp_t:s0", true)}},
		{"size=50%", []policy.MountOption{opt("size", "50%", true)}},
	}
	for _, tt := range tests {
		got, err := policy.ParseMountOptions(tt.data)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseMountOptions(%q) = %v, %v; want %v", tt.data, got, err, tt.want)
		}
		var parts []string
		for _, o := range got {
			parts = append(parts, o.String())
		}
		if again, _ := policy.ParseMountOptions(strings.Join(parts, ",")); !slices.Equal(again, got) {
			t.Errorf("%q: String() does not round-trip: %v", tt.data, parts)
		}
	}
	for data, msg := range map[string]string{
		"size=8m\x00,mode=1": "NUL byte",
		"=x":                 `invalid option name ""`,
		"a,=":                `invalid option name ""`,
		"a b=1":              `invalid option name "a b"`,
		"size=1m,o/x":        `invalid option name "o/x"`,
		"ctx=\"a,b\"":        "quoted values are not supported",
		"é=1":                "invalid option name",
	} {
		if got, err := policy.ParseMountOptions(data); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseMountOptions(%q) = %v, %v; want an error with %q", data, got, err, msg)
		}
	}
}

const ebusy policy.Errno = 16

const mountPolicy = `version = 1
[[profile]]
name = "app"
default_errno = "EACCES"
  [profile.match]
  uid = [1000]

  # A deny rule holds whatever flags, options or op are asked for: keys it
  # does not write are no conditions.
  [[profile.rule]]
  name = "no-secret"
  syscall = "mount"
  action = "deny"
  errno = "EBUSY"
    [profile.rule.mount]
    target = ["/run/app/secret"]

  [[profile.rule]]
  name = "tmpfs"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    fstype = ["tmpfs", "ram*"]
    source = ["tmpfs", "none"]
    target = ["/run/app/*"]
    force_flags = ["nosuid", "nodev"]
    allow_flags = ["ro", "noexec", "noatime"]
      [profile.rule.mount.options]
      size = "<=64m"
      mode = "0700|1777"
      uid = "*"
      noswap = ""

  [[profile.rule]]
  name = "disk"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["new"]
    fstype = ["ext4"]
    source = ["/dev/sd?1"]
    target = ["/run/app/disk"]
    force_flags = ["nosuid", "nodev", "noexec"]

  [[profile.rule]]
  name = "bind"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["bind"]
    source = ["/srv/data/*"]
    target = ["/run/app/*"]
    force_flags = ["nosuid"]
    allow_flags = ["ro"]

  [[profile.rule]]
  name = "rbind"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["rbind"]
    source = ["/srv/tree"]
    target = ["/run/app/tree"]

  [[profile.rule]]
  name = "remount"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["remount"]
    target = ["/run/app/*"]
    force_flags = ["nosuid", "nodev"]
    allow_flags = ["ro"]
      [profile.rule.mount.options]
      size = "<=64m"

  [[profile.rule]]
  name = "propagation"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["propagation"]
    target = ["/run/app/*"]
    propagation = ["private", "slave"]

  [[profile.rule]]
  name = "move"
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["move"]
    source = ["/run/app/*"]
    target = ["/run/app/*"]

  [[profile.rule]]
  name = "remount-native"
  syscall = "mount"
  action = "continue"
    [profile.rule.mount]
    op = ["remount"]
    allow_flags = ["ro"]

  # Deny rules hold for any flag when they do not list flags.
  [[profile.rule]]
  name = "keep"
  syscall = "umount"
  action = "deny"
  errno = "EBUSY"
    [profile.rule.umount]
    target = ["/run/app/keep"]

  [[profile.rule]]
  name = "umount"
  syscall = "umount"
  action = "emulate"
    [profile.rule.umount]
    target = ["/run/app/*"]
    flags = ["detach", "nofollow"]

  # Listed flags are an allowlist in every rule: this one holds for calls
  # asking for expire, or for no flag at all.
  [[profile.rule]]
  name = "expire-native"
  syscall = "umount"
  action = "continue"
    [profile.rule.umount]
    flags = ["expire"]

[[profile]]
name = "plain"
  [profile.match]
  uid = [2000]
  [[profile.rule]]
  syscall = "mount"
  action = "deny"
  errno = "ENODEV"
  [[profile.rule]]
  syscall = "umount"
  action = "continue"
`

func opts(t *testing.T, data string) []policy.MountOption {
	t.Helper()
	o, err := policy.ParseMountOptions(data)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestDecideMount(t *testing.T) {
	set := mustCompile(t, mountPolicy)
	p := set.Select(policy.Identity{UID: 1000})
	const (
		nosuidNodev = policy.MS_NOSUID | policy.MS_NODEV
		emulate     = policy.ActionEmulate
		deny        = policy.ActionDeny
	)
	tmpfs := func(target string, flags uint64, data string) *policy.MountArgs {
		return &policy.MountArgs{Op: policy.MountNew, FSType: "tmpfs", Source: "tmpfs", Target: target, Flags: flags, Options: opts(t, data)}
	}
	bind := func(src, target string, rec bool, flags uint64) *policy.MountArgs {
		return &policy.MountArgs{Op: policy.MountBind, Recursive: rec, Source: src, Target: target, Flags: flags}
	}
	with := func(a *policy.MountArgs, edit func(*policy.MountArgs)) *policy.MountArgs { edit(a); return a }
	tests := []struct {
		name   string
		args   *policy.MountArgs
		action policy.Action
		errno  policy.Errno
		rule   string
		force  uint64
	}{
		{"tmpfs grant", tmpfs("/run/app/t", policy.MS_RDONLY|policy.MS_NOATIME, "size=8m,mode=1777,uid=0,noswap"), emulate, 0, "tmpfs", nosuidNodev},
		{"asking for a forced flag is fine", tmpfs("/run/app/t", policy.MS_NOSUID|policy.MS_NODEV, ""), emulate, 0, "tmpfs", nosuidNodev},
		{"fstype glob", with(tmpfs("/run/app/t", 0, ""), func(a *policy.MountArgs) { a.FSType = "ramfs" }), emulate, 0, "tmpfs", nosuidNodev},
		{"flag outside allow and force", tmpfs("/run/app/t", policy.MS_RDONLY|policy.MS_SYNCHRONOUS, ""), deny, policy.EACCES, "", 0},
		{"stray op bit in flags", tmpfs("/run/app/t", policy.MS_BIND, ""), deny, policy.EACCES, "", 0},
		{"unknown option", tmpfs("/run/app/t", 0, "size=8m,huge=always"), deny, policy.EACCES, "", 0},
		{"size over the bound", tmpfs("/run/app/t", 0, "size=65m"), deny, policy.EACCES, "", 0},
		{"size at the bound", tmpfs("/run/app/t", 0, "size=65536K"), emulate, 0, "tmpfs", nosuidNodev},
		{"size 0 is unlimited: refused", tmpfs("/run/app/t", 0, "size=0"), deny, policy.EACCES, "", 0},
		{"size in percent: refused", tmpfs("/run/app/t", 0, "size=50%"), deny, policy.EACCES, "", 0},
		{"a second size must pass too", tmpfs("/run/app/t", 0, "size=8m,size=8g"), deny, policy.EACCES, "", 0},
		{"mode not among the alternatives", tmpfs("/run/app/t", 0, "mode=0755"), deny, policy.EACCES, "", 0},
		{"flag option with a value", tmpfs("/run/app/t", 0, "noswap=1"), deny, policy.EACCES, "", 0},
		{"data option ro is an option too", tmpfs("/run/app/t", 0, "rw"), deny, policy.EACCES, "", 0},
		{"source not listed", with(tmpfs("/run/app/t", 0, ""), func(a *policy.MountArgs) { a.Source = "/dev/shm" }), deny, policy.EACCES, "", 0},
		{"empty source", with(tmpfs("/run/app/t", 0, ""), func(a *policy.MountArgs) { a.Source = "" }), deny, policy.EACCES, "", 0},
		{"other fstype", with(tmpfs("/run/app/t", 0, ""), func(a *policy.MountArgs) { a.FSType = "proc" }), deny, policy.EACCES, "", 0},
		{"target outside", tmpfs("/etc", 0, ""), deny, policy.EACCES, "", 0},
		{"target in a subdirectory", tmpfs("/run/app/a/b", 0, ""), deny, policy.EACCES, "", 0},
		{"unclean target fails closed", tmpfs("/run/app/..", 0, ""), deny, policy.EACCES, "", 0},
		{"relative target fails closed", tmpfs("run/app/t", 0, ""), deny, policy.EACCES, "", 0},
		{"deny rule holds for any flag and option", tmpfs("/run/app/secret", policy.MS_RDONLY, "size=1m,x=y"), deny, ebusy, "no-secret", 0},
		{"deny rule holds for any op", bind("/srv/data/a", "/run/app/secret", false, 0), deny, ebusy, "no-secret", 0},

		{"block device", &policy.MountArgs{Op: policy.MountNew, FSType: "ext4", Source: "/dev/sda1", Target: "/run/app/disk"},
			emulate, 0, "disk", nosuidNodev | policy.MS_NOEXEC},
		{"other block device", &policy.MountArgs{Op: policy.MountNew, FSType: "ext4", Source: "/dev/sda2", Target: "/run/app/disk"},
			deny, policy.EACCES, "", 0},
		{"unclean device path fails closed", &policy.MountArgs{Op: policy.MountNew, FSType: "ext4", Source: "/dev/../dev/sda1", Target: "/run/app/disk"},
			deny, policy.EACCES, "", 0},
		{"no options table: no option", &policy.MountArgs{Op: policy.MountNew, FSType: "ext4", Source: "/dev/sda1", Target: "/run/app/disk", Options: opts(t, "errors=continue")},
			deny, policy.EACCES, "", 0},

		{"bind", bind("/srv/data/a", "/run/app/a", false, policy.MS_RDONLY), emulate, 0, "bind", policy.MS_NOSUID},
		{"bind: options are not read", with(bind("/srv/data/a", "/run/app/a", false, 0), func(a *policy.MountArgs) { a.Options = opts(t, "x") }),
			emulate, 0, "bind", policy.MS_NOSUID},
		{"bind with a flag not allowed", bind("/srv/data/a", "/run/app/a", false, policy.MS_NOEXEC), deny, policy.EACCES, "", 0},
		{"bind rule is not rbind", bind("/srv/data/a", "/run/app/a", true, 0), deny, policy.EACCES, "", 0},
		{"bind source outside", bind("/etc", "/run/app/a", false, 0), deny, policy.EACCES, "", 0},
		{"unclean bind source fails closed", bind("/srv/data/..", "/run/app/a", false, 0), deny, policy.EACCES, "", 0},
		{"relative bind source fails closed", bind("srv/data/a", "/run/app/a", false, 0), deny, policy.EACCES, "", 0},
		{"rbind", bind("/srv/tree", "/run/app/tree", true, 0), emulate, 0, "rbind", 0},
		{"rbind rule is not bind", bind("/srv/tree", "/run/app/tree", false, 0), deny, policy.EACCES, "", 0},
		{"emulate without allow_flags allows no flag", bind("/srv/tree", "/run/app/tree", true, policy.MS_RDONLY), deny, policy.EACCES, "", 0},

		{"remount keeps the forced flags", &policy.MountArgs{Op: policy.MountRemount, Target: "/run/app/t", Flags: policy.MS_RDONLY, Options: opts(t, "size=16m")},
			emulate, 0, "remount", nosuidNodev},
		{"remount over the bound is not emulated; continue reads no options", &policy.MountArgs{Op: policy.MountRemount, Target: "/run/app/t", Options: opts(t, "size=1g")},
			policy.ActionContinue, 0, "remount-native", 0},
		{"remount elsewhere: continue", &policy.MountArgs{Op: policy.MountRemount, Target: "/home", Flags: policy.MS_RDONLY},
			policy.ActionContinue, 0, "remount-native", 0},
		{"remount elsewhere with a flag continue does not allow", &policy.MountArgs{Op: policy.MountRemount, Target: "/home", Flags: policy.MS_NOEXEC},
			deny, policy.EACCES, "", 0},

		{"propagation", &policy.MountArgs{Op: policy.MountPropagation, Target: "/run/app/t", Propagation: policy.MS_PRIVATE},
			emulate, 0, "propagation", 0},
		{"recursive propagation", &policy.MountArgs{Op: policy.MountPropagation, Recursive: true, Target: "/run/app/t", Propagation: policy.MS_SLAVE},
			emulate, 0, "propagation", 0},
		{"propagation kind not allowed", &policy.MountArgs{Op: policy.MountPropagation, Target: "/run/app/t", Propagation: policy.MS_SHARED},
			deny, policy.EACCES, "", 0},
		{"two propagation bits", &policy.MountArgs{Op: policy.MountPropagation, Target: "/run/app/t", Propagation: policy.MS_PRIVATE | policy.MS_SLAVE},
			deny, policy.EACCES, "", 0},
		{"no propagation bit", &policy.MountArgs{Op: policy.MountPropagation, Target: "/run/app/t"},
			deny, policy.EACCES, "", 0},

		{"move", &policy.MountArgs{Op: policy.MountMove, Source: "/run/app/a", Target: "/run/app/b"}, emulate, 0, "move", 0},
		{"move from outside", &policy.MountArgs{Op: policy.MountMove, Source: "/srv/data/a", Target: "/run/app/b"}, deny, policy.EACCES, "", 0},
		{"unknown op", &policy.MountArgs{Target: "/run/app/t", FSType: "tmpfs", Source: "tmpfs"}, deny, policy.EACCES, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Decide(policy.Request{Syscall: "mount", Mount: tt.args})
			want := policy.Decision{Action: tt.action, Errno: tt.errno, ForceFlags: tt.force, Profile: "app", Rule: tt.rule, Reason: "rule matched"}
			if tt.rule == "" {
				want.Reason = "no rule matched"
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecideUmount(t *testing.T) {
	set := mustCompile(t, mountPolicy)
	p := set.Select(policy.Identity{UID: 1000})
	tests := []struct {
		name   string
		args   *policy.UmountArgs
		action policy.Action
		errno  policy.Errno
		rule   string
	}{
		{"umount", &policy.UmountArgs{Target: "/run/app/t"}, policy.ActionEmulate, 0, "umount"},
		{"detach and nofollow", &policy.UmountArgs{Target: "/run/app/t", Flags: policy.MNT_DETACH | policy.UMOUNT_NOFOLLOW}, policy.ActionEmulate, 0, "umount"},
		{"deny rule holds for any flag", &policy.UmountArgs{Target: "/run/app/keep", Flags: policy.MNT_DETACH | policy.MNT_FORCE}, policy.ActionDeny, ebusy, "keep"},
		{"force is not allowed", &policy.UmountArgs{Target: "/run/app/t", Flags: policy.MNT_FORCE}, policy.ActionDeny, policy.EACCES, ""},
		{"force with an allowed flag", &policy.UmountArgs{Target: "/run/app/t", Flags: policy.MNT_FORCE | policy.MNT_DETACH}, policy.ActionDeny, policy.EACCES, ""},
		{"unknown flag bit", &policy.UmountArgs{Target: "/run/app/t", Flags: 0x10}, policy.ActionDeny, policy.EACCES, ""},
		{"expire: continue", &policy.UmountArgs{Target: "/run/app/t", Flags: policy.MNT_EXPIRE}, policy.ActionContinue, 0, "expire-native"},
		{"outside: continue holds without flags", &policy.UmountArgs{Target: "/proc"}, policy.ActionContinue, 0, "expire-native"},
		{"outside with detach", &policy.UmountArgs{Target: "/proc", Flags: policy.MNT_DETACH}, policy.ActionDeny, policy.EACCES, ""},
		{"unclean target fails closed", &policy.UmountArgs{Target: "/run/app/..", Flags: policy.MNT_DETACH}, policy.ActionDeny, policy.EACCES, ""},
		{"relative target fails closed", &policy.UmountArgs{Target: "run/app/t", Flags: policy.MNT_DETACH}, policy.ActionDeny, policy.EACCES, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Decide(policy.Request{Syscall: "umount", Umount: tt.args})
			want := policy.Decision{Action: tt.action, Errno: tt.errno, Profile: "app", Rule: tt.rule, Reason: "rule matched"}
			if tt.rule == "" {
				want.Reason = "no rule matched"
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecideMountUnread(t *testing.T) {
	set := mustCompile(t, mountPolicy)
	p := set.Select(policy.Identity{UID: 1000})
	for _, sc := range []string{"mount", "umount"} {
		if !p.NeedsArgs(sc) {
			t.Errorf("NeedsArgs(%s) = false", sc)
		}
		// Arguments of another syscall are not this one's.
		req := policy.Request{Syscall: sc, Mknod: null("/run/app/t")}
		want := policy.Decision{Action: policy.ActionDeny, Errno: policy.EACCES, Profile: "app", Reason: "no rule matched: rules need arguments that were not read"}
		if got := p.Decide(req); got != want {
			t.Errorf("%s unread: got %+v", sc, got)
		}
		// Mount and umount follow the target: a name alone decides nothing.
		if _, decided := p.DecideByName(policy.Request{Syscall: sc, Mount: &policy.MountArgs{Op: policy.MountNew}, Umount: &policy.UmountArgs{}}, "t"); decided {
			t.Errorf("%s: DecideByName decided", sc)
		}
	}
	plain := set.Select(policy.Identity{UID: 2000})
	if plain.NeedsArgs("mount") || plain.NeedsArgs("umount") {
		t.Error("NeedsArgs without conditions")
	}
	if d := plain.Decide(policy.Request{Syscall: "mount"}); d.Action != policy.ActionDeny || d.Errno != 19 || d.ForceFlags != 0 {
		t.Errorf("unconditional deny: %+v", d)
	}
	if d := plain.Decide(policy.Request{Syscall: "umount"}); d.Action != policy.ActionContinue {
		t.Errorf("unconditional continue: %+v", d)
	}
}

func TestDecideMountDoesNotAllocate(t *testing.T) {
	set := mustCompile(t, mountPolicy)
	id := policy.Identity{UID: 1000}
	reqs := []policy.Request{
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountNew, FSType: "tmpfs", Source: "tmpfs", Target: "/run/app/t", Options: opts(t, "size=8m,mode=1777,noswap")}},
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountNew, FSType: "tmpfs", Source: "tmpfs", Target: "/run/app/t", Options: opts(t, "size=8g")}},
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountBind, Source: "/srv/data/a", Target: "/run/app/a"}},
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountPropagation, Target: "/run/app/a", Propagation: policy.MS_PRIVATE}},
		{Syscall: "mount"},
		{Syscall: "umount", Umount: &policy.UmountArgs{Target: "/run/app/t", Flags: policy.MNT_DETACH}},
		{Syscall: "umount", Umount: &policy.UmountArgs{Target: "/etc"}},
	}
	allocs := testing.AllocsPerRun(100, func() {
		p := set.Select(id)
		for _, r := range reqs {
			_ = p.Decide(r)
		}
	})
	if allocs != 0 {
		t.Errorf("Select+Decide allocate %.1f times per run", allocs)
	}
}

func TestMountSetIgnoresLaterSpecEdits(t *testing.T) {
	s, err := policy.Parse("t.toml", []byte(mountPolicy))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Profiles[0].Rules[1].Mount
	m.Target[0] = "/*"
	m.Options["huge"] = "*"
	m.ForceFlags[0] = "ro"
	d := set.Select(policy.Identity{UID: 1000}).Decide(policy.Request{Syscall: "mount", Mount: &policy.MountArgs{
		Op: policy.MountNew, FSType: "tmpfs", Source: "tmpfs", Target: "/run/app/t", Options: opts(t, "huge=always"),
	}})
	if d.Action != policy.ActionDeny {
		t.Errorf("editing the Spec changed the compiled Set: %+v", d)
	}
}
