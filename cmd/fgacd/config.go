package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/fgacd/fgacd/pkg/policy"
)

// DefaultConfigPath is where the daemon looks for its config; when the
// file does not exist the built-in defaults below apply, so a device can
// run fgacd with no config at all.
const DefaultConfigPath = "/etc/fgacd/fgacd.toml"

// Config is the daemon's config file (TOML, strict: unknown keys are errors).
type Config struct {
	Version int           `toml:"version"`
	Intake  IntakeConfig  `toml:"intake"`
	Policy  PolicyConfig  `toml:"policy"`
	Metrics MetricsConfig `toml:"metrics"`
	Log     LogConfig     `toml:"log"`
	Session SessionConfig `toml:"session"`
	Runtime RuntimeConfig `toml:"runtime"`
	Admin   AdminConfig   `toml:"admin"`
	Restart RestartConfig `toml:"restart"`
}

// RestartConfig is about keeping sessions across restarts.
type RestartConfig struct {
	// StateDir holds one identity record per session whose listener is in
	// systemd's fd store.
	StateDir string `toml:"state_dir"`
}

// AdminConfig is the local read-only admin endpoint (fgacd status).
type AdminConfig struct {
	Socket string `toml:"socket"` // mode 0600; "" turns it off
}

// RuntimeConfig tunes the Go runtime.
type RuntimeConfig struct {
	// GOMAXPROCS for the daemon; 0 keeps Go's default (one per CPU). The
	// default is 1: the daemon's Go work per notification is about a
	// microsecond and its waits are syscalls, which run outside the P
	// anyway; with more Ps, idle threads are woken on every notification
	// (perf sched on a 2-CPU machine: about 1.8 extra context switches per
	// call), which measured 1.5x a C supervisor's latency against 1.1x with
	// one. Raise it when many busy tracees need decisions in parallel.
	GOMAXPROCS int `toml:"gomaxprocs"`
}

// IntakeConfig is the registration socket.
type IntakeConfig struct {
	Socket          string   `toml:"socket"`
	Mode            string   `toml:"mode"` // octal, e.g. "0666"
	TrustedUIDs     []uint32 `toml:"trusted_uids"`
	AllowUIDs       []uint32 `toml:"allow_uids"`
	MaxMessageBytes int      `toml:"max_message_bytes"`
	ReadTimeout     Duration `toml:"read_timeout"`
	MaxPending      int      `toml:"max_pending"`
}

// PolicyConfig says where policies are.
type PolicyConfig struct {
	// Dir holds *.toml policy files. When it does not exist, the policies
	// shipped inside the binary are used (and the log says so).
	Dir string `toml:"dir"`
}

// MetricsConfig is the Prometheus endpoint.
type MetricsConfig struct {
	Listen string `toml:"listen"` // "" turns it off
}

// LogConfig is the logger.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // json or console
}

// SessionConfig tunes listener sessions.
type SessionConfig struct {
	Deadline  Duration `toml:"deadline"`
	HotWindow Duration `toml:"hot_window"`
}

// Duration is a time.Duration written as "5s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v <= 0 {
		return fmt.Errorf("duration %q must be positive", b)
	}
	d.Duration = v
	return nil
}

// MarshalText prints the duration back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultConfig is what fgacd runs with when no config file exists.
func DefaultConfig() Config {
	return Config{
		Version: 1,
		Intake: IntakeConfig{
			Socket: "/run/fgacd/fgacd.sock", Mode: "0666", TrustedUIDs: []uint32{0},
			MaxMessageBytes: 64 << 10, ReadTimeout: Duration{5 * time.Second}, MaxPending: 64,
		},
		Policy:  PolicyConfig{Dir: "/etc/fgacd/policies.d"},
		Metrics: MetricsConfig{Listen: "127.0.0.1:9477"},
		Log:     LogConfig{Level: "info", Format: "json"},
		Session: SessionConfig{Deadline: Duration{5 * time.Second}, HotWindow: Duration{20 * time.Millisecond}},
		Runtime: RuntimeConfig{GOMAXPROCS: 1},
		Admin:   AdminConfig{Socket: "/run/fgacd/admin.sock"},
		Restart: RestartConfig{StateDir: "/run/fgacd/sessions"},
	}
}

// LoadConfig reads path over the defaults. A missing file at the default
// path is not an error; a missing file named explicitly is.
func LoadConfig(path string, explicit bool) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return parseConfig(path, data, cfg)
}

func parseConfig(path string, data []byte, cfg Config) (Config, error) {
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line, col := policy.Position(data, pe.Position)
			return cfg, fmt.Errorf("%s:%d:%d: %s", path, line, col, pe.Message)
		}
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return cfg, fmt.Errorf("%s: unknown key %s", path, strings.Join(keys, ", "))
	}
	if cfg.Version != 1 {
		return cfg, fmt.Errorf("%s: version = %d is not supported (supported: 1)", path, cfg.Version)
	}
	if _, err := cfg.socketMode(); err != nil {
		return cfg, fmt.Errorf("%s: intake.mode: %w", path, err)
	}
	switch cfg.Log.Format {
	case "json", "console":
	default:
		return cfg, fmt.Errorf("%s: log.format %q: want json or console", path, cfg.Log.Format)
	}
	if cfg.Runtime.GOMAXPROCS < 0 {
		return cfg, fmt.Errorf("%s: runtime.gomaxprocs must be 0 (Go's default) or more", path)
	}
	if _, err := parseLevel(cfg.Log.Level); err != nil {
		return cfg, fmt.Errorf("%s: log.level: %w", path, err)
	}
	return cfg, nil
}

func (c *Config) socketMode() (os.FileMode, error) {
	m, err := strconv.ParseUint(c.Intake.Mode, 8, 32)
	if err != nil || m == 0 || m > 0o777 {
		return 0, fmt.Errorf("%q is not an octal file mode like \"0660\"", c.Intake.Mode)
	}
	return os.FileMode(m), nil
}
