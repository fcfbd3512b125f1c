package policy

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// MountOp is what a mount(2) call asks for, derived from its flags.
type MountOp uint8

// Mount operations; 0 means unknown and matches no rule that names an op.
// The caller derives the op from the flags the way the kernel's path_mount
// (fs/namespace.c) does: MS_REMOUNT first, then MS_BIND, then a propagation
// bit, then MS_MOVE, else a new mount.
const (
	MountNew         MountOp = iota + 1 // a new filesystem
	MountBind                           // MS_BIND (Recursive: MS_BIND|MS_REC)
	MountRemount                        // MS_REMOUNT (also MS_REMOUNT|MS_BIND: per-mount flags)
	MountPropagation                    // MS_SHARED|MS_PRIVATE|MS_SLAVE|MS_UNBINDABLE
	MountMove                           // MS_MOVE
)

var mountOpNames = [...]string{
	MountNew:         "new",
	MountBind:        "bind",
	MountRemount:     "remount",
	MountPropagation: "propagation",
	MountMove:        "move",
}

// String returns "new", "bind", "remount", "propagation" or "move".
func (o MountOp) String() string {
	if o != 0 && int(o) < len(mountOpNames) {
		return mountOpNames[o]
	}
	return "mountop(" + strconv.Itoa(int(o)) + ")"
}

// Linux MS_* values (include/uapi/linux/mount.h), as data: the policy stays
// portable.
const (
	MS_RDONLY      = 0x1
	MS_NOSUID      = 0x2
	MS_NODEV       = 0x4
	MS_NOEXEC      = 0x8
	MS_SYNCHRONOUS = 0x10
	MS_REMOUNT     = 0x20
	MS_MANDLOCK    = 0x40
	MS_DIRSYNC     = 0x80
	MS_NOSYMFOLLOW = 0x100
	MS_NOATIME     = 0x400
	MS_NODIRATIME  = 0x800
	MS_BIND        = 0x1000
	MS_MOVE        = 0x2000
	MS_REC         = 0x4000
	MS_SILENT      = 0x8000
	MS_UNBINDABLE  = 0x20000
	MS_PRIVATE     = 0x40000
	MS_SLAVE       = 0x80000
	MS_SHARED      = 0x100000
	MS_RELATIME    = 0x200000
	MS_STRICTATIME = 0x1000000
	MS_LAZYTIME    = 0x2000000
)

// umount2(2) flags (include/linux/fs.h).
const (
	MNT_FORCE       = 0x1
	MNT_DETACH      = 0x2
	MNT_EXPIRE      = 0x4
	UMOUNT_NOFOLLOW = 0x8
)

type namedBit struct {
	name string
	bit  uint64
}

// mountFlags are the attribute flags a rule may name, in bit order so
// that MountFlagNames is stable.
var mountFlags = []namedBit{
	{"ro", MS_RDONLY},
	{"nosuid", MS_NOSUID},
	{"nodev", MS_NODEV},
	{"noexec", MS_NOEXEC},
	{"sync", MS_SYNCHRONOUS},
	{"mand", MS_MANDLOCK},
	{"dirsync", MS_DIRSYNC},
	{"nosymfollow", MS_NOSYMFOLLOW},
	{"noatime", MS_NOATIME},
	{"nodiratime", MS_NODIRATIME},
	{"silent", MS_SILENT},
	{"relatime", MS_RELATIME},
	{"strictatime", MS_STRICTATIME},
	{"lazytime", MS_LAZYTIME},
}

var umountFlags = []namedBit{
	{"force", MNT_FORCE},
	{"detach", MNT_DETACH},
	{"expire", MNT_EXPIRE},
	{"nofollow", UMOUNT_NOFOLLOW},
}

var propagations = []namedBit{
	{"unbindable", MS_UNBINDABLE},
	{"private", MS_PRIVATE},
	{"slave", MS_SLAVE},
	{"shared", MS_SHARED},
}

func sortedNames(t []namedBit) []string {
	names := make([]string, len(t))
	for i, nb := range t {
		names[i] = nb.name
	}
	slices.Sort(names)
	return names
}

func lookupBit(t []namedBit, name string) (uint64, bool) {
	for _, nb := range t {
		if nb.name == name {
			return nb.bit, true
		}
	}
	return 0, false
}

func parseBits(t []namedBit, what string, names []string) (uint64, error) {
	var v uint64
	for _, name := range names {
		b, ok := lookupBit(t, name)
		if !ok {
			return 0, fmt.Errorf("unknown %s %q (want one of %v)", what, name, sortedNames(t))
		}
		v |= b
	}
	return v, nil
}

// bitNames names the set bits in table order; bits without a name come
// last as one hex number, so a record never hides what was asked.
func bitNames(t []namedBit, v uint64) []string {
	var names []string
	for _, nb := range t {
		if v&nb.bit != 0 {
			names = append(names, nb.name)
			v &^= nb.bit
		}
	}
	if v != 0 {
		names = append(names, "0x"+strconv.FormatUint(v, 16))
	}
	return names
}

// KnownMountFlags returns the mount attribute flag names rules may use
// (force_flags, allow_flags), sorted.
func KnownMountFlags() []string { return sortedNames(mountFlags) }

// ParseMountFlags returns the MS_* bits for flag names such as "nosuid".
func ParseMountFlags(names []string) (uint64, error) {
	return parseBits(mountFlags, "mount flag", names)
}

// MountFlagNames names the attribute flags in bits, in bit order, for
// decision records. Bits that are not attribute flags come last as one
// hex number ("0x1000").
func MountFlagNames(bits uint64) []string { return bitNames(mountFlags, bits) }

// KnownUmountFlags returns the umount2(2) flag names rules may use, sorted.
func KnownUmountFlags() []string { return sortedNames(umountFlags) }

// ParseUmountFlags returns the umount2(2) bits for flag names such as
// "detach".
func ParseUmountFlags(names []string) (uint32, error) {
	v, err := parseBits(umountFlags, "umount flag", names)
	return uint32(v), err
}

// UmountFlagNames names the umount2(2) flags in bits, like MountFlagNames.
func UmountFlagNames(bits uint32) []string { return bitNames(umountFlags, uint64(bits)) }

// KnownPropagations returns the propagation kinds rules may use, sorted.
func KnownPropagations() []string { return sortedNames(propagations) }

// propagationMask is every propagation bit.
const propagationMask = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE

// MountOption is one item of mount(2) data: name, or name=value.
type MountOption struct {
	Name, Value string
	HasValue    bool
}

// String returns the option as written in mount data.
func (o MountOption) String() string {
	if o.HasValue {
		return o.Name + "=" + o.Value
	}
	return o.Name
}

// ParseMountOptions splits mount(2) data as text: comma-separated
// name[=value]; empty items are skipped. Names are 1 or more of
// [a-zA-Z0-9_.-]. It is strict where the kernel's parsers differ: a NUL
// byte, or a double quote anywhere (LSM and NFS parsers let a quoted value
// hide a comma, which would make them see other options than the policy
// checked), is an error. An emulating handler should pass on exactly the
// options returned, not the raw data.
func ParseMountOptions(data string) ([]MountOption, error) {
	if strings.IndexByte(data, 0) >= 0 {
		return nil, errors.New("mount options: NUL byte")
	}
	if strings.IndexByte(data, '"') >= 0 {
		return nil, errors.New("mount options: quoted values are not supported")
	}
	var opts []MountOption
	for item := range strings.SplitSeq(data, ",") {
		if item == "" {
			continue
		}
		name, value, has := strings.Cut(item, "=")
		if !validOptionName(name) {
			return nil, fmt.Errorf("mount options: invalid option name %q: use 1 or more of [a-zA-Z0-9_.-]", name)
		}
		opts = append(opts, MountOption{Name: name, Value: value, HasValue: has})
	}
	return opts, nil
}

func validOptionName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// parseSize reads N with an optional k, m or g suffix (binary,
// case-insensitive), the way the kernel's memparse spells sizes. It is
// stricter than memparse: decimal only, no leading zeros (memparse reads
// them as octal), no t, p or e suffix and no '%'. It does not allocate.
func parseSize(s string) (uint64, bool) {
	shift := 0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift != 0 {
			s = s[:n-1]
		}
	}
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		hi, lo := bits.Mul64(v, 10)
		if hi != 0 || lo+uint64(c-'0') < lo {
			return 0, false
		}
		v = lo + uint64(c-'0')
	}
	if v > (1<<64-1)>>shift {
		return 0, false
	}
	return v << shift, true
}

// MountArgs are the decoded arguments of mount(2).
type MountArgs struct {
	Op        MountOp
	Recursive bool   // MS_REC with bind or propagation
	FSType    string // new mounts; "" otherwise
	// Source for new mounts is the source as given ("tmpfs", "none", or a
	// device path resolved in the caller's root); for bind and move, the
	// resolved absolute source path.
	Source string
	Target string // absolute, clean, resolved in the caller's root
	// Flags holds the requested attribute flags only (ro nosuid nodev
	// noexec sync dirsync nosymfollow noatime nodiratime relatime
	// strictatime lazytime silent mand); the caller removes the op,
	// propagation and MS_REC bits (and the MS_MGC_VAL magic).
	Flags uint64
	// Propagation is, for MountPropagation, the one MS_SHARED, MS_PRIVATE,
	// MS_SLAVE or MS_UNBINDABLE bit.
	Propagation uint64
	Options     []MountOption // data, parsed (new and remount)
}

// UmountArgs are the decoded arguments of umount2(2) or umount(2).
type UmountArgs struct {
	Target string // absolute, clean, resolved in the caller's root
	Flags  uint32 // MNT_FORCE|MNT_DETACH|MNT_EXPIRE|UMOUNT_NOFOLLOW
}

// Op bits of a compiled mount rule. "bind" and "rbind" are separate so a
// rule can grant one without the other.
const (
	opNew uint8 = 1 << iota
	opBind
	opRBind
	opRemount
	opPropagation
	opMove

	opAll    = opNew | opBind | opRBind | opRemount | opPropagation | opMove
	opSource = opNew | opBind | opRBind | opMove // ops that read source
	opPath   = opBind | opRBind | opMove         // ops whose source is a path
	opData   = opNew | opRemount                 // ops that read data
)

// ruleOpNames are the op spellings of a rule, in bit order.
var ruleOpNames = []string{"new", "bind", "rbind", "remount", "propagation", "move"}

func parseRuleOp(name string) (uint8, bool) {
	i := slices.Index(ruleOpNames, name)
	if i < 0 {
		return 0, false
	}
	return 1 << i, true
}

func knownRuleOps() []string {
	names := slices.Clone(ruleOpNames)
	slices.Sort(names)
	return names
}

func ruleOpList(ops uint8) string {
	var names []string
	for i, name := range ruleOpNames {
		if ops&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return "[" + strings.Join(names, " ") + "]"
}

// opBit maps a request's op to its rule bit; 0 for an unknown op.
func opBit(a *MountArgs) uint8 {
	switch a.Op {
	case MountNew:
		return opNew
	case MountBind:
		if a.Recursive {
			return opRBind
		}
		return opBind
	case MountRemount:
		return opRemount
	case MountPropagation:
		return opPropagation
	case MountMove:
		return opMove
	}
	return 0
}

// optKind is the kind of a [mount.options] constraint.
type optKind uint8

const (
	optFlag  optKind = iota // "": only without a value
	optAny                  // "*": anything
	optOneOf                // "a|b|c": one of, exactly
	optMax                  // "<=N[kmg]": a size from 1 to N
)

type optionCond struct {
	name  string
	kind  optKind
	oneOf []string
	max   uint64
}

// parseOptionCond reads a constraint as written in [mount.options].
func parseOptionCond(name, s string) (optionCond, error) {
	c := optionCond{name: name}
	switch {
	case s == "":
		c.kind = optFlag
	case s == "*":
		c.kind = optAny
	case strings.HasPrefix(s, "<="):
		n, ok := parseSize(s[2:])
		if !ok || n == 0 {
			return c, fmt.Errorf(`bad bound %q: want "<=N" with N a positive decimal number and an optional k, m or g suffix`, s)
		}
		c.kind, c.max = optMax, n
	default:
		c.kind = optOneOf
		for alt := range strings.SplitSeq(s, "|") {
			if alt == "" || strings.ContainsAny(alt, "*,\"\x00") || strings.HasPrefix(alt, "<=") {
				return c, fmt.Errorf(`bad alternatives %q: want values separated by "|", none empty and none with '*', ',', '"' or a leading "<="; "*" and "<=N" stand alone`, s)
			}
			c.oneOf = append(c.oneOf, alt)
		}
	}
	return c, nil
}

// allows reports whether o satisfies the constraint. A bound is never
// satisfied by 0: tmpfs and others read size=0 and nr_inodes=0 as
// "unlimited".
func (c *optionCond) allows(o *MountOption) bool {
	switch c.kind {
	case optFlag:
		return !o.HasValue
	case optAny:
		return true
	case optOneOf:
		return o.HasValue && slices.Contains(c.oneOf, o.Value)
	case optMax:
		if !o.HasValue {
			return false
		}
		n, ok := parseSize(o.Value)
		return ok && n > 0 && n <= c.max
	}
	return false
}
