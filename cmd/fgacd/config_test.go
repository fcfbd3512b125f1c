package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigMissingDefaultPath(t *testing.T) {
	// Not named on the command line: a device may run with no config.
	cfg, err := LoadConfig(filepath.Join(t.TempDir(), "fgacd.toml"), false)
	if err != nil {
		t.Fatalf("LoadConfig: %v, want the defaults", err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("LoadConfig = %+v, want the defaults %+v", cfg, want)
	}
}

func TestLoadConfigMissingExplicitPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fgacd.toml")
	_, err := LoadConfig(path, true)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadConfig(explicit missing file) = %v, want an os.ErrNotExist error", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
}

// An empty file (the demo passes -config /dev/null) means the defaults.
func TestLoadConfigEmpty(t *testing.T) {
	for _, path := range []string{os.DevNull, writeFile(t, t.TempDir(), "empty.toml", "")} {
		cfg, err := LoadConfig(path, true)
		if err != nil {
			t.Fatalf("LoadConfig(%s): %v", path, err)
		}
		if want := DefaultConfig(); !reflect.DeepEqual(cfg, want) {
			t.Errorf("LoadConfig(%s) = %+v, want the defaults", path, cfg)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// at is the fixture text whose file:line:col the error must show
		// ("" for none); for strings the decoder points inside the quotes.
		at string

		want []string // substrings of the error
	}{
		{"unknown key", "version = 1\n[intake]\nsockett = \"/run/x.sock\"\n", "",
			[]string{"unknown key intake.sockett"}},
		{"unknown keys all listed", "version = 1\nbogus = 1\n[log]\nlevl = \"info\"\n", "",
			[]string{"bogus", "log.levl"}},
		{"mode not octal", "version = 1\n[intake]\nmode = \"999\"\n", "",
			[]string{"intake.mode", `"999"`}},
		{"mode zero", "version = 1\n[intake]\nmode = \"0\"\n", "",
			[]string{"intake.mode", `"0"`}},
		{"mode too wide", "version = 1\n[intake]\nmode = \"01777\"\n", "",
			[]string{"intake.mode", `"01777"`}},
		{"bad duration", "version = 1\n[session]\ndeadline = \"5x\"\n", `5x"`,
			[]string{`unknown unit "x"`}},
		{"negative duration", "version = 1\n[intake]\nread_timeout = \"-1s\"\n", `-1s"`,
			[]string{"must be positive"}},
		{"syntax error", "version = 1\n[intake]\nsocket = = \"x\"\n", `= "x"`,
			[]string{"expected value"}},
		{"unsupported version", "version = 2\n", "",
			[]string{"version = 2 is not supported"}},
		{"bad log format", "version = 1\n[log]\nformat = \"xml\"\n", "",
			[]string{"log.format", `"xml"`}},
		{"bad log level", "version = 1\n[log]\nlevel = \"loud\"\n", "",
			[]string{"log.level", `"loud"`}},
		{"wrong type", "version = 1\n[intake]\nmax_pending = \"x\"\n", "",
			[]string{"max_pending"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "fgacd.toml", tt.src)
			_, err := LoadConfig(path, true)
			if err == nil {
				t.Fatal("LoadConfig succeeded, want an error")
			}
			msg := err.Error()
			prefix := path + ":"
			if tt.at != "" {
				line, col := posOf(t, tt.src, tt.at)
				prefix = fmt.Sprintf("%s:%d:%d: ", path, line, col)
			}
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q, want it to start with %q", msg, prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q, want it to contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	src := `version = 1

[intake]
socket = "/tmp/fgacd-test/s.sock"
mode = "0660"
trusted_uids = [0, 1000]
read_timeout = "250ms"

[policy]
dir = "/tmp/fgacd-test/policies"

[metrics]
listen = "127.0.0.1:19477"

[log]
level = "debug"
format = "console"

[session]
deadline = "2s"
`
	path := writeFile(t, t.TempDir(), "fgacd.toml", src)
	cfg, err := LoadConfig(path, true)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	want := DefaultConfig()
	want.Intake.Socket = "/tmp/fgacd-test/s.sock"
	want.Intake.Mode = "0660"
	want.Intake.TrustedUIDs = []uint32{0, 1000}
	want.Intake.ReadTimeout = Duration{250 * time.Millisecond}
	want.Policy.Dir = "/tmp/fgacd-test/policies"
	want.Metrics.Listen = "127.0.0.1:19477"
	want.Log = LogConfig{Level: "debug", Format: "console"}
	want.Session.Deadline = Duration{2 * time.Second}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("LoadConfig =\n%+v\nwant\n%+v", cfg, want)
	}
	if mode, err := cfg.socketMode(); err != nil || mode != 0o660 {
		t.Errorf("socketMode() = %v, %v; want 0660", mode, err)
	}
}

// listen = "" in the file turns metrics off, as documented on MetricsConfig.
func TestLoadConfigMetricsOff(t *testing.T) {
	path := writeFile(t, t.TempDir(), "fgacd.toml", "version = 1\n[metrics]\nlisten = \"\"\n")
	cfg, err := LoadConfig(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics.Listen != "" {
		t.Errorf("metrics.listen = %q, want \"\" (off)", cfg.Metrics.Listen)
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1m30s")); err != nil {
		t.Fatal(err)
	}
	b, err := d.MarshalText()
	if err != nil || string(b) != "1m30s" {
		t.Errorf("MarshalText = %q, %v; want 1m30s", b, err)
	}
	for _, bad := range []string{"", "0s", "-1s", "5", "five seconds"} {
		if err := new(Duration).UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) succeeded, want an error", bad)
		}
	}
}
