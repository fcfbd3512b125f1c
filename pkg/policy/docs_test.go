package policy_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

// TestDocsExamplesValidate keeps the reference honest: every TOML example
// in docs/policy.md parses and validates. A whole file is checked as is; a
// block of rules is checked inside a catch-all profile.
func TestDocsExamplesValidate(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	rest := string(doc)
	for {
		_, after, ok := strings.Cut(rest, "```toml\n")
		if !ok {
			break
		}
		block, next, ok := strings.Cut(after, "```")
		if !ok {
			t.Fatal("unterminated toml block")
		}
		rest = next
		blocks++
		src := block
		if strings.HasPrefix(strings.TrimSpace(block), "[[profile.rule]]") {
			src = "version = 1\n[[profile]]\nname = \"doc\"\n[profile.match]\nany = true\n" + block
		}
		s, err := policy.Parse("policy.md", []byte(src))
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			t.Errorf("example %d: %v\n%s", blocks, err, block)
		}
	}
	if blocks < 2 {
		t.Errorf("found %d toml examples, want the file example and the mount example", blocks)
	}
}

// TestDocsNameEveryKey keeps the reference complete: every key of the
// schema (the toml tags of Spec and what it holds) is named in
// docs/policy.md, and so is every syscall, action, mount flag and GPIO
// line flag name.
func TestDocsNameEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var keys []string
	var walk func(reflect.Type)
	walk = func(tp reflect.Type) {
		for tp.Kind() == reflect.Pointer || tp.Kind() == reflect.Slice || tp.Kind() == reflect.Map {
			tp = tp.Elem()
		}
		if tp.Kind() != reflect.Struct || seen[tp] {
			return
		}
		seen[tp] = true
		for i := 0; i < tp.NumField(); i++ {
			f := tp.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			keys = append(keys, name)
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(policy.Spec{}))
	names := append(append(append(keys, policy.KnownSyscalls()...), policy.KnownActions()...), policy.KnownMountFlags()...)
	// GPIO flag names are common words ("input"): look for them as code.
	for _, f := range policy.KnownGPIOFlags() {
		names = append(names, "`"+f+"`")
	}
	for _, k := range names {
		if !strings.Contains(string(doc), k) {
			t.Errorf("docs/policy.md never names %q", k)
		}
	}
	if len(keys) < 10 {
		t.Fatalf("found only %d schema keys: the walk is broken", len(keys))
	}
}
