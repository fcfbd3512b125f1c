// Package notify serves seccomp listener ("notify") fds: the intake Server
// that receives them over a UNIX socket, and one Session per listener that
// waits for notifications, hands each to a Handler and sends the answer.
//
// Fd ownership: the Server owns every fd it receives until it either closes
// it (on any error path, before the session exists) or hands the listener
// to a Session. A Session owns its listener fd and closes it when Serve
// returns; nothing else closes it. Close on a Session or Server only asks
// the serving goroutine to stop (close is cancel). An fd a Handler answers
// with (Response.Inject) belongs to the Session from Handle's return: it is
// installed in the caller (SECCOMP_IOCTL_NOTIF_ADDFD) and the daemon's copy
// closed, whether the install worked or not.
//
// Waiting (see docs/architecture.md for the figures behind it): a Session
// whose listener has been quiet for HotWindow parks in the Go netpoller
// (epoll; about 1 KiB and no OS thread per idle listener). Once a
// notification arrives it switches to a blocking poll(2) loop on its own
// thread, which matches a C supervisor's latency, and goes back to the
// netpoller after HotWindow without traffic. RECV is only called after the
// fd polled readable, since it ignores O_NONBLOCK and would block.
//
// Every notification gets an answer: the Handler's, or the watchdog's EPERM
// when the Handler runs past the deadline. When SEND says ENOENT (the
// caller was interrupted and will restart the call), the Response's
// Finish undoes whatever the Handler did.
//
// When not to use: building filters (use libseccomp), or deciding policy
// (pkg/policy) — this package only moves notifications.
package notify
