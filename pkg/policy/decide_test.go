package policy_test

import (
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

func mustCompile(t testing.TB, src string) *policy.Set {
	t.Helper()
	s, err := policy.Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

const decidePolicy = `version = 1

[[profile]]
name = "trusted"
  [profile.match]
  metadata = ["camera-*"]
  annotations = { "org.fgacd.zone" = "lab-?" }
  [[profile.rule]]
  syscall = "mknod"
  action = "deny"
  errno = "EROFS"

[[profile]]
name = "app"
default_errno = "EACCES"
  [profile.match]
  uid = [1000]
  exe = ["/usr/bin/*"]
  [[profile.rule]]
  name = "no-null-in-run"
  syscall = "mknod"
  action = "deny"
  errno = "EEXIST"
    [profile.rule.mknod]
    path = ["/run/app/null"]
  [[profile.rule]]
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/run/app/*"]
    type = ["char"]
    major = [1]
    minor = [3, "5-7"]
    mode_max = 0o666
  [[profile.rule]]
  syscall = "mknod"
  action = "continue"
    [profile.rule.mknod]
    type = ["fifo"]

[[profile]]
name = "plain"
  [profile.match]
  uid = [2000]
  [[profile.rule]]
  syscall = "mknod"
  action = "deny"
`

func null(path string) *policy.MknodArgs {
	return &policy.MknodArgs{Path: path, Type: policy.FileTypeChar, Major: 1, Minor: 3, Mode: 0o644}
}

func TestDecide(t *testing.T) {
	set := mustCompile(t, decidePolicy)
	app := policy.Identity{UID: 1000, GID: 1000, Exe: "/usr/bin/app"}
	tests := []struct {
		name    string
		id      policy.Identity
		req     policy.Request
		profile string
		action  policy.Action
		errno   policy.Errno
		rule    string
		reason  string
	}{
		{"first match wins", app, policy.Request{Syscall: "mknod", Mknod: null("/run/app/null")},
			"app", policy.ActionDeny, policy.EEXIST, "no-null-in-run", "rule matched"},
		{"grant", app, policy.Request{Syscall: "mknod", Mknod: null("/run/app/n")},
			"app", policy.ActionEmulate, 0, "t.toml:app/rule[1]", "rule matched"},
		{"minor range", app, policy.Request{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/run/app/z", Type: policy.FileTypeChar, Major: 1, Minor: 6}},
			"app", policy.ActionEmulate, 0, "t.toml:app/rule[1]", "rule matched"},
		{"minor outside range", app, policy.Request{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/run/app/z", Type: policy.FileTypeChar, Major: 1, Minor: 4}},
			"app", policy.ActionDeny, policy.EACCES, "", "no rule matched"},
		{"mode over mode_max", app, policy.Request{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/run/app/z", Type: policy.FileTypeChar, Major: 1, Minor: 3, Mode: 0o4644}},
			"app", policy.ActionDeny, policy.EACCES, "", "no rule matched"},
		{"unclean path fails closed", app, policy.Request{Syscall: "mknod", Mknod: null("/run/app/..")},
			"app", policy.ActionDeny, policy.EACCES, "", "no rule matched"},
		{"relative path fails closed", app, policy.Request{Syscall: "mknod", Mknod: null("run/app/x")},
			"app", policy.ActionDeny, policy.EACCES, "", "no rule matched"},
		{"unknown file type fails closed", app, policy.Request{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/run/app/x", Type: 200, Major: 1, Minor: 3}},
			"app", policy.ActionDeny, policy.EACCES, "", "no rule matched"},
		{"continue on register arguments", app, policy.Request{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/anywhere", Type: policy.FileTypeFIFO}},
			"app", policy.ActionContinue, 0, "t.toml:app/rule[2]", "rule matched"},
		{"default errno", app, policy.Request{Syscall: "mknod", Mknod: &policy.MknodArgs{Path: "/x", Type: policy.FileTypeBlock, Major: 8}},
			"app", policy.ActionDeny, policy.EACCES, "", "no rule matched"},
		{"argument rules never match unread arguments", app, policy.Request{Syscall: "mknod"},
			"app", policy.ActionDeny, policy.EACCES, "", "no rule matched: rules need arguments that were not read"},
		{"unknown syscall", app, policy.Request{Syscall: "ptrace"},
			"app", policy.ActionDeny, policy.EACCES, "", "syscall not covered by the policy"},
		{"deny defaults to EPERM", policy.Identity{UID: 2000}, policy.Request{Syscall: "mknod"},
			"plain", policy.ActionDeny, policy.EPERM, "t.toml:plain/rule[0]", "rule matched"},
		{"exe must match", policy.Identity{UID: 1000, Exe: "/opt/app"}, policy.Request{Syscall: "mknod", Mknod: null("/run/app/n")},
			"", policy.ActionDeny, policy.EPERM, "", "no profile matches the caller"},
		{"unknown exe fails closed", policy.Identity{UID: 1000}, policy.Request{Syscall: "mknod", Mknod: null("/run/app/n")},
			"", policy.ActionDeny, policy.EPERM, "", "no profile matches the caller"},
		{"trusted fields need a trusted peer", policy.Identity{UID: 7, Metadata: "camera-1", Annotations: map[string]string{"org.fgacd.zone": "lab-1"}},
			policy.Request{Syscall: "mknod"}, "", policy.ActionDeny, policy.EPERM, "", "no profile matches the caller"},
		{"trusted peer", policy.Identity{UID: 7, Trusted: true, Metadata: "camera-1", Annotations: map[string]string{"org.fgacd.zone": "lab-1"}},
			policy.Request{Syscall: "mknod"}, "trusted", policy.ActionDeny, 30, "t.toml:trusted/rule[0]", "rule matched"},
		{"annotation glob must match", policy.Identity{UID: 7, Trusted: true, Metadata: "camera-1", Annotations: map[string]string{"org.fgacd.zone": "lab-10"}},
			policy.Request{Syscall: "mknod"}, "", policy.ActionDeny, policy.EPERM, "", "no profile matches the caller"},
		{"missing annotation", policy.Identity{UID: 7, Trusted: true, Metadata: "camera-1"},
			policy.Request{Syscall: "mknod"}, "", policy.ActionDeny, policy.EPERM, "", "no profile matches the caller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := set.Select(tt.id)
			if p.Name() != tt.profile {
				t.Fatalf("profile = %q, want %q", p.Name(), tt.profile)
			}
			got := p.Decide(tt.req)
			want := policy.Decision{Action: tt.action, Errno: tt.errno, Profile: tt.profile, Rule: tt.rule, Reason: tt.reason}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestNilProfile(t *testing.T) {
	var p *policy.Profile
	want := policy.Decision{Action: policy.ActionDeny, Errno: policy.EPERM, Reason: "no profile matches the caller"}
	if got := p.Decide(policy.Request{Syscall: "mknod"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if p.Name() != "" || p.NeedsArgs("mknod") {
		t.Error("nil profile has a name or needs arguments")
	}
	var s *policy.Set
	if s.Select(policy.Identity{}) != nil || s.Profile("x") != nil || s.Version() != "" || s.Profiles() != nil {
		t.Error("nil set is not empty")
	}
}

func TestNeedsArgs(t *testing.T) {
	set := mustCompile(t, decidePolicy)
	if !set.Profile("app").NeedsArgs("mknod") {
		t.Error("app: NeedsArgs(mknod) = false")
	}
	if set.Profile("plain").NeedsArgs("mknod") || set.Profile("app").NeedsArgs("mount") {
		t.Error("NeedsArgs true without argument conditions")
	}
}

func TestSetAccessors(t *testing.T) {
	set := mustCompile(t, decidePolicy)
	if got := set.Profiles(); len(got) != 3 || got[0] != "trusted" || got[1] != "app" || got[2] != "plain" {
		t.Errorf("Profiles() = %v", got)
	}
	if set.Profile("nope") != nil || set.Profile("app").Name() != "app" {
		t.Error("Profile lookup")
	}
	v := set.Version()
	if len(v) != 12 || v != mustCompile(t, decidePolicy).Version() {
		t.Errorf("Version() = %q, not stable", v)
	}
	if v == mustCompile(t, decidePolicy+"\n# edited\n").Version() {
		t.Error("Version() ignores content")
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	set := mustCompile(t, decidePolicy)
	id := policy.Identity{UID: 1000, GID: 1000, Exe: "/usr/bin/app"}
	reqs := []policy.Request{
		{Syscall: "mknod", Mknod: null("/run/app/n")},
		{Syscall: "mknod", Mknod: null("/etc/n")},
		{Syscall: "mknod"},
		{Syscall: "ptrace"},
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

func BenchmarkDecide(b *testing.B) {
	set := mustCompile(b, decidePolicy)
	id := policy.Identity{UID: 1000, GID: 1000, Exe: "/usr/bin/app"}
	for _, bc := range []struct {
		name string
		req  policy.Request
	}{
		{"grant", policy.Request{Syscall: "mknod", Mknod: null("/run/app/n")}},
		{"default", policy.Request{Syscall: "mknod", Mknod: null("/etc/n")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = set.Select(id).Decide(bc.req)
			}
		})
	}
}

func TestSetIgnoresLaterSpecEdits(t *testing.T) {
	s, err := policy.Parse("t.toml", []byte(decidePolicy))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	s.Profiles[1].Match.Exe[0] = "/*"
	s.Profiles[1].Rules[1].Mknod.Path[0] = "/*"
	p := set.Select(policy.Identity{UID: 1000, Exe: "/usr/bin/app"})
	if p.Name() != "app" || p.Decide(policy.Request{Syscall: "mknod", Mknod: null("/n")}).Action != policy.ActionDeny {
		t.Error("editing the Spec changed the compiled Set")
	}
}
