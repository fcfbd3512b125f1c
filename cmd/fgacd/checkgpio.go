package main

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/pkg/policy"
)

// chip is a GPIO chip present on this machine.
type chip struct {
	name, label string
	lines       uint32
}

// presentChips lists the chips in /dev, by their info ioctl. None on a
// kernel without GPIO, or when not allowed to open them.
func presentChips() []chip {
	paths, _ := filepath.Glob("/dev/gpiochip*")
	sort.Strings(paths)
	var out []chip
	for _, p := range paths {
		fd, err := linux.Open(p, linux.O_RDONLY, 0)
		if err != nil {
			continue
		}
		info, err := linux.GPIOGetChipInfo(fd)
		linux.Close(fd)
		if err == nil {
			out = append(out, chip{name: info.Name, label: info.Label, lines: info.Lines})
		}
	}
	return out
}

// checkGPIOLines reports line offsets in gpio_line rules that are beyond
// every present chip their chip globs match: what `fgacd check` can catch
// on the device itself, where the chips are known. A rule whose globs
// match no present chip is not judged (the policy may serve other boards).
func checkGPIOLines(file string, data []byte, chips []chip) []string {
	if len(chips) == 0 {
		return nil
	}
	s, err := policy.Parse(file, data)
	if err != nil {
		return nil // reported by the policy checks
	}
	var out []string
	for i, p := range s.Profiles {
		for j, r := range p.Rules {
			if r.GPIOLine == nil || len(r.GPIOLine.Lines) == 0 {
				continue
			}
			var matched []chip
			for _, c := range chips {
				if policy.GlobsMatch(r.GPIOLine.Chip, c.label) {
					matched = append(matched, c)
				}
			}
			if len(matched) == 0 {
				continue
			}
			most := matched[0]
			for _, c := range matched {
				if c.lines > most.lines {
					most = c
				}
			}
			for k, rg := range r.GPIOLine.Lines {
				if rg.Hi >= int64(most.lines) {
					out = append(out, fmt.Sprintf("%s: profile[%d].rule[%d].gpio_line.lines[%d]: line %s is beyond chip %q (%s), which has %d lines (0-%d)",
						file, i, j, k, rg, most.label, most.name, most.lines, most.lines-1))
				}
			}
		}
	}
	return out
}
