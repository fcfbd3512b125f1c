package policy_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

func TestGPIOFlagConstants(t *testing.T) {
	// include/uapi/linux/gpio.h, enum gpio_v2_line_flag (5.10; HTE 5.19).
	for _, c := range []struct {
		flag policy.GPIOFlags
		want uint64
	}{
		{policy.GPIOFlagActiveLow, 1 << 1}, {policy.GPIOFlagInput, 1 << 2}, {policy.GPIOFlagOutput, 1 << 3},
		{policy.GPIOFlagEdgeRising, 1 << 4}, {policy.GPIOFlagEdgeFalling, 1 << 5},
		{policy.GPIOFlagOpenDrain, 1 << 6}, {policy.GPIOFlagOpenSource, 1 << 7},
		{policy.GPIOFlagBiasPullUp, 1 << 8}, {policy.GPIOFlagBiasPullDown, 1 << 9}, {policy.GPIOFlagBiasDisabled, 1 << 10},
		{policy.GPIOFlagEventClockRealtime, 1 << 11}, {policy.GPIOFlagEventClockHTE, 1 << 12},
	} {
		if uint64(c.flag) != c.want {
			t.Errorf("%v = %#x, want %#x", c.flag.Names(), uint64(c.flag), c.want)
		}
	}
}

func TestGPIOFlagNames(t *testing.T) {
	known := policy.KnownGPIOFlags()
	if len(known) != 13 || !slices.IsSorted(known) {
		t.Fatalf("KnownGPIOFlags() = %v", known)
	}
	var all policy.GPIOFlags
	for _, name := range known {
		f, err := policy.ParseGPIOFlags([]string{name})
		if err != nil || f == 0 || f&(f-1) != 0 {
			t.Errorf("ParseGPIOFlags(%s) = %#x, %v; want one bit", name, uint64(f), err)
		}
		if got := f.Names(); !slices.Equal(got, []string{name}) {
			t.Errorf("%s: Names() = %v", name, got)
		}
		all |= f
	}
	if all != policy.GPIOFlagsKnown {
		t.Errorf("known names cover %#x, GPIOFlagsKnown is %#x", uint64(all), uint64(policy.GPIOFlagsKnown))
	}
	if got := (policy.GPIODefaultFlags).Names(); !slices.Equal(got, []string{"active_low", "input", "output"}) {
		t.Errorf("GPIODefaultFlags.Names() = %v", got)
	}
	if got := (policy.GPIOFlagOutput | 1<<40 | 1).Names(); !slices.Equal(got, []string{"output", "0x10000000001"}) {
		t.Errorf("unknown bits: Names() = %v", got)
	}
	if _, err := policy.ParseGPIOFlags([]string{"input", "pull_up"}); err == nil || !strings.Contains(err.Error(), `unknown GPIO line flag "pull_up"`) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestParseGPIOSpec(t *testing.T) {
	src := `version = 1
[[profile]]
name = "g"
  [profile.match]
  uid = [1]
  [[profile.rule]]
  syscall = "gpio_open"
  action = "emulate"
  gpio_open.chip = ["fgacd-sim"]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["fgacd-sim", "gpio-sim.*"]
    lines = [5, "1-2"]
    names = ["led-*"]
    flags = ["input", "edge_rising"]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "deny"
  gpio_line = { lines = [0] }
`
	s, err := policy.Parse("g.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.RuleSpec{
		{Syscall: "gpio_open", Action: "emulate", GPIOOpen: &policy.GPIOOpenSpec{Chip: []string{"fgacd-sim"}}},
		{Syscall: "gpio_line", Action: "emulate", GPIOLine: &policy.GPIOLineSpec{
			Chip: []string{"fgacd-sim", "gpio-sim.*"}, Lines: []policy.Range{{Lo: 5, Hi: 5}, {Lo: 1, Hi: 2}},
			Names: []string{"led-*"}, Flags: []string{"input", "edge_rising"},
		}},
		{Syscall: "gpio_line", Action: "deny", GPIOLine: &policy.GPIOLineSpec{Lines: []policy.Range{{Lo: 0, Hi: 0}}}},
	}
	if !reflect.DeepEqual(s.Profiles[0].Rules, want) {
		t.Errorf("got %+v\nwant %+v", s.Profiles[0].Rules, want)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

const gpioPolicy = `version = 1

[[profile]]
name = "gpio"
default_errno = "EACCES"
  [profile.match]
  uid = [1000]

  [[profile.rule]]
  name = "no-reset"
  syscall = "gpio_line"
  action = "deny"
  errno = "EBUSY"
    [profile.rule.gpio_line]
    chip = ["sim-*"]
    names = ["reset"]

  [[profile.rule]]
  name = "no-drive-0"
  syscall = "gpio_line"
  action = "deny"
  errno = "EROFS"
    [profile.rule.gpio_line]
    lines = [0]
    flags = ["output"]

  [[profile.rule]]
  name = "leds"
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["sim-*"]
    lines = ["0-3"]
    names = ["led-*"]

  [[profile.rule]]
  name = "button"
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["sim-a"]
    lines = [5]
    flags = ["input", "edge_rising", "edge_falling", "bias_pull_up"]

  [[profile.rule]]
  name = "open"
  syscall = "gpio_open"
  action = "emulate"
    [profile.rule.gpio_open]
    chip = ["sim-a", 'odd\*chip']

  [[profile.rule]]
  name = "others"
  syscall = "gpio_open"
  action = "deny"
  errno = "ENOENT"

[[profile]]
name = "plain"
  [profile.match]
  uid = [2000]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "continue"
`

func lines(chip string, flags policy.GPIOFlags, offsets ...uint32) *policy.GPIOArgs {
	return &policy.GPIOArgs{Chip: chip, ChipName: "gpiochip3", ChipLines: 8, Lines: offsets, Flags: flags, API: "v2"}
}

func named(a *policy.GPIOArgs, names ...string) *policy.GPIOArgs {
	a.Names = names
	return a
}

func TestDecideGPIOLine(t *testing.T) {
	p := mustCompile(t, gpioPolicy).Select(policy.Identity{UID: 1000})
	const (
		in     = policy.GPIOFlagInput
		out    = policy.GPIOFlagOutput
		low    = policy.GPIOFlagActiveLow
		rising = policy.GPIOFlagEdgeRising
		edges  = policy.GPIOFlagEdgeRising | policy.GPIOFlagEdgeFalling
		grant  = policy.ActionEmulate
		deny   = policy.ActionDeny
		ebusy  = policy.Errno(16)
		erofs  = policy.Errno(30)
	)
	tests := []struct {
		name   string
		args   *policy.GPIOArgs
		action policy.Action
		errno  policy.Errno
		rule   string
	}{
		{"lines within the range", lines("sim-a", out, 1, 2), grant, 0, "leds"},
		{"default flags: input", lines("sim-b", in, 3), grant, 0, "leds"},
		{"default flags: active_low output", lines("sim-a", out|low, 1), grant, 0, "leds"},
		{"no flag at all", lines("sim-a", 0, 1), grant, 0, "leds"},
		{"edges are not in the default flags", lines("sim-a", in|rising, 1), deny, policy.EACCES, ""},
		{"debounce is not in the default flags", lines("sim-a", in|policy.GPIOFlagDebounce, 1), deny, policy.EACCES, ""},
		{"bias is not in the default flags", lines("sim-a", in|policy.GPIOFlagBiasPullUp, 1), deny, policy.EACCES, ""},
		{"unknown flag bit", lines("sim-a", out|1<<40, 1), deny, policy.EACCES, ""},
		{"one line outside", lines("sim-a", out, 1, 4), deny, policy.EACCES, ""},
		{"a name covers a line outside the range", named(lines("sim-a", out, 1, 9), "", "led-red"), grant, 0, "leds"},
		{"an unnamed line is matched by offset only", named(lines("sim-a", out, 9), ""), deny, policy.EACCES, ""},
		{"a line without a name entry is unnamed", named(lines("sim-a", out, 1, 9), "led-green"), deny, policy.EACCES, ""},
		{"names not matching", named(lines("sim-a", out, 9), "motor"), deny, policy.EACCES, ""},
		{"no line fails closed", lines("sim-a", out), deny, policy.EACCES, ""},
		{"chip glob must match", lines("other", out, 1), deny, policy.EACCES, ""},
		{"unknown chip label fails closed", lines("", out, 1), deny, policy.EACCES, ""},
		{"edges on the button", lines("sim-a", in|edges, 5), grant, 0, "button"},
		{"button with its allowed bias", lines("sim-a", in|rising|policy.GPIOFlagBiasPullUp, 5), grant, 0, "button"},
		{"button with a bias not listed", lines("sim-a", in|policy.GPIOFlagBiasPullDown, 5), deny, policy.EACCES, ""},
		{"button on another chip", lines("sim-b", in|edges, 5), deny, policy.EACCES, ""},
		{"button driven", lines("sim-a", out, 5), deny, policy.EACCES, ""},
		{"leds and button in one request", lines("sim-a", out, 1, 5), deny, policy.EACCES, ""},
		// Deny rules.
		{"deny by name whatever the flags", named(lines("sim-a", out|edges|1<<40, 7), "reset"), deny, ebusy, "no-reset"},
		{"a deny holds for any line it covers", named(lines("sim-a", out, 1, 7, 2), "led-a", "reset", ""), deny, ebusy, "no-reset"},
		{"deny by name on another chip", named(lines("x", in, 7), "reset"), deny, policy.EACCES, ""},
		{"deny of line 0 as output", lines("sim-a", out, 0), deny, erofs, "no-drive-0"},
		{"one more line does not slip past the deny", lines("sim-a", out, 1, 0), deny, erofs, "no-drive-0"},
		{"deny flags are an allowlist: no flag", lines("sim-a", 0, 0), deny, erofs, "no-drive-0"},
		{"deny flags are an allowlist: input", lines("sim-a", in, 0), grant, 0, "leds"},
		{"deny flags are an allowlist, as for mount", lines("sim-a", out|low, 0), grant, 0, "leds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Decide(policy.Request{Syscall: "gpio_line", GPIO: tt.args})
			want := policy.Decision{Action: tt.action, Errno: tt.errno, Profile: "gpio", Rule: tt.rule, Reason: "rule matched"}
			if tt.rule == "" {
				want.Reason = "no rule matched"
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecideGPIOOpen(t *testing.T) {
	set := mustCompile(t, gpioPolicy)
	p := set.Select(policy.Identity{UID: 1000})
	open := func(chip string) policy.Request {
		return policy.Request{Syscall: "gpio_open", GPIO: &policy.GPIOArgs{Chip: chip, ChipName: "gpiochip0", ChipLines: 8, Path: "/dev/gpiochip0"}}
	}
	for _, tt := range []struct {
		name   string
		req    policy.Request
		action policy.Action
		errno  policy.Errno
		rule   string
	}{
		{"granted chip", open("sim-a"), policy.ActionEmulate, 0, "open"},
		{"escaped glob matches the label itself", open("odd*chip"), policy.ActionEmulate, 0, "open"},
		{"escaped glob is no glob", open("oddXchip"), policy.ActionDeny, policy.ENOENT, "others"},
		{"other chip", open("sim-b"), policy.ActionDeny, policy.ENOENT, "others"},
		{"unknown label", open(""), policy.ActionDeny, policy.ENOENT, "others"},
		{"arguments not read: only a rule without conditions holds", policy.Request{Syscall: "gpio_open"}, policy.ActionDeny, policy.ENOENT, "others"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Decide(tt.req)
			want := policy.Decision{Action: tt.action, Errno: tt.errno, Profile: "gpio", Rule: tt.rule, Reason: "rule matched"}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	if !p.NeedsArgs("gpio_open") || !p.NeedsArgs("gpio_line") {
		t.Error("NeedsArgs false for GPIO rules with tables")
	}
	want := policy.Decision{Action: policy.ActionDeny, Errno: policy.EACCES, Profile: "gpio", Reason: "no rule matched: rules need arguments that were not read"}
	if got := p.Decide(policy.Request{Syscall: "gpio_line", Mknod: null("/dev/gpiochip0")}); got != want {
		t.Errorf("gpio_line unread: got %+v", got)
	}
	// A line request names no path: it is never decided by name.
	if _, decided := p.DecideByName(policy.Request{Syscall: "gpio_line", GPIO: lines("sim-a", 0, 1)}, "gpiochip0"); decided {
		t.Error("gpio_line decided by name")
	}
	if _, decided := p.DecideByName(open("sim-a"), "gpiochip0"); decided {
		t.Error("gpio_open decided by name: the label is not in the name")
	}
	plain := set.Select(policy.Identity{UID: 2000})
	if plain.NeedsArgs("gpio_line") {
		t.Error("NeedsArgs true without conditions")
	}
	if d := plain.Decide(policy.Request{Syscall: "gpio_line"}); d.Action != policy.ActionContinue {
		t.Errorf("unconditional continue: %+v", d)
	}
}

func TestGrantsGPIOLines(t *testing.T) {
	p := mustCompile(t, gpioPolicy).Select(policy.Identity{UID: 1000})
	for chip, want := range map[string]bool{"sim-a": true, "sim-b": true, "other": false, "": false} {
		if got := p.GrantsGPIOLines(chip); got != want {
			t.Errorf("GrantsGPIOLines(%q) = %v, want %v", chip, got, want)
		}
	}
	var nilProfile *policy.Profile
	if nilProfile.GrantsGPIOLines("sim-a") {
		t.Error("nil profile grants lines")
	}
	src := `version = 1
[[profile]]
name = "a"
  [profile.match]
  uid = [1]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "deny"
    [profile.rule.gpio_line]
    chip = ["sim-a"]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "deny"
    [profile.rule.gpio_line]
    chip = ["sim-b"]
    flags = ["output"]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["sim-*"]
[[profile]]
name = "b"
  [profile.match]
  uid = [2]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "deny"
  [[profile.rule]]
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["sim-*"]
[[profile]]
name = "c"
  [profile.match]
  uid = [3]
  [[profile.rule]]
  syscall = "gpio_open"
  action = "emulate"
    [profile.rule.gpio_open]
    chip = ["sim-a"]
`
	set := mustCompile(t, src)
	for _, c := range []struct {
		uid  uint32
		chip string
		want bool
	}{
		{1, "sim-a", false}, // a deny holds for every line request on it first
		{1, "sim-b", true},  // a deny of some requests only
		{1, "sim-c", true},
		{2, "sim-a", false}, // an unconditional deny
		{3, "sim-a", false}, // gpio_open grants no lines
	} {
		if got := set.Select(policy.Identity{UID: c.uid}).GrantsGPIOLines(c.chip); got != c.want {
			t.Errorf("uid %d: GrantsGPIOLines(%q) = %v, want %v", c.uid, c.chip, got, c.want)
		}
	}
}

func TestDecideGPIODoesNotAllocate(t *testing.T) {
	set := mustCompile(t, gpioPolicy)
	id := policy.Identity{UID: 1000}
	reqs := []policy.Request{
		{Syscall: "gpio_line", GPIO: named(lines("sim-a", policy.GPIOFlagOutput, 1, 2, 9), "", "", "led-red")},
		{Syscall: "gpio_line", GPIO: lines("sim-a", policy.GPIOFlagInput|policy.GPIOFlagEdgeRising, 5)},
		{Syscall: "gpio_line", GPIO: named(lines("sim-a", policy.GPIOFlagOutput, 7), "reset")},
		{Syscall: "gpio_line", GPIO: lines("sim-a", policy.GPIOFlagOutput, 0, 1)},
		{Syscall: "gpio_line", GPIO: lines("sim-a", policy.GPIOFlagOutput)},
		{Syscall: "gpio_line"},
		{Syscall: "gpio_open", GPIO: &policy.GPIOArgs{Chip: "sim-a", Path: "/dev/gpiochip0"}},
		{Syscall: "gpio_open", GPIO: &policy.GPIOArgs{Chip: "other", Path: "/dev/gpiochip1"}},
	}
	allocs := testing.AllocsPerRun(100, func() {
		p := set.Select(id)
		for _, r := range reqs {
			_ = p.Decide(r)
		}
		_ = p.GrantsGPIOLines("sim-a")
		_ = p.GrantsGPIOLines("other")
	})
	if allocs != 0 {
		t.Errorf("Select+Decide allocate %.1f times per run", allocs)
	}
}

func TestGPIOSetIgnoresLaterSpecEdits(t *testing.T) {
	s, err := policy.Parse("t.toml", []byte(gpioPolicy))
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Profiles[0].Rules[2].GPIOLine
	g.Chip[0], g.Lines[0], g.Names[0] = "*", policy.Range{Lo: 0, Hi: 100}, "*"
	s.Profiles[0].Rules[3].GPIOLine.Flags[0] = "output"
	s.Profiles[0].Rules[4].GPIOOpen.Chip[0] = "*"
	p := set.Select(policy.Identity{UID: 1000})
	for _, req := range []policy.Request{
		{Syscall: "gpio_line", GPIO: lines("other", policy.GPIOFlagOutput, 50)},
		{Syscall: "gpio_line", GPIO: lines("sim-a", policy.GPIOFlagOutput, 5)},
		{Syscall: "gpio_open", GPIO: &policy.GPIOArgs{Chip: "other"}},
	} {
		if d := p.Decide(req); d.Action != policy.ActionDeny {
			t.Errorf("editing the Spec changed the compiled Set: %+v", d)
		}
	}
}

// TestSuggestGPIO: the draft from learn-mode GPIO records compiles,
// grants exactly what was recorded, and refuses one line or flag more.
func TestSuggestGPIO(t *testing.T) {
	const (
		in    = policy.GPIOFlagInput
		out   = policy.GPIOFlagOutput
		edges = policy.GPIOFlagEdgeRising | policy.GPIOFlagEdgeFalling
	)
	open := func(chip string) policy.Request {
		return policy.Request{Syscall: "gpio_open", GPIO: &policy.GPIOArgs{Chip: chip, ChipName: "gpiochip0", Path: "/dev/gpiochip0"}}
	}
	line := func(a *policy.GPIOArgs) policy.Request { return policy.Request{Syscall: "gpio_line", GPIO: a} }
	recorded := []policy.Request{
		open("fgacd-sim"),
		open("odd[1]*chip"),
		line(named(lines("fgacd-sim", out, 2, 1), "led-b", "led-a")),
		line(lines("fgacd-sim", in|edges, 5)),
		line(lines("fgacd-sim", 0, 6)),
		line(lines("fgacd-sim", in|edges, 5)), // a repeat: one rule
	}
	skipped := []policy.Request{
		line(lines("fgacd-sim", out|1<<40, 7)), // a flag no rule can name
		line(lines("fgacd-sim", out)),          // no line
		line(nil),                              // arguments not read
	}
	draft, err := policy.Suggest("app", []uint32{1000, 1000}, append(slices.Clone(recorded), skipped...))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("draft:\n%s", draft)
	for _, want := range []string{`chip = ["fgacd-sim"]`, `chip = ["odd\\[1]\\*chip"]`, "lines = [1, 2]", `# line names: 2 = "led-b", 1 = "led-a"`,
		`flags = ["output"]`, `flags = ["input", "edge_rising", "edge_falling"]`} {
		if !strings.Contains(string(draft), want) {
			t.Errorf("draft lacks %s", want)
		}
	}
	if n := strings.Count(string(draft), "[[profile.rule]]"); n != 5 {
		t.Errorf("draft has %d rules, want 5", n)
	}
	p := mustCompile(t, string(draft)).Select(policy.Identity{UID: 1000})
	for _, r := range recorded {
		if d := p.Decide(r); d.Action != policy.ActionEmulate {
			t.Errorf("recorded %s %+v: %+v, want emulate", r.Syscall, *r.GPIO, d)
		}
	}
	for _, r := range append([]policy.Request{
		open("fgacd-sim2"),
		open("odd1Xchip"),
		line(lines("fgacd-sim", out, 1, 2, 3)), // one more line
		line(lines("fgacd-sim", out, 3)),       // another line
		line(lines("fgacd-sim", in|edges|policy.GPIOFlagBiasPullUp, 5)), // one more flag
		line(lines("fgacd-sim", out, 5)),                                // other flags
		line(lines("fgacd-sim", policy.GPIOFlagEdgeRising, 6)),          // beyond the defaults
		line(lines("other", out, 1, 2)),                                 // other chip
	}, skipped...) {
		if d := p.Decide(r); d.Action != policy.ActionDeny {
			t.Errorf("not recorded %s %+v, yet the draft grants it: %+v", r.Syscall, r.GPIO, d)
		}
	}
}

// TestDocsGPIOExample holds the worked example in docs/policy.md to what
// the text after it says.
func TestDocsGPIOExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(doc), "```toml\nversion = 1\n\n[[profile]]\nname = \"blinker\"")
	src, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("the GPIO worked example (profile \"blinker\") is missing")
	}
	p := mustCompile(t, "version = 1\n\n[[profile]]\nname = \"blinker\""+src).Select(policy.Identity{UID: 1000})
	const (
		in  = policy.GPIOFlagInput
		out = policy.GPIOFlagOutput
	)
	edges := policy.GPIOFlagEdgeRising | policy.GPIOFlagEdgeFalling
	if p.Decide(policy.Request{Syscall: "gpio_open", GPIO: &policy.GPIOArgs{Chip: "fgacd-sim"}}).Action != policy.ActionDeny ||
		!p.GrantsGPIOLines("fgacd-sim") || p.GrantsGPIOLines("other") {
		t.Error("the open is not refused with lines to grant on fgacd-sim only")
	}
	for _, c := range []struct {
		args  *policy.GPIOArgs
		grant bool
	}{
		{lines("fgacd-sim", out, 1, 2), true},
		{lines("fgacd-sim", in|edges, 5), true},
		{lines("fgacd-sim", in, 1), false},
		{lines("fgacd-sim", out, 5), false},
		{lines("fgacd-sim", out, 3), false},
		{lines("fgacd-sim", out|policy.GPIOFlagActiveLow, 1, 2), false},
		{lines("fgacd-sim", out|in|edges, 1, 2, 5), false},
		{lines("other", out, 1, 2), false},
	} {
		d := p.Decide(policy.Request{Syscall: "gpio_line", GPIO: c.args})
		if (d.Action == policy.ActionEmulate) != c.grant {
			t.Errorf("lines %v flags %v on %s: %+v, want grant %v", c.args.Lines, c.args.Flags.Names(), c.args.Chip, d, c.grant)
		}
	}
}
