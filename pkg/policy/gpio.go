package policy

import (
	"fmt"
	"math/bits"
	"slices"
)

// GPIOArgs are what a GPIO call asks for, as the daemon established it:
// the chip from the device the caller named (gpio_open) or from the fd it
// passed (gpio_line), the lines and flags from the request struct it read
// once from the caller's memory.
type GPIOArgs struct {
	// Chip is the chip's label (GPIO_GET_CHIPINFO_IOCTL), stable across
	// boots, unlike the N of gpiochipN.
	Chip string
	// ChipName is the kernel's name ("gpiochip0"), for records only.
	ChipName string
	// ChipLines is the number of lines on the chip.
	ChipLines uint32
	// Path is the resolved device path in the caller's view (gpio_open),
	// for records only.
	Path string
	// Lines are the requested line offsets (gpio_line), in request order.
	Lines []uint32
	// Names are the lines' names (gpio-line-names), index for index with
	// Lines; "" for an unnamed line.
	Names []string
	// Flags is the union of the flags requested for any line (gpio_line).
	Flags GPIOFlags
	// API is "v2" or "v1" (gpio_line), for records only.
	API string
}

// GPIOFlags are line flags. The low bits are the kernel's
// GPIO_V2_LINE_FLAG_* values (include/uapi/linux/gpio.h, 5.10); v1 handle
// and event flags map onto them. GPIOFlagDebounce stands for a debounce
// attribute in a v2 line config.
type GPIOFlags uint64

// GPIO line flags.
const (
	GPIOFlagActiveLow          GPIOFlags = 1 << 1
	GPIOFlagInput              GPIOFlags = 1 << 2
	GPIOFlagOutput             GPIOFlags = 1 << 3
	GPIOFlagEdgeRising         GPIOFlags = 1 << 4
	GPIOFlagEdgeFalling        GPIOFlags = 1 << 5
	GPIOFlagOpenDrain          GPIOFlags = 1 << 6
	GPIOFlagOpenSource         GPIOFlags = 1 << 7
	GPIOFlagBiasPullUp         GPIOFlags = 1 << 8
	GPIOFlagBiasPullDown       GPIOFlags = 1 << 9
	GPIOFlagBiasDisabled       GPIOFlags = 1 << 10
	GPIOFlagEventClockRealtime GPIOFlags = 1 << 11
	GPIOFlagEventClockHTE      GPIOFlags = 1 << 12
	GPIOFlagDebounce           GPIOFlags = 1 << 32
)

// GPIODefaultFlags are what an emulate rule without a flags key allows:
// plain input and output use. Edges, bias, drive, clocks and debounce
// must be listed.
const GPIODefaultFlags = GPIOFlagInput | GPIOFlagOutput | GPIOFlagActiveLow

var gpioFlagNames = []struct {
	name string
	bit  GPIOFlags
}{
	{"active_low", GPIOFlagActiveLow},
	{"input", GPIOFlagInput},
	{"output", GPIOFlagOutput},
	{"edge_rising", GPIOFlagEdgeRising},
	{"edge_falling", GPIOFlagEdgeFalling},
	{"open_drain", GPIOFlagOpenDrain},
	{"open_source", GPIOFlagOpenSource},
	{"bias_pull_up", GPIOFlagBiasPullUp},
	{"bias_pull_down", GPIOFlagBiasPullDown},
	{"bias_disabled", GPIOFlagBiasDisabled},
	{"event_clock_realtime", GPIOFlagEventClockRealtime},
	{"event_clock_hte", GPIOFlagEventClockHTE},
	{"debounce", GPIOFlagDebounce},
}

// GPIOFlagsKnown is every flag a policy can name.
const GPIOFlagsKnown = GPIOFlagActiveLow | GPIOFlagInput | GPIOFlagOutput | GPIOFlagEdgeRising |
	GPIOFlagEdgeFalling | GPIOFlagOpenDrain | GPIOFlagOpenSource | GPIOFlagBiasPullUp |
	GPIOFlagBiasPullDown | GPIOFlagBiasDisabled | GPIOFlagEventClockRealtime |
	GPIOFlagEventClockHTE | GPIOFlagDebounce

// Names returns the policy spellings of the set flags, in bit order;
// unknown bits show as hex.
func (f GPIOFlags) Names() []string {
	out := make([]string, 0, bits.OnesCount64(uint64(f)))
	for _, n := range gpioFlagNames {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if rest := f &^ GPIOFlagsKnown; rest != 0 {
		out = append(out, fmt.Sprintf("%#x", uint64(rest)))
	}
	return out
}

// ParseGPIOFlags turns policy spellings into flags.
func ParseGPIOFlags(names []string) (GPIOFlags, error) {
	var f GPIOFlags
	for _, name := range names {
		i := slices.IndexFunc(gpioFlagNames, func(n struct {
			name string
			bit  GPIOFlags
		}) bool {
			return n.name == name
		})
		if i < 0 {
			return 0, fmt.Errorf("unknown GPIO line flag %q (want one of %v)", name, KnownGPIOFlags())
		}
		f |= gpioFlagNames[i].bit
	}
	return f, nil
}

// KnownGPIOFlags returns the flag names a gpio_line rule may use, sorted.
func KnownGPIOFlags() []string {
	out := make([]string, len(gpioFlagNames))
	for i, n := range gpioFlagNames {
		out[i] = n.name
	}
	slices.Sort(out)
	return out
}

// gpioOpenCond is a compiled [gpio_open] table.
type gpioOpenCond struct {
	chips []string // globs on the label; none: any chip
}

func compileGPIOOpen(g *GPIOOpenSpec) *gpioOpenCond {
	return &gpioOpenCond{chips: slices.Clone(g.Chip)}
}

func (c *gpioOpenCond) holds(req Request) (ok, read bool) {
	a := req.GPIO
	if a == nil {
		return false, false
	}
	return globsMatch(c.chips, a.Chip), true
}

// holdsByName never decides: the chip is known by its label, which the
// device's name does not tell (gpiochipN numbers change across boots).
func (c *gpioOpenCond) holdsByName(Request, string) (ok, decided bool) { return false, false }

// gpioLineCond is a compiled [gpio_line] table.
type gpioLineCond struct {
	chips      []string // globs on the label; none: any chip
	lines      []Range  // allowed offsets
	names      []string // globs on line names
	checkFlags bool     // flags must be within allowed
	allowed    GPIOFlags
	// anyLine: lines and names hold when they cover any requested line,
	// not every one (deny rules).
	anyLine bool
}

// compileGPIOLine builds the condition. As in compileMount, flags is an
// allowlist in emulate rules even when absent (then GPIODefaultFlags); in
// deny and continue rules an absent key is no condition, so asking for
// one more flag cannot slip past a deny to a later grant. For the same
// reason a deny rule's lines and names hold when they cover any requested
// line: asking for one more line must not take a denied line past the deny.
// (Continue rules have no line conditions: see checkContinue.)
func compileGPIOLine(g *GPIOLineSpec, action Action) *gpioLineCond {
	c := &gpioLineCond{
		chips:      slices.Clone(g.Chip),
		lines:      slices.Clone(g.Lines),
		names:      slices.Clone(g.Names),
		checkFlags: action == ActionEmulate || g.Flags != nil,
		anyLine:    action == ActionDeny,
	}
	if g.Flags == nil {
		c.allowed = GPIODefaultFlags
	} else {
		c.allowed, _ = ParseGPIOFlags(g.Flags) // validated
	}
	return c
}

// holds reports whether the chip matches, every requested line is allowed
// (any one, for a deny rule) and every flag is. A request for no line
// holds for no rule: there is nothing a grant could name, and the kernel
// would refuse it anyway.
func (c *gpioLineCond) holds(req Request) (ok, read bool) {
	a := req.GPIO
	if a == nil {
		return false, false
	}
	if !globsMatch(c.chips, a.Chip) || len(a.Lines) == 0 {
		return false, true
	}
	if c.checkFlags && a.Flags&^c.allowed != 0 {
		return false, true
	}
	covered := 0
	for i, off := range a.Lines {
		name := ""
		if i < len(a.Names) {
			name = a.Names[i]
		}
		if c.allowsLine(off, name) {
			covered++
		}
	}
	if c.anyLine {
		return covered > 0, true
	}
	return covered == len(a.Lines), true
}

// allowsLine reports whether the line is in lines or, named, matches
// names; with neither key, every line is.
func (c *gpioLineCond) allowsLine(off uint32, name string) bool {
	if c.lines == nil && c.names == nil {
		return true
	}
	if len(c.lines) > 0 && inRanges(c.lines, off) {
		return true
	}
	return len(c.names) > 0 && globsMatch(c.names, name) // "" never matches
}

// holdsByName never decides: a line request names no path.
func (c *gpioLineCond) holdsByName(Request, string) (ok, decided bool) { return false, false }

// GrantsGPIOLines reports whether a line request on the chip labelled
// chip could be granted: whether, in rule order, an emulate gpio_line
// rule's chip condition matches before a rule that holds for every line
// request on that chip (one without lines, names and flags conditions).
// It tells the daemon whether a caller denied gpio_open should still get a
// handle on the chip to ask for lines with; false means every line request
// on the chip would be refused. Pure and allocation-free.
func (p *Profile) GrantsGPIOLines(chip string) bool {
	if p == nil || chip == "" {
		return false
	}
	rules := p.rules["gpio_line"]
	for i := range rules {
		r := &rules[i]
		c, ok := r.args.(*gpioLineCond)
		if !ok {
			// No conditions: it decides every line request.
			return r.decision.Action == ActionEmulate
		}
		if !globsMatch(c.chips, chip) {
			continue
		}
		if r.decision.Action == ActionEmulate {
			return true
		}
		if c.lines == nil && c.names == nil && !c.checkFlags {
			return false
		}
	}
	return false
}
