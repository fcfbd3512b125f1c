package policy_test

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fgacd/fgacd/pkg/policy"
)

const (
	appPolicy = `version = 1
[[profile]]
name = "app"
  [profile.match]
  uid = [1000]
`
	catchAllPolicy = `version = 1
[[profile]]
name = "all"
  [profile.match]
  any = true
`
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"90-all.toml": catchAllPolicy,
		"10-app.toml": appPolicy,
		"README.md":   "not a policy",
	})
	set, err := policy.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Profiles(), ","); got != "app,all" {
		t.Errorf("profiles in load order = %s, want app,all", got)
	}
	if set.Select(policy.Identity{UID: 1000}).Name() != "app" || set.Select(policy.Identity{UID: 1}).Name() != "all" {
		t.Error("selection does not follow file order")
	}
}

func TestLoadDirErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		dir   string // overrides the temp dir
		want  []string
	}{
		{name: "missing dir", dir: "/nonexistent/fgacd", want: []string{"load policies: stat /nonexistent/fgacd: no such file or directory"}},
		{name: "empty dir", files: map[string]string{"x.txt": ""}, want: []string{"no policy files in "}},
		{
			name:  "every broken file is reported",
			files: map[string]string{"a.toml": "version = 1\n[[profile]]\nnme = \"x\"\n", "b.toml": "version = 3\n"},
			want:  []string{"a.toml:3:1: profile[0].nme: unknown key", "b.toml:1:1: version: unsupported version 3"},
		},
		{
			name:  "profile names are unique across files",
			files: map[string]string{"a.toml": appPolicy, "b.toml": "\n" + appPolicy},
			want:  []string{"b.toml:4:1: profile[0].name: profile \"app\" is already defined in ", "a.toml at profile[0]"},
		},
		{
			name:  "catch-all shadows later files",
			files: map[string]string{"a.toml": catchAllPolicy, "b.toml": appPolicy},
			want:  []string{"b.toml:2:1: profile[0]: profile \"app\" can never be selected: profile \"all\" in "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if dir == "" {
				dir = writeFiles(t, tt.files)
			}
			_, err := policy.LoadDir(dir)
			if err == nil {
				t.Fatal("LoadDir succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadDirNotADirectory(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.toml": appPolicy})
	_, err := policy.LoadDir(filepath.Join(dir, "a.toml"))
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("got %v", err)
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"b.toml": {Data: []byte(catchAllPolicy)},
		"a.toml": {Data: []byte(appPolicy)},
	}
	set, err := policy.LoadFS(fsys, "*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Profiles(), ","); got != "app,all" {
		t.Errorf("profiles = %s", got)
	}
	if _, err := policy.LoadFS(fsys, "*.json"); err == nil || !strings.Contains(err.Error(), `no files match "*.json"`) {
		t.Errorf("no match: got %v", err)
	}
	if _, err := policy.LoadFS(fsys, "["); !errors.Is(err, path.ErrBadPattern) {
		t.Errorf("bad pattern: got %v", err)
	}
	// The shipped default has a catch-all, so it cannot precede another file.
	_, err = policy.LoadFS(fstest.MapFS{"a.toml": {Data: []byte(catchAllPolicy)}, "b.toml": {Data: []byte(appPolicy)}}, "*.toml")
	if err == nil {
		t.Error("catch-all before another file was accepted")
	}
}

func TestCheckFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"good.toml": appPolicy,
		"bad.toml":  "version = 1\n[[profile]]\nname = \"Bad\"\n[profile.match]\nuid = [1]\n",
	})
	if err := policy.CheckFile(filepath.Join(dir, "good.toml")); err != nil {
		t.Error(err)
	}
	err := policy.CheckFile(filepath.Join(dir, "bad.toml"))
	if want := filepath.Join(dir, "bad.toml") + `:3:1: profile[0].name: invalid name "Bad"`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s...", err, want)
	}
	if err := policy.CheckFile(filepath.Join(dir, "missing.toml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	if _, err := policy.Compile(); err == nil {
		t.Error("Compile() without specs succeeded")
	}
	if _, err := policy.Compile(nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
	bad := &policy.Spec{File: "x.toml", Version: 1}
	if _, err := policy.Compile(bad); err == nil || !strings.Contains(err.Error(), "x.toml: no profiles") {
		t.Errorf("got %v", err)
	}
}
