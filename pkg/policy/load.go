package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadFS parses, validates and compiles the files in fsys matching pattern
// (fs.Glob syntax), in sorted order, e.g. LoadFS(policies.FS, "demo.toml").
func LoadFS(fsys fs.FS, pattern string) (*Set, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("load policies: no files match %q", pattern)
	}
	return load(fsys, names, func(name string) string { return name })
}

// LoadDir loads every *.toml file in dir, in sorted order. Messages name
// files by their path under dir.
func LoadDir(dir string) (*Set, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("load policies: %s is not a directory", dir)
	}
	fsys := os.DirFS(dir)
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no policy files in %s", dir)
	}
	return load(fsys, names, func(name string) string { return filepath.Join(dir, name) })
}

// load parses every file before giving up, so one run reports all problems.
func load(fsys fs.FS, names []string, display func(string) string) (*Set, error) {
	var specs []*Spec
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("load policies: %w", err))
			continue
		}
		s, err := Parse(display(name), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		specs = append(specs, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return Compile(specs...)
}

// CheckFile parses and validates one file, for `fgacd policy check`.
// Problems that need several files (duplicate names across files) show up
// only in LoadDir and Compile.
func CheckFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("check policy: %w", err)
	}
	s, err := Parse(path, data)
	if err != nil {
		return err
	}
	return s.Validate()
}
