// Package metrics declares every Prometheus collector fgacd exports, in one
// place, on a registry passed in from main (no init() registration, no
// global registry). Labels come from closed sets only: syscall names from
// the handler table, decisions, reject reasons. Never a pid or container id.
//
// A nil *Metrics is valid and records nothing, so libraries and tests need
// not build a registry.
package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "fgacd"

// Decisions, the closed label set of fgacd_notifications_total.
const (
	DecisionEmulate  = "emulate"
	DecisionDeny     = "deny"
	DecisionContinue = "continue"
	DecisionError    = "error" // the handler failed; the caller got an errno
)

// Intake reject reasons, the closed label set of fgacd_intake_rejects_total.
const (
	RejectNoMessage = "no_message"
	RejectTooLarge  = "too_large"
	RejectTimeout   = "timeout"
	RejectBadJSON   = "bad_json"
	RejectFds       = "bad_fds"
	RejectNotNotify = "not_seccomp_listener"
	RejectPeer      = "peer_not_allowed"
	RejectIdentity  = "identity"
	RejectIO        = "io"
)

// Metrics holds every collector.
type Metrics struct {
	notifications *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	sessions      prometheus.Gauge
	sessionsTotal prometheus.Counter
	unmatched     prometheus.Counter
	rejects       *prometheus.CounterVec
	cancelled     prometheus.Counter
	deadline      prometheus.Counter
	memread       *prometheus.CounterVec
	undone        prometheus.Counter
	reloadOK      prometheus.Gauge
	reloadTime    prometheus.Gauge

	mu   sync.Mutex
	byNr map[string]*Syscall
}

// New declares the collectors and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_total",
			Help: "Seccomp notifications answered, by syscall and decision.",
		}, []string{"syscall", "decision"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "handler_duration_seconds",
			Help:    "Time from receiving a notification to answering it.",
			Buckets: []float64{5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 250e-6, 1e-3, 5e-3, 25e-3, 100e-3, 1},
		}, []string{"syscall"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "sessions",
			Help: "Listener sessions being served.",
		}),
		sessionsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sessions_opened_total",
			Help: "Listener sessions accepted since start.",
		}),
		unmatched: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sessions_unmatched_total",
			Help: "Sessions whose identity matched no policy profile (served deny-only).",
		}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "intake_rejects_total",
			Help: "Registrations refused at the intake socket, by reason.",
		}, []string{"reason"}),
		cancelled: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_cancelled_total",
			Help: "Notifications withdrawn before the answer (RECV or SEND said ENOENT).",
		}),
		deadline: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_deadline_exceeded_total",
			Help: "Notifications answered by the watchdog because the handler ran past its deadline.",
		}),
		memread: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "memread_errors_total",
			Help: "Failed reads of tracee memory, by reason.",
		}, []string{"reason"}),
		undone: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "emulations_undone_total",
			Help: "Emulated side effects undone because the caller was interrupted before the answer.",
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_successful",
			Help: "Whether the last policy load (start or SIGHUP) succeeded (1) or kept the old policy (0).",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "When the policy in force was loaded.",
		}),
		byNr: map[string]*Syscall{},
	}
	reg.MustRegister(m.notifications, m.duration, m.sessions, m.sessionsTotal, m.unmatched,
		m.rejects, m.cancelled, m.deadline, m.memread, m.undone, m.reloadOK, m.reloadTime)
	for _, r := range []string{RejectNoMessage, RejectTooLarge, RejectTimeout, RejectBadJSON, RejectFds,
		RejectNotNotify, RejectPeer, RejectIdentity, RejectIO} {
		m.rejects.WithLabelValues(r)
	}
	return m
}

// Syscall holds the pre-resolved children for one syscall name, so the hot
// path records without hashing labels or allocating.
type Syscall struct {
	emulate, deny, cont, fail prometheus.Counter
	duration                  prometheus.Observer
}

// ForSyscall returns the children for name; call it once per handler, not
// per notification. Nil-safe.
func (m *Metrics) ForSyscall(name string) *Syscall {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.byNr[name]; ok {
		return s
	}
	s := &Syscall{
		emulate:  m.notifications.WithLabelValues(name, DecisionEmulate),
		deny:     m.notifications.WithLabelValues(name, DecisionDeny),
		cont:     m.notifications.WithLabelValues(name, DecisionContinue),
		fail:     m.notifications.WithLabelValues(name, DecisionError),
		duration: m.duration.WithLabelValues(name),
	}
	m.byNr[name] = s
	return s
}

// Observe records one answered notification.
func (s *Syscall) Observe(decision string, seconds float64) {
	if s == nil {
		return
	}
	switch decision {
	case DecisionEmulate:
		s.emulate.Inc()
	case DecisionDeny:
		s.deny.Inc()
	case DecisionContinue:
		s.cont.Inc()
	default:
		s.fail.Inc()
	}
	s.duration.Observe(seconds)
}

// SessionOpened and SessionClosed track live sessions.
func (m *Metrics) SessionOpened() {
	if m != nil {
		m.sessions.Inc()
		m.sessionsTotal.Inc()
	}
}

func (m *Metrics) SessionClosed() {
	if m != nil {
		m.sessions.Dec()
	}
}

// SessionUnmatched counts a session served deny-only.
func (m *Metrics) SessionUnmatched() {
	if m != nil {
		m.unmatched.Inc()
	}
}

// Reject counts a refused registration.
func (m *Metrics) Reject(reason string) {
	if m != nil {
		m.rejects.WithLabelValues(reason).Inc()
	}
}

// Cancelled counts a withdrawn notification.
func (m *Metrics) Cancelled() {
	if m != nil {
		m.cancelled.Inc()
	}
}

// DeadlineExceeded counts a watchdog answer.
func (m *Metrics) DeadlineExceeded() {
	if m != nil {
		m.deadline.Inc()
	}
}

// MemreadError counts a failed tracee memory read.
func (m *Metrics) MemreadError(reason string) {
	if m != nil {
		m.memread.WithLabelValues(reason).Inc()
	}
}

// Undone counts an undone emulation.
func (m *Metrics) Undone() {
	if m != nil {
		m.undone.Inc()
	}
}

// PolicyLoaded records a policy load: ok false means the old policy stayed.
func (m *Metrics) PolicyLoaded(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloadOK.Set(1)
		m.reloadTime.SetToCurrentTime()
	} else {
		m.reloadOK.Set(0)
	}
}
