// Command fgacd is the seccomp user-notification access control daemon:
// it receives listener fds over a UNIX socket, decides each trapped
// syscall by TOML policy and emulates, continues or denies it.
//
// This is the composition root: flags, config, logger, metrics registry,
// signals. Libraries below it take what they need as arguments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/internal/metrics"
	"github.com/fgacd/fgacd/pkg/dispatch"
	"github.com/fgacd/fgacd/pkg/handlers"
	"github.com/fgacd/fgacd/pkg/notify"
	"github.com/fgacd/fgacd/pkg/policy"
	"github.com/fgacd/fgacd/policies"
)

// version is set by the Makefile (-ldflags -X main.version=…).
var version = "dev"

const usage = `usage: fgacd [command] [flags]

commands:
  run [-config FILE] [-socket PATH] [-policy-dir DIR] [-metrics ADDR] [-log-level L]
                      run the daemon (the default command)
  check FILE...       validate policy files; exit 0 when all are valid, 1 if not
  check -dir DIR      validate a whole policy directory as the daemon loads it
  explain [-dir DIR] -uid U [-exe E] -syscall S -path P [-type T] [...]
                      say which profile and rule decide a request, and why
  suggest [-profile P] [-name N] [LOG...]
                      draft a policy granting exactly what a learn-mode profile recorded
                      (reads the daemon's JSON log, e.g. journalctl -u fgacd -o cat)
  status [-admin PATH] [-json]
                      list the running daemon's sessions (pid, uid, exe, profile, calls)
  doctor              probe the kernel's seccomp features and say what degrades without each
  version             print the version
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help"):
		cmd, args = "help", nil
	case len(args) > 0 && args[0] != "" && args[0][0] != '-':
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return cmdRun(args, stderr)
	case "check":
		return cmdCheck(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "fgacd", version)
		return 0
	case "doctor":
		return cmdDoctor(stdout, stderr)
	case "explain":
		return cmdExplain(args, stdout, stderr)
	case "status":
		return cmdStatus(args, stdout, stderr)
	case "suggest":
		return cmdSuggest(args, os.Stdin, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "fgacd: unknown command %q\n%s", cmd, usage)
	return 2
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "validate every *.toml in this directory together")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" && fs.NArg() == 0 {
		fmt.Fprint(stderr, "fgacd check: name policy files or -dir DIR\n")
		return 2
	}
	bad := 0
	// On the device itself the chips are known: lines a rule names that
	// its chip does not have are mistakes, reported with the file's other
	// problems.
	chips := presentChips()
	gpioBad := func(files ...string) bool {
		found := false
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, msg := range checkGPIOLines(f, data, chips) {
				fmt.Fprintln(stderr, msg)
				found = true
			}
		}
		return found
	}
	if *dir != "" {
		files, _ := filepath.Glob(filepath.Join(*dir, "*.toml"))
		if set, err := policy.LoadDir(*dir); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			bad++
		} else if gpioBad(files...) {
			bad++
		} else {
			fmt.Fprintf(stdout, "%s: ok (%d profiles, version %s)\n", *dir, len(set.Profiles()), set.Version())
		}
	}
	for _, f := range fs.Args() {
		if err := policy.CheckFile(f); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			bad++
			continue
		}
		if gpioBad(f) {
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	if bad > 0 {
		return 1
	}
	return 0
}

func cmdRun(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", DefaultConfigPath, "config file (built-in defaults when the default path does not exist)")
	socket := fs.String("socket", "", "intake socket path (overrides intake.socket)")
	admin := fs.String("admin", "", `admin socket path, "off" to disable (overrides admin.socket)`)
	policyDir := fs.String("policy-dir", "", "policy directory (overrides policy.dir)")
	metricsAddr := fs.String("metrics", "", `metrics listen address, "off" to disable (overrides metrics.listen)`)
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides log.level)")
	logFormat := fs.String("log-format", "", "json or console (overrides log.format)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := LoadConfig(*cfgPath, explicit)
	if err != nil {
		fmt.Fprintf(stderr, "fgacd: %v\n", err)
		return 2
	}
	if *socket != "" {
		cfg.Intake.Socket = *socket
	}
	if *policyDir != "" {
		cfg.Policy.Dir = *policyDir
	}
	flagOrOff(&cfg.Admin.Socket, *admin)
	flagOrOff(&cfg.Metrics.Listen, *metricsAddr)
	if *logLevel != "" {
		cfg.Log.Level = *logLevel
	}
	if *logFormat != "" {
		cfg.Log.Format = *logFormat
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		fmt.Fprintf(stderr, "fgacd: %v\n", err)
		return 2
	}
	defer log.Sync()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := run(ctx, cancel, cfg, log); err != nil {
		log.Error("fgacd stopped", zap.Error(err))
		return 1
	}
	return 0
}

func parseLevel(s string) (zapcore.Level, error) {
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// newLogger builds the one logger. No sampling: decision records for
// denies must never be dropped.
func newLogger(c LogConfig) (*zap.Logger, error) {
	lvl, err := parseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	zc := zap.NewProductionConfig()
	zc.Sampling = nil
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Encoding = c.Format
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	if c.Format == "console" {
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	}
	zc.OutputPaths = []string{"stderr"}
	return zc.Build()
}

// loadPolicy loads the policy directory, or the policies shipped in the
// binary when the directory does not exist.
func loadPolicy(dir string, log *zap.Logger) (*policy.Set, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		log.Info("policy directory does not exist; using the policy built into fgacd",
			zap.String("dir", dir), zap.String("builtin", "default.toml"))
		return policy.LoadFS(policies.FS, "default.toml")
	}
	return policy.LoadDir(dir)
}

func run(ctx context.Context, stop func(), cfg Config, log *zap.Logger) error {
	if err := linux.CheckNotifSizes(); err != nil {
		return err
	}
	if n := cfg.Runtime.GOMAXPROCS; n > 0 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(n)
	}
	set, err := loadPolicy(cfg.Policy.Dir, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	m.PolicyLoaded(true)

	nt, err := newNotifier()
	if err != nil {
		log.Warn("systemd notification socket unusable; going on without", zap.Error(err))
	}
	defer nt.close()

	h := handlers.New(nil)
	defer h.Close()
	d := dispatch.New(set, h, log, m)
	mode, _ := cfg.socketMode()
	scfg := notify.ServerConfig{
		Path: cfg.Intake.Socket, Mode: mode, MaxMessage: cfg.Intake.MaxMessageBytes,
		ReadTimeout: cfg.Intake.ReadTimeout.Duration, MaxPending: cfg.Intake.MaxPending,
		TrustedUIDs: cfg.Intake.TrustedUIDs, AllowUIDs: cfg.Intake.AllowUIDs,
		Session: notify.SessionConfig{Deadline: cfg.Session.Deadline.Duration, HotWindow: cfg.Session.HotWindow.Duration},
	}
	act, err := activationFds()
	if err != nil {
		return err
	}
	hand := handoverHandshake()
	store := &sessionStore{dir: cfg.Restart.StateDir, nt: nt, log: log}
	scfg.Started, scfg.Ended = store.started, store.ended
	var srv *notify.Server
	if act.intake != nil { // fgacd.socket: runtimes could connect before we started
		log.Info("intake socket passed by systemd", zap.String("socket", act.intake.Addr().String()))
		srv = notify.NewServer(act.intake, scfg, d, log, m)
	} else if srv, err = notify.Listen(scfg, d, log, m); err != nil {
		return err
	}
	if hand != nil {
		// An upgrade: ready, then wait until the old process stopped.
		if err := hand.readyThenWait(); err != nil {
			return err
		}
		log.Info("took over from the previous fgacd", zap.Int("sessions", len(act.sessions)))
	}
	store.prune(act.sessions)
	store.adopt(srv, act.sessions)
	log.Info("fgacd listening", zap.String("version", version), zap.String("socket", srv.Addr()),
		zap.String("metrics", cfg.Metrics.Listen), zap.Strings("profiles", set.Profiles()),
		zap.String("policy_version", set.Version()))

	g, ctx := errgroup.WithContext(ctx)
	g.Go(srv.Serve)
	// ctx becomes Close in exactly one place.
	g.Go(func() error {
		<-ctx.Done()
		log.Info("shutting down")
		nt.stopping()
		return srv.Close()
	})
	if iv := watchdogInterval(); iv > 0 {
		g.Go(func() error {
			t := time.NewTicker(iv)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
					nt.send("WATCHDOG=1")
				}
			}
		})
	}
	if err := nt.ready(readyStatus(set)); err != nil {
		log.Warn("sd_notify READY", zap.Error(err))
	}
	if cfg.Metrics.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			srv.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error {
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return hs.Shutdown(sctx)
		})
	}
	g.Go(func() error { return reloadOnHUP(ctx, cfg.Policy.Dir, d, log, m, nt) })
	g.Go(func() error { return upgradeOnUSR2(ctx, srv, store, log, stop) })
	if cfg.Admin.Socket != "" {
		serve, err := serveAdmin(ctx, cfg.Admin.Socket, srv, func() string { return d.Policy().Version() })
		if err != nil {
			log.Warn("admin socket unavailable; fgacd status will not work", zap.Error(err))
		} else {
			g.Go(serve)
		}
	}
	return g.Wait()
}

// reloadOnHUP swaps in a freshly loaded policy on SIGHUP; a bad policy
// keeps the old one and sets fgacd_config_last_reload_successful to 0.
// Running sessions pick their profile up by name from the new policy.
// flagOrOff applies a flag that can also turn a setting off: "" keeps the
// config's value, "off" clears it, anything else replaces it.
func flagOrOff(setting *string, flag string) {
	switch flag {
	case "":
	case "off":
		*setting = ""
	default:
		*setting = flag
	}
}

func readyStatus(set *policy.Set) string {
	return fmt.Sprintf("serving; policy %s, %d profiles", set.Version(), len(set.Profiles()))
}

func reloadOnHUP(ctx context.Context, dir string, d *dispatch.Dispatcher, log *zap.Logger, m *metrics.Metrics, nt *notifier) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			nt.reloading()
			set, err := loadPolicy(dir, log)
			if err != nil {
				log.Error("policy reload refused; keeping the old policy", zap.Error(err))
				m.PolicyLoaded(false)
				nt.ready(readyStatus(d.Policy()) + "; last reload refused: " + err.Error())
				continue
			}
			d.SetPolicy(set)
			m.PolicyLoaded(true)
			nt.ready(readyStatus(set))
			log.Info("policy reloaded", zap.String("policy_version", set.Version()), zap.Strings("profiles", set.Profiles()))
		}
	}
}
