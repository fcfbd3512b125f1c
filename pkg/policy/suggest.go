package policy

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Suggest drafts a policy that grants exactly the given requests (as a
// learn-mode profile recorded them) and nothing else: one emulate rule per
// distinct request, each as narrow as its arguments allow — exact paths
// (glob characters escaped), exact device numbers, the asked mode as
// mode_max, exact mount options, exact GPIO chip labels, line offsets and
// line flags. The draft is meant to be read and edited before use;
// `fgacd check` accepts it as it is.
func Suggest(profile string, uids []uint32, reqs []Request) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Drafted by fgacd policy suggest from learn-mode records: one rule per\n")
	fmt.Fprintf(&b, "# distinct request seen. Read it, widen what should be wider, then install it.\n")
	fmt.Fprintf(&b, "version = 1\n\n[[profile]]\nname = %q\nmode = \"enforce\"\n\n  [profile.match]\n", profile)
	if len(uids) == 0 {
		return nil, fmt.Errorf("suggest: no caller uid in the records")
	}
	u := slices.Clone(uids)
	slices.Sort(u)
	u = slices.Compact(u)
	fmt.Fprintf(&b, "  uid = [%s]\n", joinUints(u))
	seen := map[string]bool{}
	n := 0
	for _, r := range reqs {
		rule, ok := suggestRule(r)
		if !ok || seen[rule] {
			continue
		}
		seen[rule] = true
		n++
		fmt.Fprintf(&b, "\n  [[profile.rule]]\n  name = \"learned-%d\"\n%s", n, rule)
	}
	if n == 0 {
		return nil, fmt.Errorf("suggest: no request with its arguments in the records")
	}
	return []byte(b.String()), nil
}

func suggestRule(r Request) (string, bool) {
	var b strings.Builder
	switch {
	case r.Mknod != nil && r.Mknod.Path != "":
		a := r.Mknod
		fmt.Fprintf(&b, "  syscall = \"mknod\"\n  action = \"emulate\"\n    [profile.rule.mknod]\n")
		fmt.Fprintf(&b, "    path = [%q]\n    type = [%q]\n", globEscape(a.Path), a.Type.String())
		if a.Type == FileTypeChar || a.Type == FileTypeBlock {
			fmt.Fprintf(&b, "    major = [%d]\n    minor = [%d]\n", a.Major, a.Minor)
		}
		fmt.Fprintf(&b, "    mode_max = 0o%o\n", a.Mode&0o7777)
	case r.Mount != nil && r.Mount.Target != "":
		a := r.Mount
		op := a.Op.String()
		if a.Op == MountBind && a.Recursive {
			op = "rbind"
		}
		fmt.Fprintf(&b, "  syscall = \"mount\"\n  action = \"emulate\"\n    [profile.rule.mount]\n    op = [%q]\n", op)
		if a.Op == MountNew {
			fmt.Fprintf(&b, "    fstype = [%q]\n", globEscape(a.FSType))
		}
		if a.Source != "" && a.Op != MountNew || a.Op == MountNew && strings.HasPrefix(a.Source, "/") {
			fmt.Fprintf(&b, "    source = [%q]\n", globEscape(a.Source))
		}
		fmt.Fprintf(&b, "    target = [%q]\n", globEscape(a.Target))
		if names := MountFlagNames(a.Flags); len(names) > 0 {
			fmt.Fprintf(&b, "    allow_flags = [%s]\n", quoteAll(names))
		}
		if a.Op == MountPropagation {
			return "", false // propagation kinds are not recorded; write those rules by hand
		}
		if len(a.Options) > 0 && (a.Op == MountNew || a.Op == MountRemount) {
			fmt.Fprintf(&b, "      [profile.rule.mount.options]\n")
			for _, o := range a.Options {
				// The exact value seen: a bound such as "<=4m" would grant
				// smaller sizes nobody asked for. Widen by hand if wanted.
				fmt.Fprintf(&b, "      %s = %q\n", o.Name, o.Value)
			}
		}
	case r.Umount != nil && r.Umount.Target != "":
		a := r.Umount
		fmt.Fprintf(&b, "  syscall = \"umount\"\n  action = \"emulate\"\n    [profile.rule.umount]\n    target = [%q]\n", globEscape(a.Target))
		if names := UmountFlagNames(a.Flags); len(names) > 0 {
			fmt.Fprintf(&b, "    flags = [%s]\n", quoteAll(names))
		}
	case r.Syscall == "gpio_open" && r.GPIO != nil && r.GPIO.Chip != "":
		fmt.Fprintf(&b, "  syscall = \"gpio_open\"\n  action = \"emulate\"\n    [profile.rule.gpio_open]\n    chip = [%q]\n",
			escapeGlob(r.GPIO.Chip))
	case r.Syscall == "gpio_line" && r.GPIO != nil && r.GPIO.Chip != "" && len(r.GPIO.Lines) > 0:
		a := r.GPIO
		if a.Flags&^GPIOFlagsKnown != 0 {
			return "", false // a flag no rule can name, so none can grant it
		}
		fmt.Fprintf(&b, "  syscall = \"gpio_line\"\n  action = \"emulate\"\n    [profile.rule.gpio_line]\n    chip = [%q]\n",
			escapeGlob(a.Chip))
		lines := slices.Clone(a.Lines)
		slices.Sort(lines)
		fmt.Fprintf(&b, "    lines = [%s]\n", joinUints(slices.Compact(lines)))
		if named := lineNames(a); named != "" {
			fmt.Fprintf(&b, "    # line names: %s\n", named)
		}
		// No flags key means GPIODefaultFlags, which covers a request for
		// none; otherwise exactly the flags asked for.
		if names := a.Flags.Names(); len(names) > 0 {
			fmt.Fprintf(&b, "    flags = [%s]\n", quoteAll(names))
		}
	default:
		return "", false
	}
	return b.String(), true
}

// lineNames lists "offset = name" for the named lines of a, for a comment
// that tells the reader which lines the offsets are.
func lineNames(a *GPIOArgs) string {
	var parts []string
	for i, off := range a.Lines {
		if i < len(a.Names) && a.Names[i] != "" {
			parts = append(parts, fmt.Sprintf("%d = %q", off, a.Names[i]))
		}
	}
	return strings.Join(parts, ", ")
}

// globEscape makes a path match only itself under path.Match.
func globEscape(p string) string { return path.Clean(escapeGlob(p)) }

// escapeGlob makes s match only itself under path.Match. Unlike
// globEscape it leaves s otherwise as is: a chip label is not a path.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func joinUints(u []uint32) string {
	s := make([]string, len(u))
	for i, v := range u {
		s[i] = strconv.FormatUint(uint64(v), 10)
	}
	return strings.Join(s, ", ")
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
