// Package fgacd_test checks fgacd's architecture rules (STYLE.md P1, P8,
// P12–P14, P18, P20) as tests, so a change that breaks the layering fails
// `go test ./...` with the reason instead of waiting for a reviewer.
//
// Import rules are read two ways: go/parser over every .go file in the
// module, test files and files for other GOOS/GOARCH included, for direct
// imports per file; and `go list -json` for the packages and their
// transitive dependencies on this platform. Each test lists every offender
// at once.
package fgacd_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/fgacd/fgacd"

// Package paths the rules name. pkgUnsafe is a raw string so that `make
// lint`'s grep for the quoted import path does not flag this file.
const (
	pkgUnsafe     = `unsafe`
	pkgXSysUnix   = "golang.org/x/sys/unix"
	pkgOSExec     = "os/exec"
	pkgToml       = "github.com/BurntSushi/toml"
	pkgZap        = "go.uber.org/zap"
	pkgPrometheus = "github.com/prometheus/client_golang/prometheus"
)

// goFile is one parsed .go file of the module.
type goFile struct {
	path    string // slash-separated, relative to the module root
	dir     string // its package directory, relative; "." for the root
	test    bool   // *_test.go
	pkgName string
	doc     string // package doc comment, "" if none
	imports []string
	inits   []int // lines of func init()
}

// listedPackage is the part of `go list -json` output the rules use.
type listedPackage struct {
	ImportPath   string
	Dir          string
	Name         string
	Doc          string
	GoFiles      []string
	TestGoFiles  []string
	XTestGoFiles []string
	Imports      []string
	TestImports  []string
	XTestImports []string
	DepOnly      bool
	Error        *struct{ Err string }
}

// rel is the package's directory relative to the module root ("." for it).
func (p *listedPackage) rel() string {
	if p.ImportPath == module {
		return "."
	}
	return strings.TrimPrefix(p.ImportPath, module+"/")
}

// parseModule parses every .go file under the module root, skipping
// testdata, hidden and underscore directories, and nested modules.
var parseModule = sync.OnceValues(func() ([]goFile, error) {
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != "." && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if p != "." {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		gf := goFile{
			path:    filepath.ToSlash(p),
			dir:     filepath.ToSlash(filepath.Dir(p)),
			test:    strings.HasSuffix(p, "_test.go"),
			pkgName: f.Name.Name,
		}
		if f.Doc != nil {
			gf.doc = strings.TrimSpace(f.Doc.Text())
		}
		for _, imp := range f.Imports {
			ip, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			gf.imports = append(gf.imports, ip)
		}
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "init" {
				gf.inits = append(gf.inits, fset.Position(fd.Pos()).Line)
			}
		}
		files = append(files, gf)
		return nil
	})
	return files, err
})

// goList runs `go list -e -deps -json ./...` in the module root: the
// module's packages and everything they import, std included.
var goList = sync.OnceValues(func() ([]*listedPackage, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(goTool, "list", "-e", "-deps", "-json", "./...")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.Join(err, errors.New(stderr.String()))
	}
	var pkgs []*listedPackage
	dec := json.NewDecoder(&stdout)
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
})

func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	if _, err := os.Stat("go.mod"); err != nil {
		t.Fatalf("arch tests must run in the module root: %v", err)
	}
	files, err := parseModule()
	if err != nil {
		t.Fatalf("parse the module's Go files: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("found no Go files in the module")
	}
	return files
}

// listedPackages returns the module's own packages as go list sees them.
func listedPackages(t *testing.T) []*listedPackage {
	t.Helper()
	all, err := goList()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []*listedPackage
	var broken []string
	for _, p := range all {
		if p.DepOnly {
			continue
		}
		pkgs = append(pkgs, p)
		if p.Error != nil {
			broken = append(broken, p.ImportPath+": "+p.Error.Err)
		}
	}
	if len(broken) > 0 {
		t.Fatalf("go list reports broken packages, so the rules cannot be checked:\n\t%s", strings.Join(broken, "\n\t"))
	}
	return pkgs
}

func findPackage(t *testing.T, rel string) *listedPackage {
	t.Helper()
	for _, p := range listedPackages(t) {
		if p.rel() == rel {
			return p
		}
	}
	t.Fatalf("go list does not know package %s; update the rule if it moved", rel)
	return nil
}

// under reports whether the slash path p is dir or inside it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// isStd reports whether an import path belongs to the standard library
// (the first element has no dot; "vendor/..." are std's own vendored deps).
func isStd(ip string) bool {
	first, _, _ := strings.Cut(ip, "/")
	return !strings.Contains(first, ".")
}

func isModule(ip string) bool { return under(ip, module) }

// report fails t with one message listing every offender, sorted.
func report(t *testing.T, why string, offenders []string) {
	t.Helper()
	if len(offenders) == 0 {
		return
	}
	slices.Sort(offenders)
	offenders = slices.Compact(offenders)
	t.Errorf("%s\n%d offender(s):\n\t%s", why, len(offenders), strings.Join(offenders, "\n\t"))
}

// TestArchFileWalkMatchesGoList guards the other tests: every package go
// list knows must have had its files parsed, or a rule could pass by not
// looking.
func TestArchFileWalkMatchesGoList(t *testing.T) {
	files := moduleFiles(t)
	parsed := map[string]bool{}
	for _, f := range files {
		parsed[f.path] = true
	}
	var missing []string
	for _, p := range listedPackages(t) {
		for _, group := range [][]string{p.GoFiles, p.TestGoFiles, p.XTestGoFiles} {
			for _, name := range group {
				if fp := path.Join(p.rel(), name); !parsed[fp] {
					missing = append(missing, fp)
				}
			}
		}
	}
	report(t, "go list knows these files but the architecture tests' file walk did not parse them:", missing)
}

// P1: one syscall chokepoint.
func TestArchOnlyInternalLinuxImportsXSysUnix(t *testing.T) {
	var offenders []string
	for _, f := range moduleFiles(t) {
		if slices.Contains(f.imports, pkgXSysUnix) && f.dir != "internal/linux" {
			offenders = append(offenders, f.path)
		}
	}
	// The same rule through go list, which sees the imports the build uses.
	for _, p := range listedPackages(t) {
		if p.rel() == "internal/linux" {
			continue
		}
		for kind, imps := range map[string][]string{"imports": p.Imports, "test imports": p.TestImports, "external test imports": p.XTestImports} {
			if slices.Contains(imps, pkgXSysUnix) {
				offenders = append(offenders, p.ImportPath+" ("+kind+")")
			}
		}
	}
	report(t, "only internal/linux may import "+pkgXSysUnix+" (STYLE.md P1: every raw syscall lives in one directory, so a security audit reads one place); add a wrapper there instead", offenders)
}

// P1: unsafe is fenced into internal/linux/*_unsafe.go.
func TestArchUnsafeOnlyInInternalLinuxUnsafeFiles(t *testing.T) {
	var offenders []string
	for _, f := range moduleFiles(t) {
		if slices.Contains(f.imports, pkgUnsafe) && !(f.dir == "internal/linux" && strings.HasSuffix(f.path, "_unsafe.go")) {
			offenders = append(offenders, f.path)
		}
	}
	report(t, "only files named *_unsafe.go in internal/linux may import "+pkgUnsafe+" (STYLE.md P1: pointer casts are audited by file name)", offenders)
}

// P8: policy is pure.
func TestArchPolicyIsPure(t *testing.T) {
	allowed := func(ip string) bool {
		return (isStd(ip) && ip != pkgOSExec && ip != pkgUnsafe && ip != "syscall") || under(ip, pkgToml)
	}
	var offenders []string
	for _, f := range moduleFiles(t) {
		if f.dir != "pkg/policy" || f.test {
			continue
		}
		for _, ip := range f.imports {
			if !allowed(ip) {
				offenders = append(offenders, f.path+" imports "+ip)
			}
		}
	}
	// Transitively too: nothing outside std may come in through an allowed
	// import.
	offenders = append(offenders, forbiddenReach(t, "pkg/policy", func(ip string) bool {
		return !isStd(ip) && !under(ip, pkgToml)
	})...)
	report(t, "pkg/policy may import only the standard library (not os/exec, unsafe or syscall) and "+pkgToml+
		" (STYLE.md P8: policy is pure, has no kernel, logger or metrics, and builds and tests on any OS)", offenders)
}

// forbiddenReach walks the non-test import graph from module package rel
// and returns, for each forbidden package it reaches, one shortest import
// chain ("pkg/a -> pkg/b -> bad"). It does not walk past a forbidden
// package, so each offence is reported where it enters, not with all of
// its own dependencies.
func forbiddenReach(t *testing.T, rel string, forbidden func(string) bool) []string {
	t.Helper()
	all, err := goList()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, p := range all {
		imports[p.ImportPath] = p.Imports
	}
	start := findPackage(t, rel).ImportPath
	short := func(ip string) string { return strings.TrimPrefix(ip, module+"/") }
	prev := map[string]string{start: ""}
	queue := []string{start}
	var chains []string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur != start && forbidden(cur) {
			chain := []string{short(cur)}
			for p := prev[cur]; p != ""; p = prev[p] {
				chain = append(chain, short(p))
			}
			slices.Reverse(chain)
			chains = append(chains, strings.Join(chain, " -> "))
			continue
		}
		for _, next := range imports[cur] {
			if _, seen := prev[next]; !seen {
				prev[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return chains
}

// forbidDeps fails for every package under one of forbidden that module
// package rel reaches through its non-test imports.
func forbidDeps(t *testing.T, rel string, forbidden []string, why string) {
	t.Helper()
	report(t, why, forbiddenReach(t, rel, func(ip string) bool {
		return slices.ContainsFunc(forbidden, func(bad string) bool { return under(ip, bad) })
	}))
}

// P12, P13: memread neither logs nor counts.
func TestArchMemreadHasNoLoggerOrMetrics(t *testing.T) {
	forbidDeps(t, "pkg/memread", []string{pkgZap, "github.com/prometheus", module + "/internal/metrics"},
		"pkg/memread must not depend on a logger or prometheus, even indirectly (STYLE.md P12: memread returns errors and never logs; the caller decides what to log and count)")
}

// Dependency direction: notify knows nothing about what handles its
// notifications.
func TestArchNotifyDoesNotImportUpperLayers(t *testing.T) {
	var forbidden []string
	for _, p := range []string{"pkg/policy", "pkg/handlers", "pkg/dispatch", "pkg/memread"} {
		forbidden = append(forbidden, module+"/"+p)
	}
	forbidDeps(t, "pkg/notify", forbidden,
		"pkg/notify must not depend on policy, handlers, dispatch or memread (STYLE.md import table: notify moves notifications, dispatch decides; the arrows point away from notify)")
}

// Dependency direction and P13: handlers are called by dispatch and record
// nothing themselves.
func TestArchHandlersDoNotImportDispatchOrPrometheus(t *testing.T) {
	forbidDeps(t, "pkg/handlers", []string{module + "/pkg/dispatch"},
		"pkg/handlers must not depend on pkg/dispatch (STYLE.md import table: dispatch calls handlers, never the reverse)")
	var offenders []string
	for _, f := range moduleFiles(t) {
		if f.dir != "pkg/handlers" || f.test {
			continue
		}
		for _, ip := range f.imports {
			if under(ip, "github.com/prometheus") {
				offenders = append(offenders, f.path+" imports "+ip)
			}
		}
	}
	report(t, "pkg/handlers must not import prometheus (STYLE.md P13: dispatch observes the metrics through internal/metrics)", offenders)
}

// Only test code and commands run programs.
func TestArchOSExecOnlyInTestsAndCommands(t *testing.T) {
	var offenders []string
	for _, f := range moduleFiles(t) {
		if f.test || under(f.dir, "cmd") || !slices.Contains(f.imports, pkgOSExec) {
			continue
		}
		// internal/testutil is test code by contract (see
		// TestArchTestutilOnlyInTests): it runs the tracee helper.
		if f.dir == "internal/testutil" {
			continue
		}
		offenders = append(offenders, f.path)
	}
	report(t, "only test code and cmd/ may import os/exec (STYLE.md P18, P19: the daemon never forks helpers; namespace work runs on locked threads in internal/nsexec)", offenders)
}

// internal/testutil is test code: the os/exec exemption above relies on it.
func TestArchTestutilOnlyInTests(t *testing.T) {
	var offenders []string
	for _, f := range moduleFiles(t) {
		if !f.test && f.dir != "internal/testutil" && slices.Contains(f.imports, module+"/internal/testutil") {
			offenders = append(offenders, f.path)
		}
	}
	report(t, "internal/testutil may be imported from _test.go files only (its doc says so; it runs processes and skips tests)", offenders)
}

// P13: every metric is declared in internal/metrics.
func TestArchPrometheusOnlyInMetricsAndCommands(t *testing.T) {
	var offenders []string
	for _, f := range moduleFiles(t) {
		if f.test || under(f.dir, "cmd") || f.dir == "internal/metrics" {
			continue
		}
		for _, ip := range f.imports {
			if under(ip, "github.com/prometheus") {
				offenders = append(offenders, f.path+" imports "+ip)
			}
		}
	}
	report(t, "only internal/metrics (and cmd/ for promhttp and collectors) may import prometheus (STYLE.md P13: every collector is declared once, in internal/metrics, on a registry from main)", offenders)
}

// P18, P20: every package says what it is for.
func TestArchEveryPackageHasDoc(t *testing.T) {
	files := moduleFiles(t)
	var offenders []string
	for _, p := range listedPackages(t) {
		doc := p.Doc
		if len(p.GoFiles) == 0 {
			// A test-only package (tests/e2e may be one, this one is):
			// its doc comment sits on a test file.
			for _, f := range files {
				if f.dir == p.rel() && f.test && f.doc != "" {
					doc = f.doc
					break
				}
			}
		}
		switch {
		case doc == "":
			offenders = append(offenders, p.ImportPath+": no package doc comment (add a doc.go)")
		case p.Name == "main" && !strings.HasPrefix(doc, "Command "):
			offenders = append(offenders, p.ImportPath+`: a command's doc should start "Command <name> ..."`)
		case p.Name != "main" && len(p.GoFiles) > 0 && !strings.HasPrefix(doc, "Package "+p.Name+" "):
			offenders = append(offenders, p.ImportPath+`: doc should start "Package `+p.Name+` ..."`)
		}
	}
	// Directories go list skipped (every file built out for this platform)
	// still need a doc; they show up only in the file walk.
	listed := map[string]bool{}
	for _, p := range listedPackages(t) {
		listed[p.rel()] = true
	}
	hasDoc := map[string]bool{}
	for _, f := range files {
		hasDoc[f.dir] = hasDoc[f.dir] || f.doc != ""
	}
	for dir, ok := range hasDoc {
		if !listed[dir] && !ok {
			offenders = append(offenders, dir+": no package doc comment (add a doc.go)")
		}
	}
	report(t, "every package needs a doc comment stating its purpose and invariants (STYLE.md P18 pkgdoc_test, P20 doc.go)", offenders)
}

// P14: registration is explicit.
func TestArchNoInitInLibraries(t *testing.T) {
	var offenders []string
	for _, f := range moduleFiles(t) {
		if f.test || !(under(f.dir, "pkg") || under(f.dir, "internal")) {
			continue
		}
		for _, line := range f.inits {
			offenders = append(offenders, f.path+":"+strconv.Itoa(line))
		}
	}
	report(t, "no init() in pkg/ or internal/ (STYLE.md P13, P14: handlers and metrics are registered explicitly from main, not by import side effects)", offenders)
}
