// Package dispatch is the per-notification pipeline: it implements
// notify.Opener, picks each session's policy profile from its identity, and
// for every notification checks the arch, finds the handler, decides (with
// or without reading arguments, as the profile needs), lets the handler
// emulate, and turns the outcome into the answer.
//
// It is the one place that logs decisions (one record per notification;
// denies are never sampled) and observes decision metrics.
//
// It holds no fds: sessions own their listeners, handlers their scratch fds.
package dispatch

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/metrics"
	"github.com/fgacd/fgacd/internal/nsexec"
	"github.com/fgacd/fgacd/pkg/handlers"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
)

// Dispatcher serves every session of a daemon.
type Dispatcher struct {
	set      atomic.Pointer[policy.Set]
	handlers *handlers.Handlers
	log      *zap.Logger
	metrics  *metrics.Metrics
	bySys    map[string]*metrics.Syscall
	unknown  *metrics.Syscall
	noAddfd  sync.Once // logs once that GPIO grants are refused here
}

// New returns a Dispatcher deciding by set.
func New(set *policy.Set, h *handlers.Handlers, log *zap.Logger, m *metrics.Metrics) *Dispatcher {
	if log == nil {
		log = zap.NewNop()
	}
	d := &Dispatcher{handlers: h, log: log, metrics: m, bySys: map[string]*metrics.Syscall{}}
	d.set.Store(set)
	for _, n := range handlers.Names() {
		d.bySys[n] = m.ForSyscall(n)
	}
	d.unknown = m.ForSyscall("other")
	return d
}

// SetPolicy swaps the policy. New sessions select their profile from it;
// running sessions pick theirs up by name at their next notification.
func (d *Dispatcher) SetPolicy(set *policy.Set) { d.set.Store(set) }

// Policy returns the current policy.
func (d *Dispatcher) Policy() *policy.Set { return d.set.Load() }

// Open picks the session's profile. A session whose identity matches no
// profile is still served, denying everything with EPERM.
func (d *Dispatcher) Open(s *notify.Session) notify.Handler {
	set := d.set.Load()
	id := &s.Identity
	var p *policy.Profile
	if !id.Unknown { // an adopted listener without its record: deny-only
		p = set.Select(policy.Identity{
			UID: id.UID, GID: id.GID, Exe: id.Exe, Cgroup: id.Cgroup,
			Trusted: id.Trusted, Metadata: id.Metadata, ContainerID: id.ContainerID, Annotations: id.Annotations,
		})
	}
	log := s.Log
	if log == nil {
		log = d.log
	}
	// One logger per session (the session's own): the profile goes into
	// each record instead of a second With, which would cost every idle
	// session another encoder.
	if p == nil {
		d.metrics.SessionUnmatched()
		log.Warn("no policy profile matches this caller; every brokered call gets EPERM",
			zap.String("policy_version", set.Version()))
	} else {
		log.Info("profile selected", zap.String("profile", p.Name()), zap.String("policy_version", set.Version()))
	}
	s.SetProfile(p.Name())
	return &session{d: d, set: set, profile: p, name: p.Name(), log: log, version: set.Version()}
}

// session is the per-session handler state; reused for every notification
// so the steady state allocates nothing.
type session struct {
	d       *Dispatcher
	set     *policy.Set // the policy the profile came from
	profile *policy.Profile
	name    string // the profile's name, kept across reloads
	version string // set's version, for records
	log     *zap.Logger
	call    handlers.Call
	out     handlers.Outcome
	last    lastEmulation
	// buf is allocated on the session's first path read: sessions that
	// never send one (most idle listeners) do not pay 4 KiB each.
	buf *handlers.PathBuf
	// local runs emulations on the session's own thread (made on first use).
	local *nsexec.Local
}

// lastEmulation is the session's latest emulation whose answer SEND
// accepted. Without WAIT_KILLABLE_RECV the kernel can still restart that
// call: a signal that wakes the caller just before SEND takes the notify
// lock makes the caller ignore the reply (kernel/seccomp.c does not look at
// the reply after an interrupted wait). The restarted call then arrives as
// a new notification with the same thread, number, instruction pointer and
// arguments, while the effect is still in place: answering it 0 instead of
// acting again is what the caller would have seen.
type lastEmulation struct {
	tid      int
	nr       int32
	arch     uint32
	ip       uint64
	args     [6]uint64
	effect   handlers.Effect
	decision policy.Decision
	req      policy.Request
	mknod    policy.MknodArgs // Request.Mknod's copy: the original lives in the reused Outcome
	gpio     policy.GPIOArgs  // Request.GPIO's copy, likewise
}

func (l *lastEmulation) release() {
	if l.effect != nil {
		l.effect.Release()
	}
	*l = lastEmulation{}
}

func (l *lastEmulation) restartOf(req *notify.Request) bool {
	return l.effect != nil && l.tid == req.Pid && l.nr == req.Nr && l.arch == req.Arch &&
		l.ip == req.IP && l.args == req.Args && l.effect.Intact()
}

// reload picks the session's profile up by name from a new policy: one
// notification is decided wholly by one policy (the swap is an atomic
// pointer, read once per notification). A profile that is gone leaves the
// session deny-only.
func (ss *session) reload(set *policy.Set) {
	ss.set, ss.version = set, set.Version()
	if ss.name == "" {
		return // matched nothing at start: identity does not change
	}
	ss.profile = set.Profile(ss.name)
	if ss.profile == nil {
		ss.log.Warn("profile gone after policy reload; this session now gets EPERM for everything",
			zap.String("profile", ss.name), zap.String("policy_version", ss.version))
	}
}

func (ss *session) Close() {
	ss.last.release()
	if ss.local != nil {
		ss.local.Close()
	}
}

// Handle answers one notification.
func (ss *session) Handle(s *notify.Session, req *notify.Request, resp *notify.Response) {
	start := time.Now()
	if set := ss.d.set.Load(); set != ss.set {
		ss.reload(set)
	}
	out := &ss.out
	out.Reset()
	e := handlers.Lookup(req.Arch, req.Nr)
	if e == nil {
		// Not ours, or an arch we do not know: fail closed.
		out.Decision = ss.profile.Decide(policy.Request{})
		out.Decided = true
		out.Errno = linux.Errno(out.Decision.Errno)
		ss.finish(s, req, nil, resp, start)
		return
	}
	if ss.last.restartOf(req) {
		last := ss.last
		ss.last = lastEmulation{}
		out.Decided, out.Decision, out.Effect = true, last.decision, last.effect
		out.Decision.Reason = "restart of a call already emulated"
		out.Request = last.req
		if last.req.Mknod != nil {
			out.Request.Mknod = &last.mknod
		}
		if last.req.GPIO != nil {
			out.Request.GPIO = &last.gpio
		}
		ss.finish(s, req, e, resp, start)
		return
	}
	ss.last.release()
	if ss.buf == nil {
		ss.buf = new(handlers.PathBuf)
		ss.local = ss.d.handlers.NewLocal()
	}
	ss.call = handlers.Call{Req: req, Valid: s, Profile: ss.profile, Buf: ss.buf, Local: ss.local}
	if !e.Screens() && !ss.profile.NeedsArgs(e.Name) {
		out.Decision = ss.profile.Decide(policy.Request{Syscall: e.Name})
		out.Decided = true
		if out.Settle(nil) {
			// Emulation needs the arguments whatever the rule says.
			out.Reset()
			ss.d.handlers.Handle(e, &ss.call, out)
		}
	} else {
		ss.d.handlers.Handle(e, &ss.call, out)
	}
	ss.finish(s, req, e, resp, start)
}

func (ss *session) finish(s *notify.Session, req *notify.Request, e *handlers.Entry, resp *notify.Response, start time.Time) {
	out := &ss.out
	// The decision label says what the policy decided; an emulated call
	// that failed as a native one would (EEXIST…) is still "emulate".
	decision := metrics.DecisionError
	if out.Decided {
		switch out.Decision.Action {
		case policy.ActionDeny:
			decision = metrics.DecisionDeny
		case policy.ActionContinue:
			decision = metrics.DecisionContinue
		case policy.ActionEmulate:
			decision = metrics.DecisionEmulate
		}
	}
	// Fail closed: success only for an emulation that went through, the
	// kernel's own check only where the policy said continue.
	switch {
	case out.Continue && decision == metrics.DecisionContinue:
		resp.Continue = true
	case out.Errno != 0:
		resp.Errno = out.Errno
	case decision == metrics.DecisionEmulate && out.Err == nil:
		resp.Val = out.Val
	default:
		resp.Errno = linux.EPERM
	}
	if out.Inject {
		// The fd goes to the caller only with a granted answer; otherwise
		// it is closed here, never left behind.
		if resp.Errno == 0 && !resp.Continue {
			resp.Inject, resp.InjectFD, resp.InjectCloexec = true, out.InjectFD, out.InjectCloexec
		} else {
			linux.Close(out.InjectFD)
		}
		out.Inject = false
	}
	if errors.Is(out.Err, notify.ErrNoAddfd) {
		ss.d.noAddfd.Do(func() {
			ss.log.Error("GPIO grants are refused with EPERM on this kernel", zap.Error(out.Err))
		})
	}
	if eff := out.Effect; eff != nil {
		out.Effect = nil
		last := lastEmulation{tid: req.Pid, nr: req.Nr, arch: req.Arch, ip: req.IP, args: req.Args,
			effect: eff, decision: out.Decision}
		last.req = out.Request
		if out.Request.Mknod != nil {
			last.mknod = *out.Request.Mknod
			last.mknod.Path = strings.Clone(last.mknod.Path) // may point into ss.buf
			last.req.Mknod = &last.mknod                     // non-nil marks it; repointed on restart
		}
		if out.Request.GPIO != nil {
			last.gpio = *out.Request.GPIO
			last.gpio.Path = strings.Clone(last.gpio.Path)
			last.req.GPIO = &last.gpio // non-nil marks it; repointed on restart
		}
		resp.Finish = func(cancelled bool) {
			if !cancelled {
				ss.last = last
				return
			}
			// The caller never saw the answer and will restart the call.
			if eff.Undo() {
				ss.d.metrics.Undone()
				ss.log.Debug("caller interrupted before the answer; emulation undone",
					zap.Int("tid", req.Pid), zap.String("syscall", last.req.Syscall))
			} else if eff.Intact() {
				// Not undoable (an fd already in the caller): the restarted
				// call is answered as the first one was.
				ss.last = last
				return
			}
			eff.Release()
		}
	}
	elapsed := time.Since(start)
	m := ss.d.unknown
	if e != nil {
		m = ss.d.bySys[e.Name]
	}
	m.Observe(decision, elapsed.Seconds())
	ss.record(req, e, decision, elapsed)
}

// record writes the decision record. Denies and grants are Info and never
// sampled; continue is Debug (the kernel decides, nothing was granted).
func (ss *session) record(req *notify.Request, e *handlers.Entry, decision string, elapsed time.Duration) {
	lvl := zapcore.InfoLevel
	if decision == metrics.DecisionContinue {
		lvl = zapcore.DebugLevel
	}
	ce := ss.log.Check(lvl, "decision")
	if ce == nil {
		return
	}
	out := &ss.out
	name, variant := "unknown", "unknown"
	if e != nil {
		name, variant = e.Name, e.Variant
	}
	fields := []zap.Field{
		zap.String("profile", ss.profile.Name()), zap.String("policy_version", ss.version),
		zap.String("syscall", name), zap.String("variant", variant), zap.Int32("nr", req.Nr),
		zap.Uint32("arch", req.Arch), zap.Int("tid", req.Pid), zap.String("decision", decision),
		zap.String("rule", out.Decision.Rule), zap.String("reason", out.Decision.Reason),
		zap.Duration("latency", elapsed),
	}
	if out.Errno != 0 {
		fields = append(fields, zap.String("errno", policy.Errno(out.Errno).String()))
	}
	if a := out.Request.Mknod; a != nil {
		fields = append(fields, zap.String("path", a.Path), zap.Stringer("type", a.Type),
			zap.Uint32("major", a.Major), zap.Uint32("minor", a.Minor), zap.String("mode", "0"+formatOctal(a.Mode)))
	}
	if a := out.Request.Mount; a != nil {
		fields = append(fields, zap.Stringer("op", a.Op), zap.Bool("recursive", a.Recursive),
			zap.String("fstype", a.FSType), zap.String("source", a.Source), zap.String("target", a.Target),
			zap.Strings("flags", policy.MountFlagNames(a.Flags)), zap.Strings("options", recordOptions(a.Options, out.Decision.Learn)))
		if f := out.Decision.ForceFlags; f != 0 {
			fields = append(fields, zap.Strings("forced", policy.MountFlagNames(f)))
		}
	}
	if a := out.Request.Umount; a != nil {
		fields = append(fields, zap.String("target", a.Target), zap.Uint32("flags", a.Flags))
	}
	if a := out.Request.GPIO; a != nil {
		if a.Path != "" {
			fields = append(fields, zap.String("path", a.Path))
		}
		if a.Chip != "" || a.ChipName != "" {
			fields = append(fields, zap.String("chip", a.Chip), zap.String("chip_name", a.ChipName))
		}
		if len(a.Lines) > 0 {
			fields = append(fields, zap.String("api", a.API), zap.Uint32s("lines", a.Lines),
				zap.Strings("line_names", a.Names), zap.Strings("flags", a.Flags.Names()))
		}
	}
	if out.Decision.Learn {
		fields = append(fields, zap.Bool("learn", true))
	}
	if out.Err != nil {
		fields = append(fields, zap.Error(out.Err))
	}
	ce.Write(fields...)
}

// recordOptions names mount options without their values: mount data can
// carry credentials (cifs password=, …). A learn-mode profile (opted into
// by the integrator, to draft a policy) records the values.
func recordOptions(opts []policy.MountOption, learn bool) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Name
		if o.HasValue {
			if learn {
				out[i] += "=" + o.Value
			} else {
				out[i] += "=…"
			}
		}
	}
	return out
}

func formatOctal(v uint32) string {
	var b [12]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v&7)
		v >>= 3
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
