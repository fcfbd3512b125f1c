package policy_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure keeps pkg/policy pure (STYLE.md P8, P18): standard library and
// the TOML decoder only, so it builds anywhere and never touches the kernel.
func TestPure(t *testing.T) {
	forbidden := map[string]string{
		"unsafe":   "policy never touches memory layouts",
		"syscall":  "errnos are Linux numbers, not the host's",
		"os/exec":  "only internal/nsexec runs programs",
		"log":      "only the daemon decides how to log",
		"log/slog": "only the daemon decides how to log",
	}
	files, _ := filepath.Glob("*.go")
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if why, bad := forbidden[path]; bad {
				t.Errorf("%s imports %s: %s", file, path, why)
			}
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && path != "github.com/BurntSushi/toml" {
				t.Errorf("%s imports %s: only the standard library and github.com/BurntSushi/toml are allowed", file, path)
			}
		}
	}
}
