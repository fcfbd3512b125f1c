package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/fgacd/fgacd/pkg/policy"
)

// problems flattens a possibly joined error into its *policy.Error parts.
func problems(t *testing.T, err error) []*policy.Error {
	t.Helper()
	var out []*policy.Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var pe *policy.Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %q is not a *policy.Error", err)
		}
		out = append(out, pe)
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		key       string
		msg       string
	}{
		{
			name: "unknown key names the key path",
			src: `version = 1
[[profile]]
name = "a"
[[profile]]
name = "b"
  [[profile.rule]]
  syscall = "mknod"
    [profile.rule.mknod]
    pathz = ["/tmp/*"]
`,
			line: 9, col: 5, key: "profile[1].rule[0].mknod.pathz", msg: "unknown key (want one of: major, minor, mode_max, path, type)",
		},
		{
			name: "unknown top-level key",
			src:  "version = 1\nprofiles = []\n",
			line: 2, col: 1, key: "profiles", msg: "unknown key",
		},
		{
			// The TOML library would report the last rule's line here.
			name: "wrong type in the first of several rules",
			src: `version = 1
[[profile]]
name = "a"
  [[profile.rule]]
  action = 5
  [[profile.rule]]
  action = "deny"
`,
			line: 5, col: 3, key: "profile[0].rule[0].action", msg: "want a string, got an integer",
		},
		{
			name: "wrong type in a list element",
			src:  "version = 1\n[[profile]]\nname = \"a\"\nmatch = { uid = [1, \"root\"] }\n",
			line: 4, col: 21, key: "profile[0].match.uid[1]", msg: "want an integer, got a string",
		},
		{
			name: "table instead of array of tables",
			src:  "version = 1\n[profile]\nname = \"a\"\n",
			line: 2, col: 1, key: "profile", msg: "want an array of tables ([[profile]]), got a table",
		},
		{
			name: "bad range string",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\n[profile.rule.mknod]\nmajor = [1, \"2-x\"]\n",
			line: 5, col: 13, key: "profile[0].rule[0].mknod.major[1]", msg: `bad range "2-x"`,
		},
		{
			name: "unknown key in a mount table",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\nsyscall = \"mount\"\n[profile.rule.mount]\nflags = [\"ro\"]\n",
			line: 6, col: 1, key: "profile[0].rule[0].mount.flags",
			msg: "unknown key (want one of: allow_flags, force_flags, fstype, op, options, propagation, source, target)",
		},
		{
			name: "unknown key in an umount table",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\n[profile.rule.umount]\npath = [\"/x\"]\n",
			line: 5, col: 1, key: "profile[0].rule[0].umount.path", msg: "unknown key (want one of: flags, target)",
		},
		{
			name: "unknown key in a gpio_line table",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\nsyscall = \"gpio_line\"\n[profile.rule.gpio_line]\nchip = [\"sim\"]\nline = [1]\n",
			line: 7, col: 1, key: "profile[0].rule[0].gpio_line.line", msg: "unknown key (want one of: chip, flags, lines, names)",
		},
		{
			name: "unknown key in a gpio_open table",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\ngpio_open = { chip = [\"sim\"], path = [\"/dev/gpiochip0\"] }\n",
			line: 4, col: 31, key: "profile[0].rule[0].gpio_open.path", msg: "unknown key (want one of: chip)",
		},
		{
			name: "bad line range",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\n[profile.rule.gpio_line]\nlines = [\"1-\"]\n",
			line: 5, col: 10, key: "profile[0].rule[0].gpio_line.lines[0]", msg: `bad range "1-"`,
		},
		{
			name: "chip label that is not a list",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\n[profile.rule.gpio_line]\nchip = \"sim\"\n",
			line: 5, col: 1, key: "profile[0].rule[0].gpio_line.chip", msg: "want an array, got a string",
		},
		{
			name: "option constraint of the wrong type",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\n[profile.rule.mount.options]\nmode = \"0700\"\nsize = 16777216\n",
			line: 6, col: 1, key: "profile[0].rule[0].mount.options.size", msg: `want a string ("<=N", "a|b", "*" or ""), got an integer`,
		},
		{
			name: "mount table of the wrong type",
			src:  "version = 1\n[[profile]]\n[[profile.rule]]\nmount = [\"tmpfs\"]\n",
			line: 4, col: 1, key: "profile[0].rule[0].mount", msg: "want a table, got an array",
		},
		{
			name: "syntax error",
			src:  "version = 1\n[[profile]]\nname = \"a\n",
			line: 3, col: 10, msg: "strings cannot contain newlines",
		},
		{
			name: "duplicate key",
			src:  "version = 1\nversion = 1\n",
			line: 2, col: 1, msg: "already been defined",
		},
		{
			name: "missing version",
			src:  "[[profile]]\nname = \"a\"\n",
			msg:  "missing version; add version = 1",
		},
		{
			name: "unsupported version",
			src:  "version = 7\n",
			line: 1, col: 1, key: "version", msg: "unsupported version 7 (supported: [1])",
		},
		{
			name: "version of the wrong type",
			src:  "version = \"1\"\n",
			line: 1, col: 1, key: "version", msg: "want an integer, got a string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := policy.Parse("p.toml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", s)
			}
			ps := problems(t, err)
			if len(ps) != 1 {
				t.Fatalf("want one problem, got %d: %v", len(ps), err)
			}
			p := ps[0]
			if p.File != "p.toml" || p.Line != tt.line || p.Col != tt.col || p.Key != tt.key || !strings.Contains(p.Msg, tt.msg) {
				t.Errorf("got %s (line %d col %d key %q)\nwant p.toml:%d:%d: %s: ...%s...", err, p.Line, p.Col, p.Key, tt.line, tt.col, tt.key, tt.msg)
			}
			if tt.line > 0 && !strings.HasPrefix(err.Error(), "p.toml:") {
				t.Errorf("message %q lacks file:line:col", err)
			}
		})
	}
}

func TestParseReportsAllProblemsInSourceOrder(t *testing.T) {
	src := `version = 1
[[profile]]
name = 1
bogus = true
  [profile.match]
  uid = "0"
`
	_, err := policy.Parse("p.toml", []byte(src))
	var lines []int
	for _, p := range problems(t, err) {
		lines = append(lines, p.Line)
	}
	if want := []int{3, 4, 6}; !reflect.DeepEqual(lines, want) {
		t.Errorf("problem lines = %v, want %v\n%v", lines, want, err)
	}
}

func TestParseSpec(t *testing.T) {
	src := `version = 1
[[profile]]
name = "cam"
description = "camera"
default_errno = "EACCES"
mode = "enforce"
  [profile.match]
  uid = [1000, 1001]
  exe = ["/usr/bin/cam*"]
  annotations = { "org.fgacd.profile" = "camera" }
  [[profile.rule]]
  name = "video"
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/run/cam/*"]
    type = ["char"]
    major = [81, "10-20"]
    minor = ["3"]
    mode_max = 0o660
  [[profile.rule]]
  syscall = "mknod"
  action = "deny"
  errno = "ENOENT"
`
	s, err := policy.Parse("cam.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	mode := int64(0o660)
	want := []policy.ProfileSpec{{
		Name: "cam", Description: "camera", DefaultErrno: "EACCES", Mode: "enforce",
		Match: &policy.MatchSpec{
			UID: []int64{1000, 1001}, Exe: []string{"/usr/bin/cam*"},
			Annotations: map[string]string{"org.fgacd.profile": "camera"},
		},
		Rules: []policy.RuleSpec{
			{Name: "video", Syscall: "mknod", Action: "emulate", Mknod: &policy.MknodSpec{
				Path: []string{"/run/cam/*"}, Type: []string{"char"},
				Major: []policy.Range{{Lo: 81, Hi: 81}, {Lo: 10, Hi: 20}}, Minor: []policy.Range{{Lo: 3, Hi: 3}},
				ModeMax: &mode,
			}},
			{Syscall: "mknod", Action: "deny", Errno: "ENOENT"},
		},
	}}
	if s.File != "cam.toml" || s.Version != 1 || !reflect.DeepEqual(s.Profiles, want) {
		t.Errorf("got %+v\nwant %+v", s.Profiles, want)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseMountSpec(t *testing.T) {
	src := `version = 1
[[profile]]
name = "m"
  [profile.match]
  uid = [1]
  [[profile.rule]]
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    op = ["new", "remount"]
    fstype = ["tmpfs"]
    source = ["tmpfs"]
    target = ["/run/m/*"]
    force_flags = ["nosuid"]
    allow_flags = ["ro"]
      [profile.rule.mount.options]
      size = "<=1g"
      "nr.x" = "*"
      noswap = ""
  [[profile.rule]]
  syscall = "mount"
  action = "emulate"
  mount = { op = ["propagation"], target = ["/run/m/*"], propagation = ["private"] }
  [[profile.rule]]
  syscall = "umount"
  action = "emulate"
  umount.target = ["/run/m/*"]
  umount.flags = ["detach"]
`
	s, err := policy.Parse("m.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.RuleSpec{
		{Syscall: "mount", Action: "emulate", Mount: &policy.MountSpec{
			Op: []string{"new", "remount"}, FSType: []string{"tmpfs"}, Source: []string{"tmpfs"}, Target: []string{"/run/m/*"},
			ForceFlags: []string{"nosuid"}, AllowFlags: []string{"ro"},
			Options: map[string]string{"size": "<=1g", "nr.x": "*", "noswap": ""},
		}},
		{Syscall: "mount", Action: "emulate", Mount: &policy.MountSpec{
			Op: []string{"propagation"}, Target: []string{"/run/m/*"}, Propagation: []string{"private"},
		}},
		{Syscall: "umount", Action: "emulate", Umount: &policy.UmountSpec{Target: []string{"/run/m/*"}, Flags: []string{"detach"}}},
	}
	if !reflect.DeepEqual(s.Profiles[0].Rules, want) {
		t.Errorf("got %+v\nwant %+v", s.Profiles[0].Rules, want)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

// TestSpecTOMLRoundTrip keeps the toml tags on Spec honest: encoding a
// parsed Spec and parsing it again gives the same profiles.
func TestSpecTOMLRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(shippedDir, "*.toml"))
	files = append(files, filepath.Join("testdata", "roundtrip.toml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s1, err := policy.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := toml.NewEncoder(&b).Encode(s1); err != nil {
			t.Fatalf("%s: encode: %v", f, err)
		}
		s2, err := policy.Parse(f, []byte(b.String()))
		if err != nil {
			t.Fatalf("%s: parse encoded: %v\n%s", f, err, b.String())
		}
		if !reflect.DeepEqual(s1.Profiles, s2.Profiles) {
			t.Errorf("%s: round trip differs\n%+v\n%+v", f, s1.Profiles, s2.Profiles)
		}
	}
}

func TestParseDeterministic(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "roundtrip.toml"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := policy.Parse("r.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, _ := policy.Parse("r.toml", data)
		if !reflect.DeepEqual(first, again) {
			t.Fatal("same bytes gave different specs")
		}
	}
}
