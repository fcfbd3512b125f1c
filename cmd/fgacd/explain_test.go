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
