package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/testutil"
	"github.com/fgacd/fgacd/pkg/dispatch"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// A learn-mode profile grants nothing but records every request; the
// draft suggested from its records passes validation and grants exactly
// the recorded requests: replayed under it, all are granted; a request
// not recorded is denied.
func TestLearnThenSuggestGrantsExactlyWhatWasRecorded(t *testing.T) {
	learn := func(dir string) string {
		return "version = 1\n[[profile]]\nname = \"app\"\nmode = \"learn\"\n  [profile.match]\n  uid = [65534]\n"
	}
	d := startDaemonPolicy(t, notify.ServerConfig{}, learn)
	mnt := filepath.Join(d.dir, "mnt1")
	mkdirs(t, mnt)
	calls := []testutil.Command{
		{Op: "mknodat", Path: filepath.Join(d.dir, "fifo"), Mode: linux.S_IFIFO | 0o640},
		{Op: "mknodat", Path: filepath.Join(d.dir, "null"), Mode: linux.S_IFCHR | 0o666, Dev: linux.Mkdev(1, 3)},
		{Op: "mount", Source: "tmpfs", Path: mnt, FSType: "tmpfs", Flags: policy.MS_NOSUID | policy.MS_NODEV, Data: "size=4m,mode=755"},
		{Op: "umount2", Path: mnt},
	}
	tr := d.tracee(t, testutil.TraceeOptions{})
	for _, c := range calls {
		if e := linux.Errno(tr.Do(t, c).Errno); e != linux.EPERM {
			t.Fatalf("learn mode granted %s %s (errno %v): it must grant nothing", c.Op, c.Path, e)
		}
	}
	var uids []uint32
	var reqs []policy.Request
	for _, line := range d.logs.Lines() {
		if rec, ok := dispatch.ParseRecord(line); ok && rec.Learn {
			uids = append(uids, rec.UID)
			reqs = append(reqs, rec.Request)
		}
	}
	if len(reqs) != len(calls) {
		t.Fatalf("%d learn-mode records, want %d", len(reqs), len(calls))
	}
	draft, err := policy.Suggest("app", uids, reqs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("suggested:\n%s", draft)
	spec, err := policy.Parse("suggested.toml", draft)
	if err == nil {
		err = spec.Validate()
	}
	if err != nil {
		t.Fatalf("the draft does not validate: %v", err)
	}
	set, err := policy.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	d.disp.SetPolicy(set) // the running session picks "app" up by name
	for _, c := range calls {
		if e := linux.Errno(tr.Do(t, c).Errno); e != 0 {
			t.Errorf("replay of %s %s under the draft: errno %v, want granted", c.Op, c.Path, e)
		}
	}
	for _, c := range []testutil.Command{
		{Op: "mknodat", Path: filepath.Join(d.dir, "other"), Mode: linux.S_IFIFO | 0o640},
		{Op: "mknodat", Path: filepath.Join(d.dir, "null2"), Mode: linux.S_IFCHR | 0o666, Dev: linux.Mkdev(1, 3)},
		{Op: "mount", Source: "tmpfs", Path: mnt, FSType: "tmpfs", Flags: policy.MS_NOSUID | policy.MS_NODEV, Data: "size=8m,mode=755"},
	} {
		if e := linux.Errno(tr.Do(t, c).Errno); e != linux.EPERM {
			t.Errorf("%s %s was not recorded, yet the draft grants it (errno %v)", c.Op, c.Path+" "+c.Data, e)
		}
	}
	if !strings.Contains(string(draft), `mode = "enforce"`) {
		t.Error("the draft is not an enforcing profile")
	}
}
