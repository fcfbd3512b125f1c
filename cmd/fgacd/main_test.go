package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The tests below drive realMain directly, as the binary would, and never
// start the daemon (see run_root_test.go for the one that does).

// runMain runs realMain with args and returns its exit code and output.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = realMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// posOf returns the 1-based line and byte column where needle starts in
// src, so fixtures can be edited without renumbering the expectations.
func posOf(t *testing.T, src, needle string) (line, col int) {
	t.Helper()
	i := strings.Index(src, needle)
	if i < 0 || strings.Count(src, needle) != 1 {
		t.Fatalf("fixture must contain %q exactly once", needle)
	}
	line = 1 + strings.Count(src[:i], "\n")
	col = i - (strings.LastIndex(src[:i], "\n") + 1) + 1
	return line, col
}

// shippedPolicies lists policies/*.toml; a test that finds none fails, so a
// moved directory cannot make it pass vacuously.
func shippedPolicies(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "policies", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no policies/*.toml found relative to cmd/fgacd")
	}
	return files
}

// validPolicy is a minimal valid policy with one non-catch-all profile.
func validPolicy(name string) string {
	return fmt.Sprintf(`version = 1

[[profile]]
name = %q
  [profile.match]
  uid = [1000]
  [[profile.rule]]
  name = "fifo"
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/tmp/*"]
    type = ["fifo"]
`, name)
}

func TestCheckShippedPolicies(t *testing.T) {
	for _, f := range shippedPolicies(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := runMain(t, "check", f)
			if code != 0 {
				t.Fatalf("fgacd check %s: exit %d, want 0; stderr:\n%s", f, code, stderr)
			}
			if want := f + ": ok\n"; stdout != want {
				t.Errorf("stdout = %q, want %q", stdout, want)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// at is the fixture text the message must point at (file:line:col
		// of its first byte); "" when the error has no position.
		at string
		// want are substrings of the message after "file[:line:col]: ".
		want []string
	}{
		{
			name: "unknown key",
			src: `version = 1

[[profile]]
name = "a"
  [profile.match]
  uid = [1000]
  [[profile.rule]]
  name = "r"
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/tmp/*"]
    pathz = ["/tmp/*"]
    type = ["fifo"]
`,
			at:   "pathz",
			want: []string{"profile[0].rule[0].mknod.pathz: unknown key"},
		},
		{
			name: "wrong type",
			src: `version = 1

[[profile]]
name = "a"
  [profile.match]
  uid = "x"
`,
			at:   `uid = "x"`,
			want: []string{"profile[0].match.uid: ", "got a string"},
		},
		{
			name: "syntax error",
			src: `version = 1

[[profile]]
name = "a"
  [profile.match]
  uid = [1000]
  [[profile.rule]]
  name = "r"
  syscall = "mknod"
  action = emulate
`,
			at:   "emulate\n",
			want: []string{"expected value"},
		},
		{
			name: "missing version",
			src: `[[profile]]
name = "a"
  [profile.match]
  any = true
`,
			want: []string{"missing version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFile(t, t.TempDir(), "p.toml", tt.src)
			code, stdout, stderr := runMain(t, "check", f)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stdout %q, stderr %q", code, stdout, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing for a bad file", stdout)
			}
			prefix := f + ": "
			if tt.at != "" {
				line, col := posOf(t, tt.src, tt.at)
				prefix = fmt.Sprintf("%s:%d:%d: ", f, line, col)
			}
			if !strings.HasPrefix(stderr, prefix) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, w)
				}
			}
		})
	}
}

// One bad file fails the run, and the good ones around it are still
// reported ok (CI shows every problem at once).
func TestCheckMultipleFiles(t *testing.T) {
	dir := t.TempDir()
	good1 := writeFile(t, dir, "10-good.toml", validPolicy("one"))
	bad := writeFile(t, dir, "20-bad.toml", "version = 1\nbogus = true\n")
	good2 := writeFile(t, dir, "30-good.toml", validPolicy("two"))
	missing := filepath.Join(dir, "40-missing.toml")

	code, stdout, stderr := runMain(t, "check", good1, bad, good2, missing)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if want := good1 + ": ok\n" + good2 + ": ok\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	for _, w := range []string{bad + ":2:1: bogus: unknown key", missing} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, w)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{{"check"}, {"check", "-nosuchflag"}} {
		code, stdout, stderr := runMain(t, args...)
		if code != 2 {
			t.Errorf("fgacd %s: exit %d, want 2 (usage)", strings.Join(args, " "), code)
		}
		if stdout != "" {
			t.Errorf("fgacd %s: stdout = %q, want nothing", strings.Join(args, " "), stdout)
		}
		if stderr == "" {
			t.Errorf("fgacd %s: stderr is empty, want usage", strings.Join(args, " "))
		}
	}
	_, _, stderr := runMain(t, "check")
	if !strings.Contains(stderr, "name policy files or -dir DIR") {
		t.Errorf("stderr = %q, want it to say how to call check", stderr)
	}
}

func TestCheckDir(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "10-one.toml", validPolicy("one"))
		writeFile(t, dir, "20-two.toml", validPolicy("two"))
		code, stdout, stderr := runMain(t, "check", "-dir", dir)
		if code != 0 {
			t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
		}
		// The version printed is the set's content hash, not the schema's.
		if want := dir + ": ok (2 profiles, version "; !strings.HasPrefix(stdout, want) || strings.Count(stdout, "\n") != 1 {
			t.Errorf("stdout = %q, want one line starting %q", stdout, want)
		}
	})
	t.Run("shipped demo", func(t *testing.T) {
		// The daemon's demo loads demo.toml alone as its policy dir.
		dir := t.TempDir()
		src, err := os.ReadFile(filepath.Join("..", "..", "policies", "demo.toml"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "demo.toml", string(src))
		if code, _, stderr := runMain(t, "check", "-dir", dir); code != 0 {
			t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
		}
	})
	t.Run("duplicate profile across files", func(t *testing.T) {
		dir := t.TempDir()
		a := writeFile(t, dir, "a.toml", validPolicy("same"))
		b := writeFile(t, dir, "b.toml", validPolicy("same"))
		code, stdout, stderr := runMain(t, "check", "-dir", dir)
		if code != 1 {
			t.Fatalf("exit %d, want 1; stdout %q", code, stdout)
		}
		if stdout != "" {
			t.Errorf("stdout = %q, want nothing", stdout)
		}
		for _, w := range []string{b + ":", `profile "same" is already defined in ` + a} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, w)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		dir := t.TempDir()
		code, _, stderr := runMain(t, "check", "-dir", dir)
		if code != 1 || !strings.Contains(stderr, "no policy files") {
			t.Errorf("exit %d, stderr %q; want 1 and \"no policy files\"", code, stderr)
		}
	})
}

func TestUnknownCommand(t *testing.T) {
	code, stdout, stderr := runMain(t, "bogus")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	for _, w := range []string{`unknown command "bogus"`, "usage: fgacd"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, w)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runMain(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "fgacd ") || stderr != "" {
		t.Errorf("fgacd version: exit %d, stdout %q, stderr %q; want 0 and \"fgacd <version>\"", code, stdout, stderr)
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runMain(t, "help")
	if code != 0 || !strings.HasPrefix(stdout, "usage: fgacd") {
		t.Errorf("fgacd help: exit %d, stdout %q; want 0 and the usage", code, stdout)
	}
}

// run must refuse bad input with exit 2 before it touches the system.
func TestRunRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	badCfg := writeFile(t, dir, "fgacd.toml", "version = 1\n[intake]\nsockett = \"/run/x.sock\"\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"config with unknown key", []string{"run", "-config", badCfg},
			[]string{"fgacd: ", badCfg, "unknown key intake.sockett"}},
		{"missing config named explicitly", []string{"run", "-config", filepath.Join(dir, "absent.toml")},
			[]string{"fgacd: config: ", "absent.toml", "no such file"}},
		{"bad log level", []string{"run", "-config", os.DevNull, "-log-level", "nonsense"},
			[]string{`fgacd: log level "nonsense": want debug, info, warn or error`}},
		{"bad log format", []string{"run", "-config", os.DevNull, "-log-format", "xml"},
			[]string{"fgacd: ", "xml"}},
		{"unknown flag", []string{"run", "-nosuchflag"},
			[]string{"-nosuchflag"}},
		{"flags without a command mean run", []string{"-config", badCfg},
			[]string{"unknown key intake.sockett"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, w)
				}
			}
		})
	}
}

// TestBinaryCheckExitCodes builds the real binary and checks the exit codes
// CI scripts rely on: 0 all valid, 1 some invalid, 2 usage.
func TestBinaryCheckExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips building the fgacd binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("needs the go tool to build fgacd: %v", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "fgacd")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	good := shippedPolicies(t)
	bad := writeFile(t, tmp, "bad.toml", "version = 1\nbogus = true\n")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{"all shipped policies valid", append([]string{"check"}, good...), 0, good[0] + ": ok", ""},
		{"one invalid file", []string{"check", good[0], bad}, 1, good[0] + ": ok", bad + ":2:1: bogus: unknown key"},
		{"no files", []string{"check"}, 2, "", "name policy files"},
		{"unknown command", []string{"bogus"}, 2, "", "unknown command"},
		{"version", []string{"version"}, 0, "fgacd ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tt.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("run %s: %v", bin, err)
			}
			if code != tt.wantCode {
				t.Errorf("fgacd %s: exit %d, want %d; stderr:\n%s", strings.Join(tt.args, " "), code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantOut)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
		})
	}
}
