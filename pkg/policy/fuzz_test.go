package policy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

// FuzzParse feeds arbitrary bytes through Parse, Validate, Compile and
// Decide: a bad policy may be rejected, never crash the daemon.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(shippedDir, "*.toml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*.toml"))
	for _, name := range append(seeds, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(decidePolicy))
	f.Add([]byte("version = 1\n[[profile]]\nname = \"a\"\nmatch = { any = true }\nrule = [{ syscall = \"mknod\", action = \"deny\" }]\n"))
	f.Add([]byte("version = 1\n[[profile]]\n[profile.rule.mknod]\nmajor = [\"1-\", -5]\n"))
	f.Add([]byte(mountPolicy))
	f.Add([]byte("version = 1\n[[profile]]\nname = \"m\"\nmatch = { any = true }\nrule = [{ syscall = \"mount\", action = \"emulate\", " +
		"mount = { op = [\"rbind\", \"propagation\"], source = [\"/s/*\"], target = [\"/t/*\"], propagation = [\"slave\"], force_flags = [\"nodev\"] } }, " +
		"{ syscall = \"umount\", action = \"deny\", umount = { flags = [\"force\"] } }]\n"))
	f.Add([]byte("version = 1\n[[profile]]\n[[profile.rule]]\n[profile.rule.mount.options]\nsize = \"<=18446744073709551615\"\nmode = \"|\"\n"))
	f.Add([]byte(gpioPolicy))
	f.Add([]byte("version = 1\n[[profile]]\nname = \"g\"\nmatch = { any = true }\nrule = [{ syscall = \"gpio_line\", action = \"emulate\", " +
		"gpio_line = { chip = [\"s*\"], lines = [\"0-4294967295\"], names = [\"*\"], flags = [\"debounce\"] } }, " +
		"{ syscall = \"gpio_open\", action = \"continue\" }]\n"))

	reqs := []policy.Request{
		{Syscall: "mknod"},
		{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/tmp/fgacd-demo/null", Type: policy.FileTypeChar, Major: 1, Minor: 3, Mode: 0o666}},
		{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/tmp/p", Type: policy.FileTypeFIFO}},
		{Syscall: "mount"},
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountNew, FSType: "tmpfs", Source: "tmpfs", Target: "/tmp/fgacd-demo/mnt1",
			Flags: policy.MS_RDONLY, Options: []policy.MountOption{{Name: "size", Value: "8m", HasValue: true}, {Name: "noswap"}}}},
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountBind, Recursive: true, Source: "/tmp/fgacd-demo/data", Target: "/tmp/fgacd-demo/mnt2"}},
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountPropagation, Target: "/t/x", Propagation: policy.MS_SLAVE}},
		{Syscall: "mount", Mount: &policy.MountArgs{Op: policy.MountRemount, Target: "/run/app/t", Flags: 1<<64 - 1}},
		{Syscall: "umount"},
		{Syscall: "umount", Umount: &policy.UmountArgs{Target: "/tmp/fgacd-demo/mnt1", Flags: policy.MNT_DETACH}},
		{Syscall: "gpio_open"},
		{Syscall: "gpio_open", GPIO: &policy.GPIOArgs{Chip: "sim-a", Path: "/dev/gpiochip0"}},
		{Syscall: "gpio_line"},
		{Syscall: "gpio_line", GPIO: &policy.GPIOArgs{Chip: "sim-a", Lines: []uint32{0, 5, 1<<32 - 1}, Names: []string{"", "reset"}, Flags: 1<<64 - 1}},
		{Syscall: "gpio_line", GPIO: &policy.GPIOArgs{Chip: "s"}},
		{Syscall: "other"},
	}
	ids := []policy.Identity{
		{},
		{UID: 65534, GID: 65534, Exe: "/usr/bin/x"},
		{UID: 1000, Trusted: true, Metadata: "camera-1", ContainerID: "abc", Annotations: map[string]string{"org.fgacd.profile": "camera"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := policy.Parse("f.toml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := s.Validate(); err != nil {
			return
		}
		set, err := policy.Compile(s)
		if err != nil {
			return
		}
		for _, id := range ids {
			p := set.Select(id)
			for _, req := range reqs {
				d := p.Decide(req)
				if d.Action == policy.ActionDeny && d.Errno == 0 {
					t.Fatalf("deny with errno 0: %+v", d)
				}
				if d.Action == policy.ActionEmulate && !hasArgs(req) {
					t.Fatalf("emulate without arguments: %+v", d)
				}
				if d.ForceFlags != 0 && (d.Action != policy.ActionEmulate || req.Syscall != "mount") {
					t.Fatalf("forced flags outside a mount emulation: %+v", d)
				}
			}
		}
	})
}

// hasArgs reports whether req carries the arguments of its own syscall.
func hasArgs(req policy.Request) bool {
	switch req.Syscall {
	case "mknod":
		return req.Mknod != nil
	case "mount":
		return req.Mount != nil
	case "umount":
		return req.Umount != nil
	case "gpio_open", "gpio_line":
		return req.GPIO != nil
	}
	return false
}

// FuzzParseMountOptions: options parse or fail, never panic, and what
// parses holds no separator, NUL or quote and prints back to itself.
func FuzzParseMountOptions(f *testing.F) {
	for _, s := range []string{"", ",", "size=8m,mode=1777", "noswap,,uid=0,", "a=b=c", "=x", "x\x00", "ctx=\"a,b\"", "size=50%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		opts, err := policy.ParseMountOptions(data)
		if err != nil {
			return
		}
		var parts []string
		for _, o := range opts {
			if o.Name == "" || strings.ContainsAny(o.Name, ",=\x00\"") || strings.ContainsAny(o.Value, ",\x00\"") {
				t.Fatalf("%q: bad option %+v", data, o)
			}
			if !o.HasValue && o.Value != "" {
				t.Fatalf("%q: value without HasValue: %+v", data, o)
			}
			parts = append(parts, o.String())
		}
		again, err := policy.ParseMountOptions(strings.Join(parts, ","))
		if err != nil || !slices.Equal(again, opts) {
			t.Fatalf("%q: does not round-trip: %v, %v", data, again, err)
		}
	})
}
