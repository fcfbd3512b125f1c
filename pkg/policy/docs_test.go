package policy_test

import (
	"os"
	"path/filepath"
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
