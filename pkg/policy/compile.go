package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Identity is who the caller is, established by the daemon from the kernel.
type Identity struct {
	UID, GID uint32
	Exe      string // executable path (readlink /proc/PID/exe); may be ""
	Cgroup   string // cgroup v2 path such as "/system.slice/foo.service"; may be ""

	// Trusted is set when the fields below came from a trusted runtime peer.
	// When false they are ignored: a match that needs them fails.
	Trusted     bool
	Metadata    string // OCI listenerMetadata
	ContainerID string
	Annotations map[string]string
}

// MknodArgs are the decoded arguments of mknod(2) or mknodat(2).
type MknodArgs struct {
	Path         string // absolute, cleaned, resolved in the caller's root
	Type         FileType
	Major, Minor uint32
	Mode         uint32 // requested permission bits (07777 part), before umask
}

// Request is one intercepted call as the policy sees it.
// The argument field for Syscall is nil when the caller did not read the
// arguments (see NeedsArgs); the others are ignored.
type Request struct {
	Syscall string // canonical name, e.g. "mknod"
	Mknod   *MknodArgs
	Mount   *MountArgs
	Umount  *UmountArgs
	GPIO    *GPIOArgs // gpio_open and gpio_line
}

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	Errno  Errno // set when Action is ActionDeny, never 0 then
	// ForceFlags are MS_* attribute bits an emulating handler must add to
	// the mount (from the rule's force_flags, also on remount); 0 unless
	// Action is ActionEmulate.
	ForceFlags uint64
	// Learn marks a refusal by a learn-mode profile: its record is what
	// `fgacd policy suggest` turns into rules.
	Learn   bool
	Profile string // profile that decided; "" if none matched the caller
	Rule    string // rule name, or "file:profile/rule[i]"; "" when the default decided
	Reason  string // short and static, for decision records
}

// Reasons are constants so Decide does not allocate.
const (
	reasonNoProfile      = "no profile matches the caller"
	reasonNoRule         = "no rule matched"
	reasonArgsNotRead    = "no rule matched: rules need arguments that were not read"
	reasonUnknownSyscall = "syscall not covered by the policy"
	reasonRule           = "rule matched"
	reasonLearn          = "learn mode: recorded, not granted"
)

// Set is a compiled, immutable group of profiles, safe for concurrent use.
type Set struct {
	profiles []*Profile
	byName   map[string]*Profile
	version  string
}

// Profile is one compiled profile.
type Profile struct {
	name      string
	match     matcher
	rules     map[string][]rule // by syscall, in file order
	needsArgs map[string]bool
	fallback  Decision
	// learn: grant nothing beyond the rules, but read every call's
	// arguments so that its record shows what the caller asked for.
	learn bool
}

type rule struct {
	decision Decision // returned as is when the rule matches
	args     argCond  // nil: no argument conditions
}

// argCond is a rule's argument conditions for one syscall.
type argCond interface {
	// holds reports whether req satisfies the conditions; read is false
	// when req lacks the arguments, so the conditions cannot hold.
	holds(req Request) (ok, read bool)
	// holdsByName is holds for a request whose path is known only by its
	// last component: decided is false when the answer depends on the
	// rest of the path.
	holdsByName(req Request, name string) (ok, decided bool)
}

// Compile validates the specs and builds a Set. Profiles are selected in
// the order given: specs in order, then profiles in file order.
func Compile(specs ...*Spec) (*Set, error) {
	if len(specs) == 0 {
		return nil, errors.New("compile policy: no specs")
	}
	var errs []error
	for i, s := range specs {
		if s == nil {
			errs = append(errs, fmt.Errorf("compile policy: spec %d is nil", i))
			continue
		}
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := checkAcross(specs); err != nil {
		return nil, err
	}

	set := &Set{byName: map[string]*Profile{}, version: version(specs)}
	for _, s := range specs {
		for i := range s.Profiles {
			p := compileProfile(s, &s.Profiles[i])
			set.profiles = append(set.profiles, p)
			set.byName[p.name] = p
		}
	}
	return set, nil
}

// checkAcross finds what single files cannot show: a profile name defined
// twice, or a profile hidden behind a catch-all from an earlier file.
func checkAcross(specs []*Spec) error {
	type where struct {
		file string
		key  string
	}
	var errs []*Error
	names := map[string]where{}
	var catchAll *ProfileSpec
	var catchAllFile string
	for _, s := range specs {
		var fileErrs []*Error
		for i, p := range s.Profiles {
			k := profileKey(i)
			if prev, dup := names[p.Name]; dup {
				fileErrs = append(fileErrs, &Error{File: s.File, Key: k + ".name", Check: "unique",
					Msg: fmt.Sprintf("profile %q is already defined in %s at %s", p.Name, prev.file, prev.key)})
			} else {
				names[p.Name] = where{s.File, k}
			}
			if catchAll != nil {
				fileErrs = append(fileErrs, &Error{File: s.File, Key: k, Check: "reachable",
					Msg: fmt.Sprintf("profile %q can never be selected: profile %q in %s matches every caller and is loaded first; load catch-all profiles last or alone",
						p.Name, catchAll.Name, catchAllFile)})
			}
		}
		for i := range s.Profiles {
			if catchAll == nil && s.Profiles[i].Match.Any {
				catchAll, catchAllFile = &s.Profiles[i], s.File
			}
		}
		placeErrors(s.src, fileErrs)
		errs = append(errs, fileErrs...)
	}
	return joinErrors(errs)
}

// version hashes what was loaded: file names and bytes, or for specs built
// in Go, their JSON form.
func version(specs []*Spec) string {
	h := sha256.New()
	for _, s := range specs {
		h.Write([]byte(filepath.Base(s.File)))
		h.Write([]byte{0})
		if s.src != nil {
			h.Write(s.src)
		} else {
			b, _ := json.Marshal(s) // plain data; cannot fail
			h.Write(b)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func compileProfile(s *Spec, ps *ProfileSpec) *Profile {
	p := &Profile{
		name:      ps.Name,
		match:     compileMatch(ps.Match),
		rules:     map[string][]rule{},
		needsArgs: map[string]bool{},
	}
	errno := EPERM
	if ps.DefaultErrno != "" {
		errno, _ = ParseErrno(ps.DefaultErrno) // validated
	}
	p.fallback = Decision{Action: ActionDeny, Errno: errno, Profile: ps.Name, Reason: reasonNoRule}
	if ps.Mode == "learn" {
		p.learn = true
		p.fallback.Learn = true
		p.fallback.Reason = reasonLearn
	}
	file := filepath.Base(s.File)
	for j, rs := range ps.Rules {
		id := rs.Name
		if id == "" {
			id = ps.Name + "/rule[" + strconv.Itoa(j) + "]"
			if s.File != "" {
				id = file + ":" + id
			}
		}
		action, _ := parseAction(rs.Action) // validated
		r := rule{decision: Decision{Action: action, Profile: ps.Name, Rule: id, Reason: reasonRule}}
		if action == ActionDeny {
			r.decision.Errno = EPERM
			if rs.Errno != "" {
				r.decision.Errno, _ = ParseErrno(rs.Errno)
			}
		}
		// Validate admits only the table named by the syscall.
		switch {
		case rs.Mknod != nil:
			r.args = compileMknod(rs.Mknod)
		case rs.Mount != nil:
			r.args = compileMount(rs.Mount, action)
			if action == ActionEmulate {
				r.decision.ForceFlags, _ = ParseMountFlags(rs.Mount.ForceFlags) // validated
			}
		case rs.Umount != nil:
			r.args = compileUmount(rs.Umount, action)
		case rs.GPIOOpen != nil:
			r.args = compileGPIOOpen(rs.GPIOOpen)
		case rs.GPIOLine != nil:
			r.args = compileGPIOLine(rs.GPIOLine, action)
		}
		if r.args != nil {
			p.needsArgs[rs.Syscall] = true
		}
		p.rules[rs.Syscall] = append(p.rules[rs.Syscall], r)
	}
	return p
}

// Select returns the first profile, in load order, whose match holds for
// id, or nil if none does. A nil Set selects nothing.
func (s *Set) Select(id Identity) *Profile {
	if s == nil {
		return nil
	}
	for _, p := range s.profiles {
		if p.match.matches(&id) {
			return p
		}
	}
	return nil
}

// Profiles returns the profile names in selection order.
func (s *Set) Profiles() []string {
	if s == nil {
		return nil
	}
	names := make([]string, len(s.profiles))
	for i, p := range s.profiles {
		names[i] = p.name
	}
	return names
}

// Profile returns the named profile, or nil if there is none.
func (s *Set) Profile(name string) *Profile {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// Version is a short content hash of the loaded files (12 hex digits of
// SHA-256 over names and bytes), for naming the policy in decision records.
func (s *Set) Version() string {
	if s == nil {
		return ""
	}
	return s.version
}

// Name returns the profile name; "" for a nil profile.
func (p *Profile) Name() string {
	if p == nil {
		return ""
	}
	return p.name
}

// NeedsArgs reports whether a rule for syscall has argument conditions, so
// the caller must read the arguments from the tracee before Decide.
func (p *Profile) NeedsArgs(syscall string) bool {
	if p == nil {
		return false
	}
	return p.learn || p.needsArgs[syscall]
}

// Learning reports whether the profile is in learn mode.
func (p *Profile) Learning() bool { return p != nil && p.learn }

// Decide returns the first matching rule's decision, or the profile's
// default (deny with default_errno). A nil profile denies with EPERM. Decide
// is pure and does not allocate.
func (p *Profile) Decide(req Request) Decision {
	if p == nil {
		return Decision{Action: ActionDeny, Errno: EPERM, Reason: reasonNoProfile}
	}
	if _, ok := syscalls[req.Syscall]; !ok {
		d := p.fallback
		d.Reason = reasonUnknownSyscall
		return d
	}
	unread := false
	for i := range p.rules[req.Syscall] {
		r := &p.rules[req.Syscall][i]
		if r.args != nil {
			ok, read := r.args.holds(req)
			unread = unread || !read
			if !ok {
				continue
			}
		}
		return r.decision
	}
	if unread {
		d := p.fallback
		d.Reason = reasonArgsNotRead
		return d
	}
	return p.fallback
}

// DecideByName decides a call before its path is resolved, from the
// scalar arguments and the path's last component, which resolution never
// changes (mknod does not follow it). decided is false when the answer
// depends on where the rest of the path resolves; the caller then resolves
// it and calls Decide. When decided, the result equals what Decide would
// return for any path ending in name, so skipping resolution is safe.
// Pure and allocation-free.
func (p *Profile) DecideByName(req Request, name string) (d Decision, decided bool) {
	if p != nil && p.learn {
		return Decision{}, false // learn mode records the resolved path
	}
	if p == nil || name == "" || name == "." || name == ".." {
		return p.Decide(req), p == nil
	}
	if _, ok := syscalls[req.Syscall]; !ok {
		return p.Decide(req), true
	}
	for i := range p.rules[req.Syscall] {
		r := &p.rules[req.Syscall][i]
		if r.args != nil {
			ok, decided := r.args.holdsByName(req, name)
			if !decided {
				return Decision{}, false
			}
			if !ok {
				continue
			}
		}
		return r.decision, true
	}
	return p.fallback, true
}

type matcher struct {
	any         bool
	uids, gids  []uint32
	exe, cgroup []string
	// Trusted-only fields.
	metadata, containerID []string
	annotations           []annotationCond
	needsTrusted          bool
}

type annotationCond struct{ name, pattern string }

func compileMatch(m *MatchSpec) matcher {
	ids := func(in []int64) []uint32 {
		out := make([]uint32, len(in))
		for i, v := range in {
			out[i] = uint32(v) // validated range
		}
		return out
	}
	c := matcher{
		any:         m.Any,
		uids:        ids(m.UID),
		gids:        ids(m.GID),
		exe:         slices.Clone(m.Exe),
		cgroup:      slices.Clone(m.Cgroup),
		metadata:    slices.Clone(m.Metadata),
		containerID: slices.Clone(m.ContainerID),
	}
	for _, name := range slices.Sorted(maps.Keys(m.Annotations)) {
		c.annotations = append(c.annotations, annotationCond{name, m.Annotations[name]})
	}
	c.needsTrusted = len(c.metadata) > 0 || len(c.containerID) > 0 || len(c.annotations) > 0
	return c
}

func (m *matcher) matches(id *Identity) bool {
	if m.any {
		return true
	}
	if m.needsTrusted && !id.Trusted {
		return false
	}
	if len(m.uids) > 0 && !slices.Contains(m.uids, id.UID) {
		return false
	}
	if len(m.gids) > 0 && !slices.Contains(m.gids, id.GID) {
		return false
	}
	if !globsMatch(m.exe, id.Exe) || !globsMatch(m.cgroup, id.Cgroup) ||
		!globsMatch(m.metadata, id.Metadata) || !globsMatch(m.containerID, id.ContainerID) {
		return false
	}
	for _, a := range m.annotations {
		v, ok := id.Annotations[a.name]
		if !ok {
			return false
		}
		if ok, _ := path.Match(a.pattern, v); !ok {
			return false
		}
	}
	return true
}

// GlobsMatch reports whether a rule's glob list (chip labels, exe, …)
// matches s as a decision would match it, for tools that judge a policy
// against the machine (fgacd check).
func GlobsMatch(patterns []string, s string) bool { return globsMatch(patterns, s) }

// globsMatch reports whether any pattern matches s; no patterns means no
// condition. An empty s never matches, so an unknown exe fails closed.
func globsMatch(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	if s == "" {
		return false
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

type mknodCond struct {
	paths        []string
	types        uint8 // bit per FileType; 0: any
	major, minor []Range
	modeMax      int64 // -1: no condition
}

func compileMknod(m *MknodSpec) *mknodCond {
	// Copies, so that editing the Spec later cannot change the Set.
	c := &mknodCond{paths: slices.Clone(m.Path), major: slices.Clone(m.Major), minor: slices.Clone(m.Minor), modeMax: -1}
	for _, name := range m.Type {
		t, _ := ParseFileType(name) // validated
		c.types |= 1 << t
	}
	if m.ModeMax != nil {
		c.modeMax = *m.ModeMax
	}
	return c
}

func (c *mknodCond) holds(req Request) (ok, read bool) {
	a := req.Mknod
	if a == nil {
		return false, false
	}
	if len(c.paths) > 0 {
		// The daemon promises a clean absolute path; if it is not, a glob
		// such as /tmp/* could match /tmp/.., so fail closed.
		if a.Path == "" || a.Path[0] != '/' || path.Clean(a.Path) != a.Path || !globsMatch(c.paths, a.Path) {
			return false, true
		}
	}
	if c.types != 0 && (a.Type >= 8 || c.types&(1<<a.Type) == 0) {
		return false, true
	}
	if !inRanges(c.major, a.Major) || !inRanges(c.minor, a.Minor) {
		return false, true
	}
	if c.modeMax >= 0 && int64(a.Mode)&^c.modeMax != 0 {
		return false, true
	}
	return true, true
}

func (c *mknodCond) holdsByName(req Request, name string) (ok, decided bool) {
	a := req.Mknod
	if a == nil {
		return false, false
	}
	if c.types != 0 && (a.Type >= 8 || c.types&(1<<a.Type) == 0) {
		return false, true
	}
	if !inRanges(c.major, a.Major) || !inRanges(c.minor, a.Minor) {
		return false, true
	}
	if c.modeMax >= 0 && int64(a.Mode)&^c.modeMax != 0 {
		return false, true
	}
	if len(c.paths) == 0 {
		return true, true
	}
	for _, g := range c.paths {
		// A glob's last segment can only match a path ending in name if
		// it matches name itself ("*" does not cross "/").
		last := g[strings.LastIndexByte(g, '/')+1:]
		if ok, _ := path.Match(last, name); ok {
			return false, false
		}
	}
	return false, true
}

func inRanges(rs []Range, v uint32) bool {
	if len(rs) == 0 {
		return true
	}
	for _, r := range rs {
		if int64(v) >= r.Lo && int64(v) <= r.Hi {
			return true
		}
	}
	return false
}

// cleanAbs reports whether p is an absolute, clean path. Callers promise
// such paths; when one is not, a glob such as /tmp/* could match /tmp/..,
// so conditions on it fail closed.
func cleanAbs(p string) bool {
	return p != "" && p[0] == '/' && path.Clean(p) == p
}

// mountCond is a compiled [mount] table. Conditions on source, fstype,
// options and propagation apply only to the ops that read them.
type mountCond struct {
	ops                    uint8 // op bits the rule covers
	fstype, source, target []string
	checkFlags             bool   // flags must be within allowed
	allowed                uint64 // allow_flags ∪ force_flags
	propagation            uint64 // allowed propagation bits; 0: no condition
	checkOptions           bool   // every option must be listed in options
	options                []optionCond
}

// compileMount builds the condition. In emulate rules the allowlists hold
// even when absent (no flag, no option); in deny and continue rules an
// absent key is no condition, so a deny cannot be sidestepped by asking
// for one more flag.
func compileMount(m *MountSpec, action Action) *mountCond {
	emulate := action == ActionEmulate
	c := &mountCond{
		ops:          ruleOps(action.String(), m),
		fstype:       slices.Clone(m.FSType),
		source:       slices.Clone(m.Source),
		target:       slices.Clone(m.Target),
		checkFlags:   emulate || m.AllowFlags != nil || m.ForceFlags != nil,
		checkOptions: emulate || m.Options != nil,
	}
	force, _ := ParseMountFlags(m.ForceFlags) // validated
	allow, _ := ParseMountFlags(m.AllowFlags)
	c.allowed = force | allow
	c.propagation, _ = parseBits(propagations, "propagation", m.Propagation)
	for _, name := range slices.Sorted(maps.Keys(m.Options)) {
		oc, _ := parseOptionCond(name, m.Options[name]) // validated
		c.options = append(c.options, oc)
	}
	return c
}

func (c *mountCond) holds(req Request) (ok, read bool) {
	a := req.Mount
	if a == nil {
		return false, false
	}
	op := opBit(a)
	if c.ops&op == 0 {
		return false, true
	}
	if len(c.target) > 0 && (!cleanAbs(a.Target) || !globsMatch(c.target, a.Target)) {
		return false, true
	}
	if op&opNew != 0 && !globsMatch(c.fstype, a.FSType) {
		return false, true
	}
	if op&opSource != 0 && len(c.source) > 0 {
		// A bind or move source is a path; a new mount's source may be a
		// name ("tmpfs"), but if it is a path it must be clean too.
		isPath := op&opPath != 0 || a.Source != "" && a.Source[0] == '/'
		if isPath && !cleanAbs(a.Source) {
			return false, true
		}
		if !globsMatch(c.source, a.Source) {
			return false, true
		}
	}
	if c.checkFlags && a.Flags&^c.allowed != 0 {
		return false, true
	}
	if op == opPropagation && c.propagation != 0 {
		p := a.Propagation
		if p == 0 || p&(p-1) != 0 || p&^c.propagation != 0 {
			return false, true
		}
	}
	if op&opData != 0 && c.checkOptions {
		for i := range a.Options {
			if !c.allowsOption(&a.Options[i]) {
				return false, true
			}
		}
	}
	return true, true
}

func (c *mountCond) allowsOption(o *MountOption) bool {
	for i := range c.options {
		if c.options[i].name == o.Name {
			return c.options[i].allows(o)
		}
	}
	return false
}

// holdsByName never decides: mount follows the target's last component,
// so the name alone says nothing about where the mount lands.
func (c *mountCond) holdsByName(Request, string) (ok, decided bool) { return false, false }

// umountCond is a compiled [umount] table.
type umountCond struct {
	target     []string
	checkFlags bool // flags must be within allowed
	allowed    uint32
}

func compileUmount(u *UmountSpec, action Action) *umountCond {
	c := &umountCond{target: slices.Clone(u.Target), checkFlags: action == ActionEmulate || u.Flags != nil}
	c.allowed, _ = ParseUmountFlags(u.Flags) // validated
	return c
}

func (c *umountCond) holds(req Request) (ok, read bool) {
	a := req.Umount
	if a == nil {
		return false, false
	}
	if len(c.target) > 0 && (!cleanAbs(a.Target) || !globsMatch(c.target, a.Target)) {
		return false, true
	}
	if c.checkFlags && a.Flags&^c.allowed != 0 {
		return false, true
	}
	return true, true
}

// holdsByName never decides: see mountCond.holdsByName.
func (c *umountCond) holdsByName(Request, string) (ok, decided bool) { return false, false }
