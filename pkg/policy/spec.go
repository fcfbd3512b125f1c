package policy

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// SchemaVersion is the policy file version this package reads natively.
// Older versions are upgraded by migrations before decoding.
const SchemaVersion = 1

// migrations[v] rewrites a decoded version-v document into version v+1 in
// place. Empty while only version 1 exists; when version 2 arrives, the
// version 1 reader becomes migrations[1] and old files keep loading.
var migrations = map[int64]func(doc map[string]any) error{}

// supportedVersions lists the versions Parse accepts: SchemaVersion and every
// version with an unbroken chain of migrations up to it.
func supportedVersions() []int64 {
	v := []int64{SchemaVersion}
	for old := int64(SchemaVersion - 1); migrations[old] != nil; old-- {
		v = append(v, old)
	}
	slices.Sort(v)
	return v
}

// Spec is one decoded policy file. Fields mirror the TOML keys; nothing is
// checked beyond types until Validate. Decoding is deterministic: the same
// bytes give an equal Spec.
type Spec struct {
	// File names the file in messages and rule ids; Parse sets it.
	File     string        `toml:"-"`
	Version  int64         `toml:"version"`
	Profiles []ProfileSpec `toml:"profile"`

	src []byte // source, for error positions and Set.Version; nil if built in Go
}

// ProfileSpec is one [[profile]] table.
type ProfileSpec struct {
	Name         string     `toml:"name"`
	Description  string     `toml:"description,omitempty"`
	DefaultErrno string     `toml:"default_errno,omitempty"`
	Mode         string     `toml:"mode,omitempty"`
	Match        *MatchSpec `toml:"match"` // nil when the table is missing
	Rules        []RuleSpec `toml:"rule"`
}

// MatchSpec is a [profile.match] table. Keys AND together, list values OR
// together. An empty list is kept as a non-nil empty slice so Validate can
// reject it.
type MatchSpec struct {
	Any         bool              `toml:"any,omitempty"`
	UID         []int64           `toml:"uid,omitempty"`
	GID         []int64           `toml:"gid,omitempty"`
	Exe         []string          `toml:"exe,omitempty"`
	Cgroup      []string          `toml:"cgroup,omitempty"`
	Metadata    []string          `toml:"metadata,omitempty"`
	ContainerID []string          `toml:"container_id,omitempty"`
	Annotations map[string]string `toml:"annotations,omitempty"`
}

// RuleSpec is one [[profile.rule]] table.
type RuleSpec struct {
	Name    string `toml:"name,omitempty"`
	Syscall string `toml:"syscall"`
	Action  string `toml:"action"`
	Errno   string `toml:"errno,omitempty"`
	// Argument conditions: at most one table, the one named by the
	// syscall.
	Mknod    *MknodSpec    `toml:"mknod,omitempty"`
	Mount    *MountSpec    `toml:"mount,omitempty"`
	Umount   *UmountSpec   `toml:"umount,omitempty"`
	GPIOOpen *GPIOOpenSpec `toml:"gpio_open,omitempty"`
	GPIOLine *GPIOLineSpec `toml:"gpio_line,omitempty"`
}

// MknodSpec holds the argument conditions of a mknod rule. All are optional;
// a nil or empty field is no condition.
type MknodSpec struct {
	Path    []string `toml:"path,omitempty"`
	Type    []string `toml:"type,omitempty"`
	Major   []Range  `toml:"major,omitempty"`
	Minor   []Range  `toml:"minor,omitempty"`
	ModeMax *int64   `toml:"mode_max,omitempty"`
}

// MountSpec holds the argument conditions of a mount rule. In emulate
// rules op defaults to ["new"], and force_flags, allow_flags and options
// are allowlists: a flag or option not listed is refused. In deny and
// continue rules every key is a condition only when written.
type MountSpec struct {
	Op          []string          `toml:"op,omitempty"`     // new, bind, rbind, remount, propagation, move
	FSType      []string          `toml:"fstype,omitempty"` // globs; op new
	Source      []string          `toml:"source,omitempty"` // globs; ops new, bind, rbind, move
	Target      []string          `toml:"target,omitempty"` // globs on the resolved target
	ForceFlags  []string          `toml:"force_flags,omitempty"`
	AllowFlags  []string          `toml:"allow_flags,omitempty"`
	Propagation []string          `toml:"propagation,omitempty"` // op propagation
	Options     map[string]string `toml:"options,omitempty"`     // name → constraint; ops new, remount
}

// UmountSpec holds the argument conditions of an umount rule. In emulate
// rules flags is an allowlist: a flag not listed is refused.
type UmountSpec struct {
	Target []string `toml:"target,omitempty"` // globs on the resolved target
	Flags  []string `toml:"flags,omitempty"`  // force, detach, expire, nofollow
}

// GPIOOpenSpec holds the argument conditions of a gpio_open rule: an
// open of a GPIO chip's character device.
type GPIOOpenSpec struct {
	Chip []string `toml:"chip,omitempty"` // globs on the chip label
}

// GPIOLineSpec holds the argument conditions of a gpio_line rule: a line
// request on a chip. Every requested line must be allowed by lines or
// names. In emulate rules flags is an allowlist even when absent: then it
// is GPIODefaultFlags. In deny and continue rules an absent key is no
// condition.
type GPIOLineSpec struct {
	Chip  []string `toml:"chip,omitempty"`  // globs on the chip label
	Lines []Range  `toml:"lines,omitempty"` // line offsets
	Names []string `toml:"names,omitempty"` // globs on line names
	Flags []string `toml:"flags,omitempty"` // allowed line flags (KnownGPIOFlags)
}

// Range is an inclusive range of numbers. In TOML it is an integer, or a
// string "N" or "LO-HI".
type Range struct{ Lo, Hi int64 }

func (r Range) String() string {
	if r.Lo == r.Hi {
		return strconv.FormatInt(r.Lo, 10)
	}
	return strconv.FormatInt(r.Lo, 10) + "-" + strconv.FormatInt(r.Hi, 10)
}

// MarshalTOML writes the range back the way it is written by hand.
func (r Range) MarshalTOML() ([]byte, error) {
	if r.Lo == r.Hi {
		return []byte(strconv.FormatInt(r.Lo, 10)), nil
	}
	return []byte(strconv.Quote(r.String())), nil
}

func parseRange(s string) (Range, bool) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, ok1 := parseDigits(lo)
	b, ok2 := parseDigits(hi)
	return Range{a, b}, ok1 && ok2
}

func parseDigits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Parse decodes one policy file strictly: syntax errors, wrong types and
// unknown keys are errors, each naming file:line:col and the key path.
// filename is used in messages and rule ids only. Parse does not Validate.
func Parse(filename string, data []byte) (*Spec, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		e := &Error{File: filename, Check: "syntax", Msg: err.Error(), Err: err}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			e.Line, e.Col = Position(data, pe.Position)
			e.Msg = pe.Message
		}
		return nil, e
	}
	if err := migrate(filename, doc); err != nil {
		placeErrors(data, []*Error{err})
		return nil, err
	}
	d := decoder{file: filename}
	s := &Spec{File: filename, src: bytes.Clone(data)}
	d.spec(doc, s)
	if len(d.errs) > 0 {
		placeErrors(data, d.errs)
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, joinErrors(d.errs)
	}
	return s, nil
}

// Position turns a TOML parse error's position into the line and column a
// person should look at. BurntSushi/toml v1.6 can put Line on the line
// after an error at the end of a line, while Start (a byte offset) is
// right; the offset wins when it is usable.
func Position(data []byte, p toml.Position) (line, col int) {
	if p.Start <= 0 || p.Start > len(data) {
		return p.Line, p.Col
	}
	line = 1 + bytes.Count(data[:p.Start], []byte{'\n'})
	return line, p.Start - (bytes.LastIndexByte(data[:p.Start], '\n') + 1) + 1
}

// migrate brings doc up to SchemaVersion.
func migrate(file string, doc map[string]any) *Error {
	e := &Error{File: file, Key: "version", Check: "version"}
	raw, ok := doc["version"]
	if !ok {
		e.Key = ""
		e.Msg = fmt.Sprintf("missing version; add version = %d as the first line", SchemaVersion)
		return e
	}
	v, ok := raw.(int64)
	if !ok {
		e.Msg = "want an integer, got " + tomlType(raw)
		return e
	}
	if !slices.Contains(supportedVersions(), v) {
		e.Msg = fmt.Sprintf("unsupported version %d (supported: %v)", v, supportedVersions())
		return e
	}
	for ; v < SchemaVersion; v++ {
		if err := migrations[v](doc); err != nil {
			e.Msg, e.Err = fmt.Sprintf("migrate from version %d: %v", v, err), err
			return e
		}
		doc["version"] = v + 1
	}
	return nil
}

// decoder turns the generic document into a Spec. Walking it by hand,
// rather than letting the TOML library fill a struct, gives every error a
// key path with array indices and lets locate find its position.
type decoder struct {
	file string
	errs []*Error
}

func (d *decoder) errorf(key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Key: key, Check: "decode", Msg: fmt.Sprintf(format, args...)})
}

type field struct {
	key    string
	decode func(key string, v any)
}

// table decodes the known fields of m and reports every other key.
func (d *decoder) table(path string, m map[string]any, fields ...field) {
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.key
		if v, ok := m[f.key]; ok {
			f.decode(joinKey(path, f.key), v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(known, k) {
			slices.Sort(known)
			d.errorf(joinKey(path, k), "unknown key (want one of: %s)", strings.Join(known, ", "))
		}
	}
}

func (d *decoder) spec(doc map[string]any, s *Spec) {
	d.table("", doc,
		field{"version", func(k string, v any) { s.Version = d.int(k, v) }},
		field{"profile", func(k string, v any) {
			for i, m := range d.tables(k, v) {
				var p ProfileSpec
				d.profile(indexKey(k, i), m, &p)
				s.Profiles = append(s.Profiles, p)
			}
		}},
	)
}

func (d *decoder) profile(path string, m map[string]any, p *ProfileSpec) {
	d.table(path, m,
		field{"name", func(k string, v any) { p.Name = d.str(k, v) }},
		field{"description", func(k string, v any) { p.Description = d.str(k, v) }},
		field{"default_errno", func(k string, v any) { p.DefaultErrno = d.str(k, v) }},
		field{"mode", func(k string, v any) { p.Mode = d.str(k, v) }},
		field{"match", func(k string, v any) {
			p.Match = &MatchSpec{}
			d.match(k, d.tableOf(k, v), p.Match)
		}},
		field{"rule", func(k string, v any) {
			for i, m := range d.tables(k, v) {
				var r RuleSpec
				d.rule(indexKey(k, i), m, &r)
				p.Rules = append(p.Rules, r)
			}
		}},
	)
}

func (d *decoder) match(path string, m map[string]any, ms *MatchSpec) {
	d.table(path, m,
		field{"any", func(k string, v any) { ms.Any = d.boolean(k, v) }},
		field{"uid", func(k string, v any) { ms.UID = d.ints(k, v) }},
		field{"gid", func(k string, v any) { ms.GID = d.ints(k, v) }},
		field{"exe", func(k string, v any) { ms.Exe = d.strs(k, v) }},
		field{"cgroup", func(k string, v any) { ms.Cgroup = d.strs(k, v) }},
		field{"metadata", func(k string, v any) { ms.Metadata = d.strs(k, v) }},
		field{"container_id", func(k string, v any) { ms.ContainerID = d.strs(k, v) }},
		field{"annotations", func(k string, v any) {
			t := d.tableOf(k, v)
			ms.Annotations = make(map[string]string, len(t))
			for name, val := range t {
				ms.Annotations[name] = d.str(joinKey(k, name), val)
			}
		}},
	)
}

func (d *decoder) rule(path string, m map[string]any, r *RuleSpec) {
	d.table(path, m,
		field{"name", func(k string, v any) { r.Name = d.str(k, v) }},
		field{"syscall", func(k string, v any) { r.Syscall = d.str(k, v) }},
		field{"action", func(k string, v any) { r.Action = d.str(k, v) }},
		field{"errno", func(k string, v any) { r.Errno = d.str(k, v) }},
		field{"mknod", func(k string, v any) {
			r.Mknod = &MknodSpec{}
			d.mknod(k, d.tableOf(k, v), r.Mknod)
		}},
		field{"mount", func(k string, v any) {
			r.Mount = &MountSpec{}
			d.mount(k, d.tableOf(k, v), r.Mount)
		}},
		field{"umount", func(k string, v any) {
			r.Umount = &UmountSpec{}
			d.umount(k, d.tableOf(k, v), r.Umount)
		}},
		field{"gpio_open", func(k string, v any) {
			r.GPIOOpen = &GPIOOpenSpec{}
			d.table(k, d.tableOf(k, v),
				field{"chip", func(k string, v any) { r.GPIOOpen.Chip = d.strs(k, v) }},
			)
		}},
		field{"gpio_line", func(k string, v any) {
			r.GPIOLine = &GPIOLineSpec{}
			d.gpioLine(k, d.tableOf(k, v), r.GPIOLine)
		}},
	)
}

func (d *decoder) mknod(path string, m map[string]any, a *MknodSpec) {
	d.table(path, m,
		field{"path", func(k string, v any) { a.Path = d.strs(k, v) }},
		field{"type", func(k string, v any) { a.Type = d.strs(k, v) }},
		field{"major", func(k string, v any) { a.Major = d.ranges(k, v) }},
		field{"minor", func(k string, v any) { a.Minor = d.ranges(k, v) }},
		field{"mode_max", func(k string, v any) {
			n := d.int(k, v)
			a.ModeMax = &n
		}},
	)
}

func (d *decoder) mount(path string, m map[string]any, a *MountSpec) {
	d.table(path, m,
		field{"op", func(k string, v any) { a.Op = d.strs(k, v) }},
		field{"fstype", func(k string, v any) { a.FSType = d.strs(k, v) }},
		field{"source", func(k string, v any) { a.Source = d.strs(k, v) }},
		field{"target", func(k string, v any) { a.Target = d.strs(k, v) }},
		field{"force_flags", func(k string, v any) { a.ForceFlags = d.strs(k, v) }},
		field{"allow_flags", func(k string, v any) { a.AllowFlags = d.strs(k, v) }},
		field{"propagation", func(k string, v any) { a.Propagation = d.strs(k, v) }},
		field{"options", func(k string, v any) {
			t := d.tableOf(k, v)
			a.Options = make(map[string]string, len(t))
			for name, val := range t {
				s, ok := val.(string)
				if !ok {
					d.wrongType(joinKey(k, name), `a string ("<=N", "a|b", "*" or "")`, val)
				}
				a.Options[name] = s
			}
		}},
	)
}

func (d *decoder) umount(path string, m map[string]any, a *UmountSpec) {
	d.table(path, m,
		field{"target", func(k string, v any) { a.Target = d.strs(k, v) }},
		field{"flags", func(k string, v any) { a.Flags = d.strs(k, v) }},
	)
}

func (d *decoder) gpioLine(path string, m map[string]any, a *GPIOLineSpec) {
	d.table(path, m,
		field{"chip", func(k string, v any) { a.Chip = d.strs(k, v) }},
		field{"lines", func(k string, v any) { a.Lines = d.ranges(k, v) }},
		field{"names", func(k string, v any) { a.Names = d.strs(k, v) }},
		field{"flags", func(k string, v any) { a.Flags = d.strs(k, v) }},
	)
}

func (d *decoder) wrongType(key, want string, v any) {
	d.errorf(key, "want %s, got %s", want, tomlType(v))
}

func (d *decoder) str(key string, v any) string {
	s, ok := v.(string)
	if !ok {
		d.wrongType(key, "a string", v)
	}
	return s
}

func (d *decoder) boolean(key string, v any) bool {
	b, ok := v.(bool)
	if !ok {
		d.wrongType(key, "a boolean", v)
	}
	return b
}

func (d *decoder) int(key string, v any) int64 {
	n, ok := v.(int64)
	if !ok {
		d.wrongType(key, "an integer", v)
	}
	return n
}

func (d *decoder) array(key string, v any) []any {
	a, ok := v.([]any)
	if !ok {
		d.wrongType(key, "an array", v)
	}
	return a
}

func (d *decoder) strs(key string, v any) []string {
	a := d.array(key, v)
	out := make([]string, 0, len(a))
	for i, e := range a {
		out = append(out, d.str(indexKey(key, i), e))
	}
	return out
}

func (d *decoder) ints(key string, v any) []int64 {
	a := d.array(key, v)
	out := make([]int64, 0, len(a))
	for i, e := range a {
		out = append(out, d.int(indexKey(key, i), e))
	}
	return out
}

func (d *decoder) ranges(key string, v any) []Range {
	a := d.array(key, v)
	out := make([]Range, 0, len(a))
	for i, e := range a {
		switch e := e.(type) {
		case int64:
			out = append(out, Range{e, e})
		case string:
			r, ok := parseRange(e)
			if !ok {
				d.errorf(indexKey(key, i), "bad range %q: want an integer or \"LO-HI\"", e)
			}
			out = append(out, r)
		default:
			d.wrongType(indexKey(key, i), `an integer or a "LO-HI" string`, e)
		}
	}
	return out
}

func (d *decoder) tableOf(key string, v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		d.wrongType(key, "a table", v)
	}
	return m
}

// tables accepts [[key]] sections and inline arrays of tables alike.
func (d *decoder) tables(key string, v any) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, 0, len(v))
		for i, e := range v {
			out = append(out, d.tableOf(indexKey(key, i), e))
		}
		return out
	}
	d.errorf(key, "want an array of tables ([[%s]]), got %s", lastSegment(key), tomlType(v))
	return nil
}

func lastSegment(key string) string {
	p := parentKey(key)
	if p == "" {
		return key
	}
	return key[len(p)+1:]
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a datetime"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	}
	return fmt.Sprintf("%T", v)
}
