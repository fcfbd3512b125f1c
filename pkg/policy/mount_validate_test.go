package policy_test

import (
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

// rule builds a profile with one rule; the rule starts at line 6 and its
// argument table, if body is not "", at line 9, the body at line 10.
func rule(syscall, action, body string) string {
	src := profile("name = \"a\"\n"+match) + "[[profile.rule]]\nsyscall = \"" + syscall + "\"\naction = \"" + action + "\"\n"
	if body != "" {
		src += "[profile.rule." + syscall + "]\n" + body
	}
	return src
}

// tmpfsGrant is a valid emulate rule body to build on.
const tmpfsGrant = `fstype = ["tmpfs"]
target = ["/run/app/*"]
force_flags = ["nosuid", "nodev"]
allow_flags = ["ro"]
[profile.rule.mount.options]
size = "<=64m"
`

var mountValidateCases = []validateCase{
	{"mknod table on a mount rule", rule("mount", "deny", "") + "[profile.rule.mknod]\ntype = [\"fifo\"]\n", "arguments", "profile[0].rule[0].mknod",
		`mknod conditions only apply to syscall "mknod", not "mount"`, 9, nil},
	{"mount table on a mknod rule", rule("mknod", "deny", "") + "[profile.rule.mount]\ntarget = [\"/x\"]\n", "arguments", "profile[0].rule[0].mount",
		`mount conditions only apply to syscall "mount", not "mknod"`, 9, nil},
	{"umount table on a mount rule", rule("mount", "deny", "") + "[profile.rule.umount]\ntarget = [\"/x\"]\n", "arguments", "profile[0].rule[0].umount",
		`umount conditions only apply to syscall "umount", not "mount"`, 9, nil},
	{"empty mount table", rule("mount", "deny", "\n"), "arguments", "profile[0].rule[0].mount", "no conditions", 9, nil},
	{"empty umount table", rule("umount", "deny", "\n"), "arguments", "profile[0].rule[0].umount", "no conditions", 9, nil},
	{"empty target list", rule("mount", "deny", "target = []\n"), "arguments", "profile[0].rule[0].mount.target", "empty list matches nothing", 10, nil},
	{"empty allow_flags", rule("mount", "emulate", strings.Replace(tmpfsGrant, `allow_flags = ["ro"]`, "allow_flags = []", 1)),
		"arguments", "profile[0].rule[0].mount.allow_flags", "empty list; remove the key", 13, nil},
	{"empty umount flags", rule("umount", "deny", "flags = []\n"), "arguments", "profile[0].rule[0].umount.flags", "empty list; remove the key", 10, nil},
	{"empty options table", rule("mount", "deny", "target = [\"/x\"]\n[profile.rule.mount.options]\n"), "arguments", "profile[0].rule[0].mount.options", "empty table; remove it", 11, nil},

	{"relative target", rule("mount", "deny", "target = [\"run/*\"]\n"), "globs", "profile[0].rule[0].mount.target[0]", "must be an absolute path", 10, nil},
	{"unclean target", rule("umount", "deny", "target = [\"/run/../x\"]\n"), "globs", "profile[0].rule[0].umount.target[0]", "not a clean path", 10, nil},
	{"relative umount target", rule("umount", "deny", "target = [\"x\"]\n"), "globs", "profile[0].rule[0].umount.target[0]", "must be an absolute path", 10, nil},
	{"bind source must be a path", rule("mount", "deny", "op = [\"bind\", \"move\"]\nsource = [\"tmpfs\"]\n"), "globs", "profile[0].rule[0].mount.source[0]", "must be an absolute path", 11, nil},
	{"new source path must be clean", rule("mount", "deny", "op = [\"new\"]\nsource = [\"tmpfs\", \"/dev/../sd*\"]\n"), "globs", "profile[0].rule[0].mount.source[1]", "not a clean path", 11, nil},
	{"bad fstype glob", rule("mount", "deny", "fstype = [\"ext[\"]\n"), "globs", "profile[0].rule[0].mount.fstype[0]", "bad glob", 10, nil},

	{"unknown op", rule("mount", "deny", "op = [\"new\", \"mount\"]\n"), "mount", "profile[0].rule[0].mount.op[1]",
		`unknown op "mount" (want one of [bind move new propagation rbind remount])`, 10, nil},
	{"unknown force flag", rule("mount", "emulate", strings.Replace(tmpfsGrant, `"nodev"]`, `"nodev", "noexe"]`, 1)), "mount", "profile[0].rule[0].mount.force_flags[2]",
		`unknown mount flag "noexe"`, 12, nil},
	{"unknown allow flag", rule("mount", "emulate", strings.Replace(tmpfsGrant, `["ro"]`, `["rw"]`, 1)), "mount", "profile[0].rule[0].mount.allow_flags[0]",
		`unknown mount flag "rw" (want one of [dirsync lazytime mand noatime nodev nodiratime noexec nosuid nosymfollow relatime ro silent strictatime sync])`, 13, nil},
	{"flag both forced and allowed", rule("mount", "emulate", strings.Replace(tmpfsGrant, `["ro"]`, `["ro", "nodev"]`, 1)), "mount", "profile[0].rule[0].mount.allow_flags[1]",
		`flag "nodev" is also in force_flags`, 13, nil},
	{"unknown propagation", rule("mount", "deny", "op = [\"propagation\"]\npropagation = [\"rprivate\"]\n"), "mount", "profile[0].rule[0].mount.propagation[0]",
		`unknown propagation "rprivate" (want one of [private shared slave unbindable])`, 11, nil},
	{"unknown umount flag", rule("umount", "deny", "flags = [\"lazy\"]\n"), "mount", "profile[0].rule[0].umount.flags[0]",
		`unknown umount flag "lazy" (want one of [detach expire force nofollow])`, 10, nil},
	{"fstype for bind", rule("mount", "deny", "op = [\"bind\", \"rbind\"]\nfstype = [\"tmpfs\"]\n"), "mount", "profile[0].rule[0].mount.fstype",
		"fstype only applies to op new, and this rule covers [bind rbind]", 11, nil},
	{"source for remount", rule("mount", "deny", "op = [\"remount\"]\nsource = [\"/x\"]\n"), "mount", "profile[0].rule[0].mount.source",
		"source only applies to op new, bind, rbind or move", 11, nil},
	{"options for move", rule("mount", "deny", "op = [\"move\"]\n[profile.rule.mount.options]\nx = \"*\"\n"), "mount", "profile[0].rule[0].mount.options",
		"options only applies to op new or remount", 11, nil},
	{"propagation with emulate's default op", rule("mount", "emulate", tmpfsGrant[:len(tmpfsGrant)-len("[profile.rule.mount.options]\nsize = \"<=64m\"\n")]+"propagation = [\"private\"]\n"), "mount",
		"profile[0].rule[0].mount.propagation", "propagation only applies to op propagation, and this rule covers [new]", 14, nil},

	{"bad option name", rule("mount", "deny", "[profile.rule.mount.options]\n\"a b\" = \"*\"\n"), "mount-options", `profile[0].rule[0].mount.options."a b"`,
		`invalid option name "a b"`, 11, nil},
	{"bad bound", rule("mount", "emulate", strings.Replace(tmpfsGrant, `"<=64m"`, `"<=64t"`, 1)), "mount-options", "profile[0].rule[0].mount.options.size",
		`bad bound "<=64t"`, 15, nil},
	{"zero bound", rule("mount", "emulate", strings.Replace(tmpfsGrant, `"<=64m"`, `"<=0"`, 1)), "mount-options", "profile[0].rule[0].mount.options.size",
		`bad bound "<=0"`, 15, nil},
	{"bad alternatives", rule("mount", "deny", "[profile.rule.mount.options]\nmode = \"0700||1777\"\n"), "mount-options", "profile[0].rule[0].mount.options.mode",
		`bad alternatives "0700||1777"`, 11, nil},
	{"star among alternatives", rule("mount", "deny", "[profile.rule.mount.options]\nmode = \"0700|*\"\n"), "mount-options", "profile[0].rule[0].mount.options.mode",
		`bad alternatives "0700|*"`, 11, nil},

	{"continue on target", rule("mount", "continue", "target = [\"/x\"]\n"), "continue", "profile[0].rule[0].mount.target", "a continue rule must not depend on the target", 10, nil},
	{"continue on source", rule("mount", "continue", "op = [\"bind\"]\nsource = [\"/x\"]\n"), "continue", "profile[0].rule[0].mount.source", "TOCTOU", 11, nil},
	{"continue on fstype", rule("mount", "continue", "fstype = [\"tmpfs\"]\n"), "continue", "profile[0].rule[0].mount.fstype", "must not depend on the filesystem type", 10, nil},
	{"continue on options", rule("mount", "continue", "[profile.rule.mount.options]\nx = \"\"\n"), "continue", "profile[0].rule[0].mount.options", "must not depend on the mount options", 10, nil},
	{"continue forcing flags", rule("mount", "continue", "force_flags = [\"nosuid\"]\n"), "continue", "profile[0].rule[0].mount.force_flags", "cannot force flags", 10, nil},
	{"continue on umount target", rule("umount", "continue", "target = [\"/x\"]\n"), "continue", "profile[0].rule[0].umount.target", "must not depend on the target", 10, nil},

	{"emulate mount without arguments", rule("mount", "emulate", ""), "emulate", "profile[0].rule[0]", "needs a target condition (mount.target)", 6, nil},
	{"emulate new without fstype", rule("mount", "emulate", strings.Replace(tmpfsGrant, `fstype = ["tmpfs"]`, "", 1)), "emulate", "profile[0].rule[0]",
		"emulate of op new needs an fstype condition", 6, nil},
	{"emulate bind without source", rule("mount", "emulate", "op = [\"rbind\"]\ntarget = [\"/x\"]\n"), "emulate", "profile[0].rule[0]",
		"emulate of op bind, rbind or move needs a source condition", 6, nil},
	{"emulate propagation without kinds", rule("mount", "emulate", "op = [\"propagation\"]\ntarget = [\"/x\"]\n"), "emulate", "profile[0].rule[0]",
		"emulate of op propagation needs a propagation condition", 6, nil},
	{"emulate umount without target", rule("umount", "emulate", "flags = [\"detach\"]\n"), "emulate", "profile[0].rule[0]",
		"needs a target condition (umount.target)", 6, nil},
}

func TestValidateMountAcceptsGoodRules(t *testing.T) {
	for _, src := range []string{
		rule("mount", "emulate", tmpfsGrant),
		rule("mount", "emulate", "op = [\"bind\", \"rbind\", \"move\"]\nsource = [\"/srv/*\"]\ntarget = [\"/run/app/*\"]\n"),
		rule("mount", "emulate", "op = [\"new\", \"bind\"]\nfstype = [\"ext4\"]\nsource = [\"/dev/sd?1\", \"/srv/*\"]\ntarget = [\"/run/app/*\"]\n"),
		rule("mount", "emulate", "op = [\"remount\"]\ntarget = [\"/run/app/*\"]\nforce_flags = [\"nosuid\"]\n[profile.rule.mount.options]\nsize = \"<=1g\"\nmode = \"0700\"\nuid = \"*\"\nnoswap = \"\"\n"),
		rule("mount", "emulate", "op = [\"propagation\"]\ntarget = [\"/run/app/*\"]\npropagation = [\"private\", \"slave\", \"shared\", \"unbindable\"]\n"),
		rule("mount", "deny", "target = [\"/etc/*\"]\nfstype = [\"proc\"]\nsource = [\"proc\"]\n[profile.rule.mount.options]\nx = \"*\"\n"),
		rule("mount", "continue", "op = [\"remount\", \"propagation\"]\nallow_flags = [\"ro\"]\npropagation = [\"private\"]\n"),
		rule("mount", "deny", ""),
		rule("umount", "emulate", "target = [\"/run/app/*\"]\n"),
		rule("umount", "continue", "flags = [\"expire\"]\n"),
	} {
		s, err := policy.Parse("p.toml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%v\n%s", err, src)
		}
	}
}
