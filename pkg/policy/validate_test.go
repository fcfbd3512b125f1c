package policy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

// profile wraps a profile body into a file. The body starts at line 3.
func profile(body string) string {
	return "version = 1\n[[profile]]\n" + body
}

// grant is a valid emulate rule to build on.
const grant = `
  [[profile.rule]]
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/tmp/*"]
    type = ["char"]
    major = [1]
    minor = [3]
`

func TestValidateAcceptsGoodFile(t *testing.T) {
	src := profile("name = \"p\"\n[profile.match]\nuid = [1000]\n" + grant)
	s, err := policy.Parse("p.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

// validateCase is one expected problem: check, key path, part of the
// message and line.
type validateCase struct {
	name  string
	src   string
	check string
	key   string
	msg   string
	line  int
	edit  func(*policy.Spec) // applied after Parse, for what Parse itself rejects
}

const match = "[profile.match]\nuid = [1000]\n"

func TestValidate(t *testing.T) {
	tests := []validateCase{
		{"version", profile("name = \"a\"\n" + match), "version", "version", "unsupported version 2 (supported: [1])", 1, func(s *policy.Spec) { s.Version = 2 }},
		{"no profiles", "version = 1\n", "profiles", "", "no profiles", 0, nil},
		{"missing name", profile(match), "profile-name", "profile[0].name", "missing", 2, nil},
		{"bad name", profile("name = \"My App\"\n" + match), "profile-name", "profile[0].name", `invalid name "My App"`, 3, nil},
		{"duplicate name", profile("name = \"a\"\n"+match) + "[[profile]]\nname = \"a\"\n" + match, "profile-name", "profile[1].name", `profile "a" is already defined at profile[0]`, 7, nil},
		{"unknown mode", profile("name = \"a\"\nmode = \"audit\"\n" + match), "mode", "profile[0].mode", `unknown mode "audit"`, 4, nil},
		{"missing match", profile("name = \"a\"\n"), "match", "profile[0].match", "missing [profile.match]", 2, nil},
		{"empty match", profile("name = \"a\"\n[profile.match]\n"), "match", "profile[0].match", "empty match", 4, nil},
		{"any = false alone", profile("name = \"a\"\n[profile.match]\nany = false\n"), "match", "profile[0].match", "empty match", 4, nil},
		{"any not alone", profile("name = \"a\"\n[profile.match]\nany = true\nuid = [0]\n"), "match", "profile[0].match.any", "must be the only key; remove uid", 5, nil},
		{"empty list", profile("name = \"a\"\n[profile.match]\nexe = []\n"), "match", "profile[0].match.exe", "empty list matches no caller", 5, nil},
		{"uid -1", profile("name = \"a\"\n[profile.match]\nuid = [0, 4294967295]\n"), "match", "profile[0].match.uid[1]", "out of range", 5, nil},
		{"empty annotation name", profile("name = \"a\"\n[profile.match]\nannotations = { \"\" = \"x\" }\n"), "match", "profile[0].match.annotations", "empty annotation name", 5, nil},
		{"shadowed profile", profile("name = \"all\"\n[profile.match]\nany = true\n") + "[[profile]]\nname = \"b\"\n" + match, "reachable", "profile[1]", `profile "b" can never be selected`, 6, nil},
		{"relative exe", profile("name = \"a\"\n[profile.match]\nexe = [\"bin/app\"]\n"), "globs", "profile[0].match.exe[0]", "must be an absolute path", 5, nil},
		{"bad glob", profile("name = \"a\"\n[profile.match]\ncgroup = [\"/a/[\"]\n"), "globs", "profile[0].match.cgroup[0]", "bad glob", 5, nil},
		{"bad annotation glob", profile("name = \"a\"\n[profile.match]\nannotations = { \"k.x\" = \"[\" }\n"), "globs", `profile[0].match.annotations."k.x"`, "bad glob", 5, nil},
		{"unclean path", profile("name = \"a\"\n" + match + strings.Replace(grant, "/tmp/*", "/tmp/../etc/*", 1)), "globs", "profile[0].rule[0].mknod.path[0]", "not a clean path", 11, nil},
		{"relative path", profile("name = \"a\"\n" + match + strings.Replace(grant, "/tmp/*", "tmp/*", 1)), "globs", "profile[0].rule[0].mknod.path[0]", "must be an absolute path", 11, nil},
		{"bad rule name", profile("name = \"a\"\n" + match + "[[profile.rule]]\nname = \"No\"\nsyscall = \"mknod\"\naction = \"deny\"\n"), "rule-name", "profile[0].rule[0].name", "invalid name", 7, nil},
		{"duplicate rule name", profile("name = \"a\"\n" + match + "[[profile.rule]]\nname = \"r\"\nsyscall = \"mknod\"\naction = \"deny\"\n[[profile.rule]]\nname = \"r\"\nsyscall = \"mknod\"\naction = \"deny\"\n"), "rule-name", "profile[0].rule[1].name", `rule "r" is already defined at profile[0].rule[0]`, 11, nil},
		{"missing syscall", profile("name = \"a\"\n" + match + "[[profile.rule]]\naction = \"deny\"\n"), "syscall", "profile[0].rule[0].syscall", "missing", 6, nil},
		{"unknown syscall", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknodat\"\naction = \"deny\"\n"), "syscall", "profile[0].rule[0].syscall", `unknown syscall "mknodat"; want one of [gpio_line gpio_open mknod mount umount]`, 7, nil},
		{"missing action", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\n"), "action", "profile[0].rule[0].action", "missing", 6, nil},
		{"unknown action", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"allow\"\n"), "action", "profile[0].rule[0].action", `unknown action "allow"`, 8, nil},
		{"unknown default errno", profile("name = \"a\"\ndefault_errno = \"EWHAT\"\n" + match), "errno", "profile[0].default_errno", `unknown errno "EWHAT"`, 4, nil},
		{"unknown errno", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"deny\"\nerrno = \"eperm\"\n"), "errno", "profile[0].rule[0].errno", `unknown errno "eperm"`, 9, nil},
		{"errno without deny", profile("name = \"a\"\n" + match + strings.Replace(grant, "action = \"emulate\"", "action = \"emulate\"\nerrno = \"EPERM\"", 1)), "errno", "profile[0].rule[0].errno", `errno only applies to action "deny"`, 10, nil},
		{"empty argument table", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"deny\"\n[profile.rule.mknod]\n"), "arguments", "profile[0].rule[0].mknod", "no conditions", 9, nil},
		{"empty argument list", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"deny\"\n[profile.rule.mknod]\ntype = []\n"), "arguments", "profile[0].rule[0].mknod.type", "empty list matches nothing", 10, nil},
		{"major too big", profile("name = \"a\"\n" + match + strings.Replace(grant, "major = [1]", "major = [4096]", 1)), "ranges", "profile[0].rule[0].mknod.major[0]", "major 4096 out of range [0, 4095]", 13, nil},
		{"minor too big", profile("name = \"a\"\n" + match + strings.Replace(grant, "minor = [3]", "minor = [\"0-1048576\"]", 1)), "ranges", "profile[0].rule[0].mknod.minor[0]", "out of range [0, 1048575]", 14, nil},
		{"negative major", profile("name = \"a\"\n" + match + strings.Replace(grant, "major = [1]", "major = [-1]", 1)), "ranges", "profile[0].rule[0].mknod.major[0]", "out of range", 13, nil},
		{"inverted range", profile("name = \"a\"\n" + match + strings.Replace(grant, "major = [1]", "major = [\"9-3\"]", 1)), "ranges", "profile[0].rule[0].mknod.major[0]", "range 9-3 is empty", 13, nil},
		{"mode_max", profile("name = \"a\"\n" + match + strings.Replace(grant, "minor = [3]", "minor = [3]\nmode_max = 0o17777", 1)), "ranges", "profile[0].rule[0].mknod.mode_max", "out of range", 15, nil},
		{"unknown type", profile("name = \"a\"\n" + match + strings.Replace(grant, `type = ["char"]`, `type = ["char", "pipe"]`, 1)), "types", "profile[0].rule[0].mknod.type[1]", `unknown file type "pipe"`, 12, nil},
		{"continue on path", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"continue\"\n[profile.rule.mknod]\npath = [\"/tmp/*\"]\n"), "continue", "profile[0].rule[0].mknod.path", "TOCTOU", 10, nil},
		{"emulate without path", profile("name = \"a\"\n" + match + strings.Replace(grant, `path = ["/tmp/*"]`, "", 1)), "emulate", "profile[0].rule[0]", "emulate without a path condition would let the caller create device nodes anywhere", 7, nil},
		{"emulate fifo without path", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"emulate\"\n[profile.rule.mknod]\ntype = [\"fifo\"]\n"), "emulate", "profile[0].rule[0]", "paths are mandatory for emulate", 6, nil},
		{"emulate without arguments", profile("name = \"a\"\n" + match + "[[profile.rule]]\nsyscall = \"mknod\"\naction = \"emulate\"\n"), "emulate", "profile[0].rule[0]", "device nodes anywhere", 6, nil},
		{"emulate without type", profile("name = \"a\"\n" + match + strings.Replace(grant, `type = ["char"]`, "", 1)), "emulate", "profile[0].rule[0]", "needs a type condition", 7, nil},
		{"emulate device without minor", profile("name = \"a\"\n" + match + strings.Replace(grant, "minor = [3]", "", 1)), "emulate", "profile[0].rule[0]", "needs major and minor", 7, nil},
	}
	tests = append(tests, mountValidateCases...)
	tests = append(tests, gpioValidateCases...)
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := policy.Parse("p.toml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.edit != nil {
				tt.edit(s)
			}
			err = s.Validate()
			for _, p := range problems(t, err) {
				if p.Check == tt.check && p.Key == tt.key && strings.Contains(p.Msg, tt.msg) {
					covered[tt.check] = true
					if p.Line != tt.line {
						t.Errorf("line = %d, want %d: %v", p.Line, tt.line, p)
					}
					if tt.line > 0 && !strings.HasPrefix(p.Error(), "p.toml:") {
						t.Errorf("message lacks position: %v", p)
					}
					return
				}
			}
			t.Errorf("want [%s] %s: ...%s..., got:\n%v", tt.check, tt.key, tt.msg, err)
		})
	}
	for _, name := range policy.CheckNames() {
		if !covered[name] {
			t.Errorf("check %q has no passing test case", name)
		}
	}
}

// Specs built in Go have no source: messages name the file and key path.
func TestValidateGoSpec(t *testing.T) {
	s := &policy.Spec{File: "go", Version: 1, Profiles: []policy.ProfileSpec{{
		Name:  "p",
		Match: &policy.MatchSpec{Any: true},
		Rules: []policy.RuleSpec{{Syscall: "mknod", Action: "deny", Errno: "EACCES"}},
	}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Profiles[0].Match = &policy.MatchSpec{}
	err := s.Validate()
	if err == nil || err.Error() != "go: profile[0].match: empty match; set any = true to match every caller, or name uid, gid, exe, ..." {
		t.Errorf("got %v", err)
	}
}

func TestValidateOrder(t *testing.T) {
	names := policy.CheckNames()
	// Safety rules build on the shape checks, so they come last.
	if i, j := slices.Index(names, "continue"), slices.Index(names, "syscall"); i < j {
		t.Errorf("continue check runs before syscall check: %v", names)
	}
	if names[0] != "version" {
		t.Errorf("first check = %q, want version", names[0])
	}
}
