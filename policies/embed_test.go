package policies_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
	"github.com/fgacd/fgacd/policies"
)

// Each shipped policy loads on its own from the embedded FS and has golden
// cases (run by pkg/policy's TestGolden).
func TestShipped(t *testing.T) {
	names, err := fs.Glob(policies.FS, "*.toml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded policies (%v)", err)
	}
	for _, name := range names {
		if _, err := policy.LoadFS(policies.FS, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		cases := "testdata/" + strings.TrimSuffix(name, ".toml") + ".cases"
		if _, err := os.Stat(cases); err != nil {
			t.Errorf("%s has no golden cases: %v", name, err)
		}
	}
}
