package policy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/fgacd/fgacd/pkg/policy"
)

// shippedDir holds the shipped policies; cases live in its testdata/.
const shippedDir = "../../policies"

type goldenFile struct {
	Case []goldenCase `toml:"case"`
}

type goldenCase struct {
	Desc     string `toml:"desc"`
	Identity struct {
		UID         uint32            `toml:"uid"`
		GID         uint32            `toml:"gid"`
		Exe         string            `toml:"exe"`
		Cgroup      string            `toml:"cgroup"`
		Trusted     bool              `toml:"trusted"`
		Metadata    string            `toml:"metadata"`
		ContainerID string            `toml:"container_id"`
		Annotations map[string]string `toml:"annotations"`
	} `toml:"identity"`
	Request struct {
		Syscall string `toml:"syscall"`
		// mknod
		Path  string `toml:"path"`
		Type  string `toml:"type"`
		Major uint32 `toml:"major"`
		Minor uint32 `toml:"minor"`
		Mode  uint32 `toml:"mode"`
		// mount and umount
		Op          string   `toml:"op"` // a MountOp name: new, bind, remount, propagation, move
		Recursive   bool     `toml:"recursive"`
		FSType      string   `toml:"fstype"`
		Source      string   `toml:"source"`
		Target      string   `toml:"target"`
		Flags       []string `toml:"flags"`       // mount or umount flag names
		Propagation string   `toml:"propagation"` // shared, private, slave, unbindable
		Options     []string `toml:"options"`     // items of mount data, "size=8m"
	} `toml:"request"`
	Want struct {
		Profile    *string   `toml:"profile"`
		Action     string    `toml:"action"`
		Errno      *string   `toml:"errno"`
		Rule       *string   `toml:"rule"`
		Reason     *string   `toml:"reason"`
		ForceFlags *[]string `toml:"force_flags"` // required when the decision forces flags
	} `toml:"want"`
}

func (c *goldenCase) identity() policy.Identity {
	id := c.Identity
	return policy.Identity{
		UID: id.UID, GID: id.GID, Exe: id.Exe, Cgroup: id.Cgroup, Trusted: id.Trusted,
		Metadata: id.Metadata, ContainerID: id.ContainerID, Annotations: id.Annotations,
	}
}

// request builds the Request. A case without arguments (no path and type
// for mknod, no op and target for mount, no target and flags for umount)
// means the arguments were not read.
func (c *goldenCase) request(t *testing.T) policy.Request {
	t.Helper()
	r := c.Request
	req := policy.Request{Syscall: r.Syscall}
	mknod := r.Path != "" || r.Type != "" || r.Major != 0 || r.Minor != 0 || r.Mode != 0
	mount := r.Op != "" || r.Recursive || r.FSType != "" || r.Source != "" || r.Propagation != "" || r.Options != nil
	umount := r.Target != "" || r.Flags != nil
	switch {
	case r.Syscall == "mknod" && !mount && !umount:
		if !mknod {
			return req
		}
		ft, err := policy.ParseFileType(r.Type)
		if err != nil {
			t.Fatalf("%s: request.type: %v", c.Desc, err)
		}
		req.Mknod = &policy.MknodArgs{Path: r.Path, Type: ft, Major: r.Major, Minor: r.Minor, Mode: r.Mode}
	case r.Syscall == "mount" && !mknod:
		if !mount && !umount {
			return req
		}
		req.Mount = c.mountArgs(t)
	case r.Syscall == "umount" && !mknod && !mount:
		if !umount {
			return req
		}
		flags, err := policy.ParseUmountFlags(r.Flags)
		if err != nil {
			t.Fatalf("%s: request.flags: %v", c.Desc, err)
		}
		req.Umount = &policy.UmountArgs{Target: r.Target, Flags: flags}
	default:
		t.Fatalf("%s: request fields do not fit syscall %q", c.Desc, r.Syscall)
	}
	return req
}

var propagationBits = map[string]uint64{
	"shared": policy.MS_SHARED, "private": policy.MS_PRIVATE, "slave": policy.MS_SLAVE, "unbindable": policy.MS_UNBINDABLE,
}

func (c *goldenCase) mountArgs(t *testing.T) *policy.MountArgs {
	t.Helper()
	r := c.Request
	a := &policy.MountArgs{Recursive: r.Recursive, FSType: r.FSType, Source: r.Source, Target: r.Target}
	for op := policy.MountNew; op <= policy.MountMove; op++ {
		if op.String() == r.Op {
			a.Op = op
		}
	}
	if a.Op == 0 {
		t.Fatalf("%s: request.op %q: want a MountOp name", c.Desc, r.Op)
	}
	var err error
	if a.Flags, err = policy.ParseMountFlags(r.Flags); err != nil {
		t.Fatalf("%s: request.flags: %v", c.Desc, err)
	}
	if r.Propagation != "" {
		if a.Propagation = propagationBits[r.Propagation]; a.Propagation == 0 {
			t.Fatalf("%s: request.propagation %q unknown", c.Desc, r.Propagation)
		}
	}
	if a.Options, err = policy.ParseMountOptions(strings.Join(r.Options, ",")); err != nil {
		t.Fatalf("%s: request.options: %v", c.Desc, err)
	}
	return a
}

// readCases decodes a .cases file strictly: a typo in a case must not turn
// it into a case that checks nothing.
func readCases(t *testing.T, path string) []goldenCase {
	t.Helper()
	var f goldenFile
	md, err := toml.DecodeFile(path, &f)
	if err != nil {
		t.Fatalf("decode cases: %v", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("%s: unknown keys %v", path, u)
	}
	for i, c := range f.Case {
		if c.Desc == "" || c.Request.Syscall == "" || c.Want.Action == "" || c.Want.Profile == nil || c.Want.Errno == nil {
			t.Fatalf("%s: case[%d] %q: desc, request.syscall, want.action, want.profile and want.errno are required", path, i, c.Desc)
		}
	}
	return f.Case
}

func TestGolden(t *testing.T) {
	policies, err := filepath.Glob(filepath.Join(shippedDir, "*.toml"))
	if err != nil || len(policies) == 0 {
		t.Fatalf("no shipped policies in %s (%v)", shippedDir, err)
	}
	for _, file := range policies {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			set, err := policy.LoadFS(os.DirFS(shippedDir), name+".toml")
			if err != nil {
				t.Fatal(err)
			}
			cases := readCases(t, filepath.Join(shippedDir, "testdata", name+".cases"))
			if len(cases) < 6 {
				t.Errorf("%d cases; every shipped policy needs at least 6", len(cases))
			}
			var denies, noProfile int
			for _, c := range cases {
				t.Run(c.Desc, func(t *testing.T) { runCase(t, set, &c) })
				if c.Want.Action == "deny" {
					denies++
				}
				if *c.Want.Profile == "" {
					noProfile++
				}
			}
			if denies == 0 {
				t.Error("no deny case")
			}
			// A policy with a catch-all profile cannot have a no-profile case.
			if noProfile == 0 && set.Select(policy.Identity{UID: 4242}) == nil {
				t.Error("no case where no profile matches")
			}
		})
	}
}

func TestGoldenCasesHavePolicies(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join(shippedDir, "testdata", "*.cases"))
	for _, c := range cases {
		name := strings.TrimSuffix(filepath.Base(c), ".cases")
		if _, err := os.Stat(filepath.Join(shippedDir, name+".toml")); err != nil {
			t.Errorf("%s has no policy: %v", c, err)
		}
	}
}

func runCase(t *testing.T, set *policy.Set, c *goldenCase) {
	p := set.Select(c.identity())
	req := c.request(t)
	d := p.Decide(req)
	if got, want := p.Name(), *c.Want.Profile; got != want {
		t.Errorf("profile = %q, want %q", got, want)
	}
	if got := d.Profile; got != p.Name() {
		t.Errorf("decision profile = %q, selected %q", got, p.Name())
	}
	if got := d.Action.String(); got != c.Want.Action {
		t.Errorf("action = %s, want %s (decision %+v)", got, c.Want.Action, d)
	}
	errno := ""
	if d.Action == policy.ActionDeny {
		if d.Errno == 0 {
			t.Error("deny with errno 0")
		}
		errno = d.Errno.String()
	}
	if errno != *c.Want.Errno {
		t.Errorf("errno = %q, want %q", errno, *c.Want.Errno)
	}
	if c.Want.Rule != nil && d.Rule != *c.Want.Rule {
		t.Errorf("rule = %q, want %q", d.Rule, *c.Want.Rule)
	}
	if c.Want.Reason != nil && d.Reason != *c.Want.Reason {
		t.Errorf("reason = %q, want %q", d.Reason, *c.Want.Reason)
	}
	unread := req.Mknod == nil && req.Mount == nil && req.Umount == nil
	if unread && p.NeedsArgs(req.Syscall) && d.Action != policy.ActionDeny {
		t.Errorf("granted %s without arguments although NeedsArgs", req.Syscall)
	}
	if c.Want.ForceFlags != nil {
		want, err := policy.ParseMountFlags(*c.Want.ForceFlags)
		if err != nil {
			t.Fatalf("want.force_flags: %v", err)
		}
		if d.ForceFlags != want {
			t.Errorf("force_flags = %v, want %v", policy.MountFlagNames(d.ForceFlags), *c.Want.ForceFlags)
		}
	} else if d.ForceFlags != 0 {
		t.Errorf("decision forces %v; state it in want.force_flags", policy.MountFlagNames(d.ForceFlags))
	}
	if d.ForceFlags != 0 && d.Action != policy.ActionEmulate {
		t.Errorf("%s decision forces flags", d.Action)
	}
}
