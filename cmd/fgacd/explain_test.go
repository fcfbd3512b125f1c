package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExplainNamesTheDecidingRule(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../policies/demo.toml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "demo.toml"), data, 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-uid", "65534", "-path", "/tmp/fgacd-demo/null", "-type", "char", "-major", "1", "-minor", "3"},
			[]string{"profile:        demo", "rule:           null-twin", "decision:       emulate"}},
		{[]string{"-uid", "65534", "-path", "/tmp/fgacd-demo/sda", "-type", "block", "-major", "8"},
			[]string{"decision:       deny EPERM", "no rule matched"}},
		{[]string{"-uid", "1000", "-path", "/tmp/x", "-type", "char"},
			[]string{"none matches this caller", "deny EPERM"}},
		{[]string{"-uid", "65534", "-syscall", "mount", "-path", "/tmp/fgacd-demo/mnt1", "-type", "tmpfs", "-options", "size=8m"},
			[]string{"decision:       emulate (forcing nosuid,nodev)"}},
	} {
		var out, errb bytes.Buffer
		if code := realMain(append([]string{"explain", "-dir", dir}, c.args...), &out, &errb); code != 0 {
			t.Fatalf("explain %v: exit %d: %s", c.args, code, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("explain %v: output lacks %q:\n%s", c.args, w, out.String())
			}
		}
	}
}

func TestExplainGPIO(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gpio.toml"), []byte(`version = 1
[[profile]]
name = "blinker"
  [profile.match]
  uid = [1000]
  [[profile.rule]]
  name = "leds"
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["fgacd-sim"]
    lines = ["1-2"]
    flags = ["output"]
`), 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-syscall", "gpio_line", "-chip", "fgacd-sim", "-lines", "1,2", "-flags", "output"},
			[]string{"rule:           leds", "decision:       emulate"}},
		{[]string{"-syscall", "gpio_line", "-chip", "fgacd-sim", "-lines", "1,2,3", "-flags", "output"},
			[]string{"decision:       deny EPERM"}},
		{[]string{"-syscall", "gpio_open", "-chip", "fgacd-sim"},
			[]string{"decision:       deny EPERM", "gets a handle"}},
		{[]string{"-syscall", "gpio_open", "-chip", "other"},
			[]string{"decision:       deny EPERM"}},
	} {
		var out, errb bytes.Buffer
		if code := realMain(append([]string{"explain", "-dir", dir, "-uid", "1000"}, c.args...), &out, &errb); code != 0 {
			t.Fatalf("explain %v: exit %d: %s", c.args, code, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("explain %v: output lacks %q:\n%s", c.args, w, out.String())
			}
		}
		if c.args[3] == "other" && strings.Contains(out.String(), "handle") {
			t.Errorf("explain %v: a handle for a chip with no grant:\n%s", c.args, out.String())
		}
	}
}

func TestCheckGPIOLinesAgainstPresentChips(t *testing.T) {
	pol := []byte(`version = 1
[[profile]]
name = "p"
  [profile.match]
  uid = [1000]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["fgacd-sim"]
    lines = [1, "6-9", 40]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["other-board"]
    lines = [99]
`)
	chips := []chip{{name: "gpiochip0", label: "fgacd-sim", lines: 8}}
	got := checkGPIOLines("p.toml", pol, chips)
	if len(got) != 2 || !strings.Contains(got[0], "lines[1]: line 6-9 is beyond chip \"fgacd-sim\" (gpiochip0), which has 8 lines (0-7)") ||
		!strings.Contains(got[1], "lines[2]: line 40") {
		t.Errorf("reports:\n%s", strings.Join(got, "\n"))
	}
	if got := checkGPIOLines("p.toml", pol, nil); len(got) != 0 {
		t.Errorf("with no chip present: %v", got)
	}
}
