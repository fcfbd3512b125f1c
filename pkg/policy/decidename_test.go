package policy

import "testing"

func TestDecideByNameAgreesWithDecide(t *testing.T) {
	src := `version = 1
[[profile]]
name = "p"
  [profile.match]
  uid = [1]
  [[profile.rule]]
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/dev/null2", "/run/app/*"]
    type = ["char"]
    major = [1]
    minor = [3]
  [[profile.rule]]
  syscall = "mknod"
  action = "deny"
  errno = "EACCES"
    [profile.rule.mknod]
    type = ["block"]
`
	spec, err := Parse("p.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := set.Select(Identity{UID: 1})
	cases := []struct {
		name    string
		typ     FileType
		major   uint32
		decided bool
	}{
		{"null2", FileTypeChar, 1, false}, // "/run/app/*" matches any name
		{"x", FileTypeChar, 1, false},     // "/run/app/*" could match
		{"x", FileTypeChar, 2, true},      // scalars rule out the emulate rule
		{"sda", FileTypeBlock, 8, true},   // the deny rule has no path: decided
		{"..", FileTypeChar, 1, false},
	}
	for _, c := range cases {
		args := MknodArgs{Type: c.typ, Major: c.major, Minor: 3, Mode: 0o600}
		req := Request{Syscall: "mknod", Mknod: &args}
		d, decided := p.DecideByName(req, c.name)
		if decided != c.decided {
			t.Errorf("%s %v %d: decided = %v, want %v", c.name, c.typ, c.major, decided, c.decided)
			continue
		}
		if !decided {
			continue
		}
		// Whatever directory the name resolves in, Decide must agree.
		for _, dir := range []string{"/dev", "/run/app", "/tmp", "/"} {
			args.Path = dir + "/" + c.name
			if dir == "/" {
				args.Path = "/" + c.name
			}
			if got := p.Decide(req); got != d {
				t.Errorf("%s in %s: Decide %+v, DecideByName %+v", c.name, dir, got, d)
			}
		}
	}
}

func TestDecideByNameDecidesWithoutResolution(t *testing.T) {
	src := `version = 1
[[profile]]
name = "p"
  [profile.match]
  uid = [1]
  [[profile.rule]]
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/tmp/fgacd-demo/null"]
    type = ["char"]
    major = [1]
    minor = [3]
`
	spec, _ := Parse("p.toml", []byte(src))
	set, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := set.Select(Identity{UID: 1})
	args := MknodArgs{Type: FileTypeChar, Major: 1, Minor: 3, Mode: 0o600}
	req := Request{Syscall: "mknod", Mknod: &args}
	if d, decided := p.DecideByName(req, "other"); !decided || d.Action != ActionDeny {
		t.Errorf("name other: %+v decided=%v, want a deny without resolution", d, decided)
	}
	if _, decided := p.DecideByName(req, "null"); decided {
		t.Error("name null: decided without knowing the directory")
	}
	if n := testing.AllocsPerRun(100, func() { p.DecideByName(req, "other") }); n != 0 {
		t.Errorf("DecideByName allocates %v times", n)
	}
}

func TestLearnModeRecordsAndGrantsNothing(t *testing.T) {
	spec, err := Parse("l.toml", []byte("version = 1\n[[profile]]\nname = \"l\"\nmode = \"learn\"\n[profile.match]\nuid = [1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := set.Select(Identity{UID: 1})
	if !p.Learning() || !p.NeedsArgs("mknod") || !p.NeedsArgs("mount") {
		t.Fatal("a learn-mode profile must read every call's arguments")
	}
	args := MknodArgs{Path: "/x", Type: FileTypeFIFO}
	req := Request{Syscall: "mknod", Mknod: &args}
	if _, decided := p.DecideByName(req, "x"); decided {
		t.Error("learn mode decided by name: the record would lack the resolved path")
	}
	if d := p.Decide(req); d.Action != ActionDeny || !d.Learn {
		t.Errorf("learn-mode decision %+v, want a deny marked Learn", d)
	}
}
