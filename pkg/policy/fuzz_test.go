package policy_test

import (
	"os"
	"path/filepath"
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

	reqs := []policy.Request{
		{Syscall: "mknod"},
		{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/tmp/fgacd-demo/null", Type: policy.FileTypeChar, Major: 1, Minor: 3, Mode: 0o666}},
		{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/tmp/p", Type: policy.FileTypeFIFO}},
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
				if d.Action == policy.ActionEmulate && req.Mknod == nil {
					t.Fatalf("emulate without arguments: %+v", d)
				}
			}
		}
	})
}
