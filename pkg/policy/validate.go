package policy

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
)

// check is one named validation step. Checks run in order and all run, so
// one Validate call reports every problem in the file.
type check struct {
	name string
	fn   func(s *Spec, r *report)
}

// checks is the ordered validation list. Order matters only for the order
// of messages: basic shape first, then the safety rules that build on it.
var checks = []check{
	{"version", checkVersion},
	{"profiles", checkProfiles},
	{"profile-name", checkProfileNames},
	{"mode", checkMode},
	{"match", checkMatch},
	{"reachable", checkReachable},
	{"globs", checkGlobs},
	{"rule-name", checkRuleNames},
	{"syscall", checkSyscall},
	{"action", checkAction},
	{"errno", checkErrno},
	{"arguments", checkArguments},
	{"ranges", checkRanges},
	{"types", checkTypes},
	{"mount", checkMount},
	{"mount-options", checkMountOptions},
	{"gpio", checkGPIO},
	{"continue", checkContinue},
	{"emulate", checkEmulate},
}

type report struct {
	file  string
	check string
	errs  []*Error
}

func (r *report) add(key, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Key: key, Check: r.check, Msg: fmt.Sprintf(format, args...)})
}

// Validate runs every check and returns all problems joined, each naming
// the file, the key path and, for parsed files, line and column.
func (s *Spec) Validate() error {
	r := &report{file: s.File}
	for _, c := range checks {
		r.check = c.name
		c.fn(s, r)
	}
	placeErrors(s.src, r.errs)
	return joinErrors(r.errs)
}

// Key paths, spelled like the decoder spells them.
func profileKey(i int) string         { return indexKey("profile", i) }
func ruleKey(i, j int) string         { return indexKey(profileKey(i)+".rule", j) }
func matchKey(i int, k string) string { return profileKey(i) + ".match." + k }

// nameRE limits names to what is safe in logs, metrics labels and rule ids.
var nameRE = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

func checkVersion(s *Spec, r *report) {
	if s.Version != SchemaVersion {
		r.add("version", "unsupported version %d (supported: %v)", s.Version, supportedVersions())
	}
}

func checkProfiles(s *Spec, r *report) {
	if len(s.Profiles) == 0 {
		r.add("", "no profiles; add at least one [[profile]] table")
	}
}

func checkProfileNames(s *Spec, r *report) {
	seen := map[string]int{}
	for i, p := range s.Profiles {
		k := profileKey(i) + ".name"
		switch {
		case p.Name == "":
			r.add(k, "missing; every profile needs a name")
			continue
		case !nameRE.MatchString(p.Name):
			r.add(k, "invalid name %q: use 1 to 64 of [a-z0-9._-]", p.Name)
		}
		if j, dup := seen[p.Name]; dup {
			r.add(k, "profile %q is already defined at %s", p.Name, profileKey(j))
			continue
		}
		seen[p.Name] = i
	}
}

func checkMode(s *Spec, r *report) {
	for i, p := range s.Profiles {
		switch p.Mode {
		case "", "enforce", "learn":
		default:
			r.add(profileKey(i)+".mode", `unknown mode %q; use "enforce" or "learn"`, p.Mode)
		}
	}
}

func checkMatch(s *Spec, r *report) {
	for i, p := range s.Profiles {
		m := p.Match
		if m == nil {
			r.add(profileKey(i)+".match", "missing [profile.match] table; use any = true to match every caller")
			continue
		}
		var set []string
		for _, l := range m.lists() {
			if !l.set {
				continue
			}
			set = append(set, l.key)
			if l.n == 0 {
				r.add(matchKey(i, l.key), "empty list matches no caller; remove the key")
			}
		}
		if m.Any && len(set) > 0 {
			r.add(matchKey(i, "any"), "any = true matches every caller and must be the only key; remove %s", strings.Join(set, ", "))
		}
		if !m.Any && len(set) == 0 {
			r.add(profileKey(i)+".match", "empty match; set any = true to match every caller, or name uid, gid, exe, ...")
		}
		for _, ids := range []struct {
			key string
			ids []int64
		}{{"uid", m.UID}, {"gid", m.GID}} {
			for j, id := range ids.ids {
				// (uid_t)-1 means "unchanged" to the kernel, never a real id.
				if id < 0 || id >= 1<<32-1 {
					r.add(indexKey(matchKey(i, ids.key), j), "%s %d out of range [0, 4294967294]", ids.key, id)
				}
			}
		}
		if _, ok := m.Annotations[""]; ok {
			r.add(matchKey(i, "annotations"), "empty annotation name")
		}
	}
}

type listKey struct {
	key string
	set bool // present in the file, even if empty
	n   int
}

// lists describes the list-valued keys in schema order.
func (m *MatchSpec) lists() []listKey {
	return []listKey{
		{"uid", m.UID != nil, len(m.UID)},
		{"gid", m.GID != nil, len(m.GID)},
		{"exe", m.Exe != nil, len(m.Exe)},
		{"cgroup", m.Cgroup != nil, len(m.Cgroup)},
		{"metadata", m.Metadata != nil, len(m.Metadata)},
		{"container_id", m.ContainerID != nil, len(m.ContainerID)},
		{"annotations", m.Annotations != nil, len(m.Annotations)},
	}
}

// checkReachable rejects profiles after a catch-all in the same file: they
// could never be selected, which is almost always a mistake in ordering.
func checkReachable(s *Spec, r *report) {
	for i, p := range s.Profiles {
		if p.Match != nil && p.Match.Any && i+1 < len(s.Profiles) {
			for j := i + 1; j < len(s.Profiles); j++ {
				r.add(profileKey(j), "profile %q can never be selected: profile %q before it matches every caller; move the catch-all last",
					s.Profiles[j].Name, p.Name)
			}
			return
		}
	}
}

// globKind says what a glob is matched against.
type globKind uint8

const (
	globText     globKind = iota // any string
	globPath                     // an absolute, clean path
	globMaybeAbs                 // a name, or an absolute clean path (mount sources)
	globName                     // a chip label or line name: never empty
)

func checkGlobs(s *Spec, r *report) {
	glob := func(key, pat string, kind globKind) {
		if _, err := path.Match(pat, ""); err != nil {
			r.add(key, "bad glob %q: %v", pat, err)
			return
		}
		if kind == globName && pat == "" {
			r.add(key, "empty pattern never matches: chip labels are never empty, and an unnamed line is matched by offset only")
			return
		}
		if kind == globPath && !strings.HasPrefix(pat, "/") {
			r.add(key, "pattern %q must be an absolute path", pat)
			return
		}
		if (kind == globPath || kind == globMaybeAbs) && strings.HasPrefix(pat, "/") && path.Clean(pat) != pat {
			// Requests carry cleaned paths, so this could never match.
			r.add(key, "pattern %q is not a clean path (want %q)", pat, path.Clean(pat))
		}
	}
	list := func(key string, pats []string, kind globKind) {
		for j, pat := range pats {
			glob(indexKey(key, j), pat, kind)
		}
	}
	for i, p := range s.Profiles {
		if m := p.Match; m != nil {
			list(matchKey(i, "exe"), m.Exe, globPath)
			list(matchKey(i, "cgroup"), m.Cgroup, globPath)
			list(matchKey(i, "metadata"), m.Metadata, globText)
			list(matchKey(i, "container_id"), m.ContainerID, globText)
			for _, name := range slices.Sorted(maps.Keys(m.Annotations)) {
				glob(joinKey(matchKey(i, "annotations"), name), m.Annotations[name], globText)
			}
		}
		for j, rule := range p.Rules {
			k := ruleKey(i, j)
			if rule.Mknod != nil {
				list(k+".mknod.path", rule.Mknod.Path, globPath)
			}
			if m := rule.Mount; m != nil {
				list(k+".mount.fstype", m.FSType, globText)
				// A new mount's source may be a name such as "tmpfs";
				// bind and move sources are always paths.
				src := globMaybeAbs
				if ops := ruleOps(rule.Action, m); ops != 0 && ops&opNew == 0 {
					src = globPath
				}
				list(k+".mount.source", m.Source, src)
				list(k+".mount.target", m.Target, globPath)
			}
			if u := rule.Umount; u != nil {
				list(k+".umount.target", u.Target, globPath)
			}
			if g := rule.GPIOOpen; g != nil {
				list(k+".gpio_open.chip", g.Chip, globName)
			}
			if g := rule.GPIOLine; g != nil {
				list(k+".gpio_line.chip", g.Chip, globName)
				list(k+".gpio_line.names", g.Names, globName)
			}
		}
	}
}

func checkRuleNames(s *Spec, r *report) {
	for i, p := range s.Profiles {
		seen := map[string]int{}
		for j, rule := range p.Rules {
			if rule.Name == "" {
				continue
			}
			k := ruleKey(i, j) + ".name"
			if !nameRE.MatchString(rule.Name) {
				r.add(k, "invalid name %q: use 1 to 64 of [a-z0-9._-]", rule.Name)
			}
			if prev, dup := seen[rule.Name]; dup {
				r.add(k, "rule %q is already defined at %s", rule.Name, ruleKey(i, prev))
				continue
			}
			seen[rule.Name] = j
		}
	}
}

func checkSyscall(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.Syscall == "" {
			r.add(key+".syscall", "missing; want one of %v", KnownSyscalls())
		} else if _, ok := syscalls[rule.Syscall]; !ok {
			r.add(key+".syscall", "unknown syscall %q; want one of %v", rule.Syscall, KnownSyscalls())
		}
	})
}

func checkAction(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.Action == "" {
			r.add(key+".action", "missing; want one of %v", KnownActions())
		} else if _, err := parseAction(rule.Action); err != nil {
			r.add(key+".action", "%v", err)
		}
	})
}

func checkErrno(s *Spec, r *report) {
	for i, p := range s.Profiles {
		if p.DefaultErrno != "" {
			if _, err := ParseErrno(p.DefaultErrno); err != nil {
				r.add(profileKey(i)+".default_errno", "%v", err)
			}
		}
	}
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.Errno == "" {
			return
		}
		if _, err := ParseErrno(rule.Errno); err != nil {
			r.add(key+".errno", "%v", err)
		}
		if rule.Action != "deny" {
			r.add(key+".errno", "errno only applies to action \"deny\", not %q", rule.Action)
		}
	})
}

// argTable is one argument-condition table of a rule, described for the
// checks that treat every table alike.
type argTable struct {
	name    string    // table and syscall name: "mknod", "mount", "umount"
	lists   []listKey // list- and table-valued keys in schema order
	scalars bool      // a scalar key is set (mknod.mode_max)
}

// argTables returns the rule's argument tables in schema order.
func (rule *RuleSpec) argTables() []argTable {
	var out []argTable
	if m := rule.Mknod; m != nil {
		out = append(out, argTable{"mknod", []listKey{
			{"path", m.Path != nil, len(m.Path)},
			{"type", m.Type != nil, len(m.Type)},
			{"major", m.Major != nil, len(m.Major)},
			{"minor", m.Minor != nil, len(m.Minor)},
		}, m.ModeMax != nil})
	}
	if m := rule.Mount; m != nil {
		out = append(out, argTable{"mount", []listKey{
			{"op", m.Op != nil, len(m.Op)},
			{"fstype", m.FSType != nil, len(m.FSType)},
			{"source", m.Source != nil, len(m.Source)},
			{"target", m.Target != nil, len(m.Target)},
			{"force_flags", m.ForceFlags != nil, len(m.ForceFlags)},
			{"allow_flags", m.AllowFlags != nil, len(m.AllowFlags)},
			{"propagation", m.Propagation != nil, len(m.Propagation)},
			{"options", m.Options != nil, len(m.Options)},
		}, false})
	}
	if u := rule.Umount; u != nil {
		out = append(out, argTable{"umount", []listKey{
			{"target", u.Target != nil, len(u.Target)},
			{"flags", u.Flags != nil, len(u.Flags)},
		}, false})
	}
	if g := rule.GPIOOpen; g != nil {
		out = append(out, argTable{"gpio_open", []listKey{
			{"chip", g.Chip != nil, len(g.Chip)},
		}, false})
	}
	if g := rule.GPIOLine; g != nil {
		out = append(out, argTable{"gpio_line", []listKey{
			{"chip", g.Chip != nil, len(g.Chip)},
			{"lines", g.Lines != nil, len(g.Lines)},
			{"names", g.Names != nil, len(g.Names)},
			{"flags", g.Flags != nil, len(g.Flags)},
		}, false})
	}
	return out
}

func checkArguments(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		for _, t := range rule.argTables() {
			k := key + "." + t.name
			if info, ok := syscalls[rule.Syscall]; ok && info.argTable != t.name {
				r.add(k, "%s conditions only apply to syscall %q, not %q", t.name, t.name, rule.Syscall)
			}
			empty := !t.scalars
			for _, l := range t.lists {
				empty = empty && !l.set
				if !l.set || l.n > 0 {
					continue
				}
				switch l.key {
				case "force_flags", "allow_flags", "flags":
					r.add(k+"."+l.key, "empty list; remove the key")
				case "options":
					r.add(k+"."+l.key, "empty table; remove it")
				default:
					r.add(k+"."+l.key, "empty list matches nothing; remove the key")
				}
			}
			if empty {
				r.add(k, "table has no conditions; remove it")
			}
		}
	})
}

// Linux dev_t as the kernel decodes it for mknod: 12-bit major, 20-bit
// minor. GPIO line offsets are __u32 in the uapi structs.
const (
	maxMajor    = 1<<12 - 1
	maxMinor    = 1<<20 - 1
	maxGPIOLine = 1<<32 - 1
)

func checkRanges(s *Spec, r *report) {
	ranges := func(key, what string, rs []Range, limit int64) {
		for j, rg := range rs {
			switch {
			case rg.Lo < 0 || rg.Hi > limit:
				r.add(indexKey(key, j), "%s %s out of range [0, %d]", what, rg, limit)
			case rg.Lo > rg.Hi:
				r.add(indexKey(key, j), "%s range %s is empty (low > high)", what, rg)
			}
		}
	}
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if g := rule.GPIOLine; g != nil {
			ranges(key+".gpio_line.lines", "line", g.Lines, maxGPIOLine)
		}
		m := rule.Mknod
		if m == nil {
			return
		}
		ranges(key+".mknod.major", "major", m.Major, maxMajor)
		ranges(key+".mknod.minor", "minor", m.Minor, maxMinor)
		if m.ModeMax != nil && (*m.ModeMax < 0 || *m.ModeMax > 0o7777) {
			r.add(key+".mknod.mode_max", "mode_max %#o out of range [0, 0o7777]", *m.ModeMax)
		}
	})
}

func checkTypes(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.Mknod == nil {
			return
		}
		for j, t := range rule.Mknod.Type {
			if _, err := ParseFileType(t); err != nil {
				r.add(indexKey(key+".mknod.type", j), "%v", err)
			}
		}
	})
}

// checkContinue enforces P10: continue hands the call back to the kernel,
// which re-reads pointer arguments from the caller's memory after we looked
// at them, so a continue rule may only depend on register arguments.
func checkContinue(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.Action != "continue" {
			return
		}
		for _, t := range rule.argTables() {
			pointers := syscalls[t.name].pointerArgs
			for _, l := range t.lists {
				if !l.set || !slices.Contains(pointers, l.key) {
					continue
				}
				if t.name == "gpio_open" || t.name == "gpio_line" {
					r.add(key+"."+t.name+"."+l.key, "%s", continueGPIOMsg(t.name, l.key))
					continue
				}
				noun, other := l.key, "a different "+l.key
				switch l.key {
				case "fstype":
					noun, other = "filesystem type", "a different filesystem type"
				case "options":
					noun, other = "mount options", "different options"
				}
				r.add(key+"."+t.name+"."+l.key, "a continue rule must not depend on the %[1]s: the caller can rewrite the %[1]s "+
					"in its memory after the check and before the kernel reads it (TOCTOU), so the kernel may act on "+
					"%[2]s; continue is never a grant, use emulate to grant by %[1]s", noun, other)
			}
		}
		if rule.Mount != nil && rule.Mount.ForceFlags != nil {
			r.add(key+".mount.force_flags", "a continue rule cannot force flags: the kernel runs the call as the caller "+
				"asked it; use emulate to force flags")
		}
	})
}

// checkEmulate keeps grants narrow: emulation runs with the daemon's
// privileges, so it must say where (path, target), what (type, fstype,
// source, propagation) and, for device nodes, which device (major and
// minor).
func checkEmulate(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.Action != "emulate" {
			return
		}
		switch syscalls[rule.Syscall].argTable {
		case "mknod":
			emulateMknod(key, rule, r)
		case "mount":
			emulateMount(key, rule, r)
		case "umount":
			if rule.Umount == nil || len(rule.Umount.Target) == 0 {
				r.add(key, "emulate needs a target condition (umount.target): without it the caller could unmount "+
					"anything, uncovering what a mount hides or taking away what others rely on")
			}
		case "gpio_open":
			if rule.GPIOOpen == nil || len(rule.GPIOOpen.Chip) == 0 {
				r.add(key, "emulate needs a chip condition (gpio_open.chip): without it the caller could open any "+
					"chip with the daemon's rights, watch every line on it, and hand the fd to a process outside "+
					"fgacd's filter, which could then take any line")
			}
		case "gpio_line":
			if rule.GPIOLine == nil || len(rule.GPIOLine.Chip) == 0 {
				r.add(key, "emulate needs a chip condition (gpio_line.chip): without it the caller could drive "+
					"lines on any chip")
			}
		}
	})
}

// continueGPIOMsg explains why a continue rule cannot have a GPIO
// condition.
func continueGPIOMsg(table, key string) string {
	what := "the device path in its memory"
	if table == "gpio_line" {
		what = "the request struct in its memory, or with another thread put a different chip behind the fd number"
	}
	return "a continue rule must not depend on " + table + "." + key + ": the kernel reads the call again after the " +
		"check, and the caller can rewrite " + what + " in between (TOCTOU), so the daemon cannot pin the chip, " +
		"lines or flags the kernel would then use; continue is never a grant, use emulate to grant GPIO access"
}

func emulateMount(key string, rule *RuleSpec, r *report) {
	m := rule.Mount
	if m == nil {
		m = &MountSpec{}
	}
	ops := ruleOps(rule.Action, m)
	if len(m.Target) == 0 {
		r.add(key, "emulate needs a target condition (mount.target): without it the caller could mount over any "+
			"directory, such as /etc or /usr/bin")
	}
	if ops&opNew != 0 && len(m.FSType) == 0 {
		r.add(key, "emulate of op new needs an fstype condition (mount.fstype): without it the caller could mount "+
			"any filesystem type, block devices included")
	}
	if ops&opPath != 0 && len(m.Source) == 0 {
		r.add(key, "emulate of op bind, rbind or move needs a source condition (mount.source): without it the "+
			"caller could bind or move any directory, such as /root or /etc/shadow's, into its reach")
	}
	if ops&opPropagation != 0 && len(m.Propagation) == 0 {
		r.add(key, "emulate of op propagation needs a propagation condition (mount.propagation): name the kinds "+
			"the caller may set")
	}
}

func emulateMknod(key string, rule *RuleSpec, r *report) {
	m := rule.Mknod
	if m == nil {
		m = &MknodSpec{}
	}
	devices := len(m.Type) == 0 || slices.Contains(m.Type, "char") || slices.Contains(m.Type, "block")
	if len(m.Path) == 0 {
		if devices {
			r.add(key, "emulate without a path condition would let the caller create device nodes anywhere; add mknod.path")
		} else {
			r.add(key, "emulate needs a path condition (mknod.path): paths are mandatory for emulate")
		}
	}
	if len(m.Type) == 0 {
		r.add(key, "emulate needs a type condition (mknod.type): without it the caller could create any kind of node, block devices included")
	} else if devices && (len(m.Major) == 0 || len(m.Minor) == 0) {
		r.add(key, "emulate of char or block nodes needs major and minor conditions: without them the caller could create any device, such as /dev/mem (char 1:1) or a disk")
	}
}

// ruleOps is the set of ops a mount rule covers: its op list or, when it
// has none, ["new"] for emulate (a grant names what it grants) and every
// op for deny and continue (an unwritten key never narrows a rule).
func ruleOps(action string, m *MountSpec) uint8 {
	if m == nil || m.Op == nil {
		if action == "emulate" {
			return opNew
		}
		return opAll
	}
	var ops uint8
	for _, name := range m.Op {
		b, _ := parseRuleOp(name) // unknown names are reported by checkMount
		ops |= b
	}
	return ops
}

// checkMount checks the names in mount and umount tables, and that every
// key applies to an op the rule covers.
func checkMount(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if u := rule.Umount; u != nil {
			for j, f := range u.Flags {
				if _, err := ParseUmountFlags([]string{f}); err != nil {
					r.add(indexKey(key+".umount.flags", j), "%v", err)
				}
			}
		}
		m := rule.Mount
		if m == nil {
			return
		}
		k := key + ".mount"
		for j, op := range m.Op {
			if _, ok := parseRuleOp(op); !ok {
				r.add(indexKey(k+".op", j), "unknown op %q (want one of %v)", op, knownRuleOps())
			}
		}
		for j, f := range m.ForceFlags {
			if _, err := ParseMountFlags([]string{f}); err != nil {
				r.add(indexKey(k+".force_flags", j), "%v", err)
			}
		}
		for j, f := range m.AllowFlags {
			if _, err := ParseMountFlags([]string{f}); err != nil {
				r.add(indexKey(k+".allow_flags", j), "%v", err)
			} else if slices.Contains(m.ForceFlags, f) {
				r.add(indexKey(k+".allow_flags", j), "flag %q is also in force_flags; list it in one of them", f)
			}
		}
		for j, p := range m.Propagation {
			if _, ok := lookupBit(propagations, p); !ok {
				r.add(indexKey(k+".propagation", j), "unknown propagation %q (want one of %v)", p, KnownPropagations())
			}
		}
		ops := ruleOps(rule.Action, m)
		if ops == 0 {
			return // no known op: reported above or by checkArguments
		}
		for _, a := range []struct {
			key   string
			set   bool
			ops   uint8
			names string
		}{
			{"fstype", m.FSType != nil, opNew, "new"},
			{"source", m.Source != nil, opSource, "new, bind, rbind or move"},
			{"propagation", m.Propagation != nil, opPropagation, "propagation"},
			{"options", m.Options != nil, opData, "new or remount"},
		} {
			if a.set && ops&a.ops == 0 {
				r.add(k+"."+a.key, "key %s only applies to op %s, and this rule covers %s", a.key, a.names, ruleOpList(ops))
			}
		}
	})
}

// checkMountOptions checks option names and constraints.
func checkMountOptions(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.Mount == nil {
			return
		}
		opts := rule.Mount.Options
		for _, name := range slices.Sorted(maps.Keys(opts)) {
			k := joinKey(key+".mount.options", name)
			if !validOptionName(name) {
				r.add(k, "invalid option name %q: use 1 or more of [a-zA-Z0-9_.-]", name)
				continue
			}
			if _, err := parseOptionCond(name, opts[name]); err != nil {
				r.add(k, "%v", err)
			}
		}
	})
}

// checkGPIO checks the flag names of gpio_line tables, and that no profile
// both opens chips for the caller and lets the kernel run line requests.
// Flags that contradict each other (input and output, two biases) are
// fine: an allowlist lists alternatives, and the kernel refuses a request
// that asks for both.
func checkGPIO(s *Spec, r *report) {
	forRules(s, func(key string, _ *ProfileSpec, rule *RuleSpec) {
		if rule.GPIOLine == nil {
			return
		}
		for j, f := range rule.GPIOLine.Flags {
			if _, err := ParseGPIOFlags([]string{f}); err != nil {
				r.add(indexKey(key+".gpio_line.flags", j), "%v", err)
			}
		}
	})
	for i, p := range s.Profiles {
		open := slices.IndexFunc(p.Rules, func(rule RuleSpec) bool {
			return rule.Syscall == "gpio_open" && rule.Action == "emulate"
		})
		if open < 0 {
			continue
		}
		for j, rule := range p.Rules {
			if rule.Syscall == "gpio_line" && rule.Action == "continue" {
				r.add(ruleKey(i, j), "a continue gpio_line rule cannot share a profile with an emulate gpio_open rule (%s): "+
					"the kernel would run the line request on the chip fd fgacd opened with its own rights, so the "+
					"caller could take any line on that chip; grant lines with emulate gpio_line rules", ruleKey(i, open))
			}
		}
	}
}

func forRules(s *Spec, fn func(key string, p *ProfileSpec, r *RuleSpec)) {
	for i := range s.Profiles {
		p := &s.Profiles[i]
		for j := range p.Rules {
			fn(ruleKey(i, j), p, &p.Rules[j])
		}
	}
}
