package policy_test

import (
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

// simLines is a valid emulate gpio_line rule body to build on.
const simLines = `chip = ["fgacd-sim"]
lines = ["1-2"]
flags = ["output"]
`

var gpioValidateCases = []validateCase{
	{"gpio_line table on a gpio_open rule", rule("gpio_open", "deny", "") + "[profile.rule.gpio_line]\nlines = [1]\n", "arguments", "profile[0].rule[0].gpio_line",
		`gpio_line conditions only apply to syscall "gpio_line", not "gpio_open"`, 9, nil},
	{"gpio_open table on a mknod rule", rule("mknod", "deny", "") + "[profile.rule.gpio_open]\nchip = [\"x\"]\n", "arguments", "profile[0].rule[0].gpio_open",
		`gpio_open conditions only apply to syscall "gpio_open", not "mknod"`, 9, nil},
	{"empty gpio_line table", rule("gpio_line", "deny", "\n"), "arguments", "profile[0].rule[0].gpio_line", "no conditions", 9, nil},
	{"empty gpio_open table", rule("gpio_open", "deny", "\n"), "arguments", "profile[0].rule[0].gpio_open", "no conditions", 9, nil},
	{"empty lines", rule("gpio_line", "deny", "lines = []\n"), "arguments", "profile[0].rule[0].gpio_line.lines", "empty list matches nothing", 10, nil},
	{"empty chip list", rule("gpio_open", "deny", "chip = []\n"), "arguments", "profile[0].rule[0].gpio_open.chip", "empty list matches nothing", 10, nil},
	{"empty gpio flags", rule("gpio_line", "emulate", "chip = [\"s\"]\nflags = []\n"), "arguments", "profile[0].rule[0].gpio_line.flags", "empty list; remove the key", 11, nil},

	{"bad chip glob", rule("gpio_line", "deny", "chip = [\"sim[\"]\n"), "globs", "profile[0].rule[0].gpio_line.chip[0]", `bad glob "sim["`, 10, nil},
	{"empty chip pattern", rule("gpio_open", "deny", "chip = [\"sim\", \"\"]\n"), "globs", "profile[0].rule[0].gpio_open.chip[1]", "empty pattern never matches", 10, nil},
	{"bad line name glob", rule("gpio_line", "deny", "names = [\"led-[a\"]\n"), "globs", "profile[0].rule[0].gpio_line.names[0]", "bad glob", 10, nil},
	{"empty line name pattern", rule("gpio_line", "deny", "names = [\"\"]\n"), "globs", "profile[0].rule[0].gpio_line.names[0]", "empty pattern never matches", 10, nil},

	{"line offset beyond u32", rule("gpio_line", "deny", "lines = [1, 4294967296]\n"), "ranges", "profile[0].rule[0].gpio_line.lines[1]",
		"line 4294967296 out of range [0, 4294967295]", 10, nil},
	{"negative line offset", rule("gpio_line", "deny", "lines = [-1]\n"), "ranges", "profile[0].rule[0].gpio_line.lines[0]", "out of range [0, 4294967295]", 10, nil},
	{"inverted line range", rule("gpio_line", "deny", "lines = [\"7-3\"]\n"), "ranges", "profile[0].rule[0].gpio_line.lines[0]", "line range 7-3 is empty (low > high)", 10, nil},

	{"unknown gpio flag", rule("gpio_line", "emulate", "chip = [\"sim\"]\nflags = [\"output\", \"pull_up\"]\n"), "gpio", "profile[0].rule[0].gpio_line.flags[1]",
		`unknown GPIO line flag "pull_up" (want one of [active_low bias_disabled bias_pull_down bias_pull_up debounce edge_falling edge_rising ` +
			`event_clock_hte event_clock_realtime input open_drain open_source output])`, 11, nil},
	{"unknown gpio flag in a deny rule", rule("gpio_line", "deny", "flags = [\"Output\"]\n"), "gpio", "profile[0].rule[0].gpio_line.flags[0]",
		`unknown GPIO line flag "Output"`, 10, nil},
	{"continue gpio_line beside an emulate gpio_open", rule("gpio_open", "emulate", "chip = [\"sim\"]\n") + "[[profile.rule]]\nsyscall = \"gpio_line\"\naction = \"continue\"\n",
		"gpio", "profile[0].rule[1]", "a continue gpio_line rule cannot share a profile with an emulate gpio_open rule (profile[0].rule[0])", 11, nil},

	{"continue on the chip to open", rule("gpio_open", "continue", "chip = [\"sim\"]\n"), "continue", "profile[0].rule[0].gpio_open.chip",
		"a continue rule must not depend on gpio_open.chip: the kernel reads the call again after the check", 10, nil},
	{"continue on the chip of a line request", rule("gpio_line", "continue", "chip = [\"sim\"]\n"), "continue", "profile[0].rule[0].gpio_line.chip",
		"put a different chip behind the fd number", 10, nil},
	{"continue on lines", rule("gpio_line", "continue", "lines = [1]\n"), "continue", "profile[0].rule[0].gpio_line.lines", "TOCTOU", 10, nil},
	{"continue on line names", rule("gpio_line", "continue", "names = [\"led\"]\n"), "continue", "profile[0].rule[0].gpio_line.names", "cannot pin", 10, nil},
	{"continue on gpio flags", rule("gpio_line", "continue", "flags = [\"input\"]\n"), "continue", "profile[0].rule[0].gpio_line.flags", "continue is never a grant", 10, nil},

	{"emulate gpio_line without chip", rule("gpio_line", "emulate", "lines = [1]\n"), "emulate", "profile[0].rule[0]",
		"emulate needs a chip condition (gpio_line.chip): without it the caller could drive lines on any chip", 6, nil},
	{"emulate gpio_line without a table", rule("gpio_line", "emulate", ""), "emulate", "profile[0].rule[0]", "needs a chip condition (gpio_line.chip)", 6, nil},
	{"emulate gpio_open without chip", rule("gpio_open", "emulate", ""), "emulate", "profile[0].rule[0]", "emulate needs a chip condition (gpio_open.chip)", 6, nil},
}

func TestValidateGPIOAcceptsGoodRules(t *testing.T) {
	for _, src := range []string{
		rule("gpio_line", "emulate", simLines),
		rule("gpio_line", "emulate", "chip = [\"sim-*\"]\n"), // every line, default flags
		rule("gpio_line", "emulate", "chip = [\"sim\"]\nnames = [\"led-*\", \"button\"]\nlines = [0, \"4294967294-4294967295\"]\n"),
		// Alternatives, not a request: contradicting flags are fine.
		rule("gpio_line", "emulate", "chip = [\"sim\"]\nflags = [\"input\", \"output\", \"open_drain\", \"open_source\", \"bias_pull_up\", \"bias_pull_down\", \"bias_disabled\"]\n"),
		rule("gpio_line", "deny", "lines = [0]\n"),
		rule("gpio_line", "deny", "flags = [\"output\"]\n"),
		rule("gpio_line", "deny", ""),
		rule("gpio_line", "continue", ""),
		rule("gpio_open", "continue", ""),
		rule("gpio_open", "emulate", "chip = [\"fgacd-sim\", \"gpio-sim.?-node*\"]\n"),
		// Continue gpio_line is fine where no chip is opened by fgacd.
		rule("gpio_open", "deny", "chip = [\"sim\"]\n") + "[[profile.rule]]\nsyscall = \"gpio_line\"\naction = \"continue\"\n",
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
