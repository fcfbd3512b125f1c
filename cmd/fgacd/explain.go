package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fgacd/fgacd/pkg/policy"
	"github.com/fgacd/fgacd/policies"
)

// cmdExplain says which profile and rule decide a given request, and why.
func cmdExplain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "policy directory (default: the policy built into fgacd)")
	uid := fs.Uint("uid", 0, "caller uid")
	gid := fs.Uint("gid", 0, "caller gid")
	exe := fs.String("exe", "", "caller executable")
	cgroup := fs.String("cgroup", "", "caller cgroup (v2 path)")
	trusted := fs.Bool("trusted", false, "the OCI fields below come from a trusted runtime")
	metadata := fs.String("metadata", "", "OCI listenerMetadata")
	containerID := fs.String("container-id", "", "OCI container id")
	annotations := fs.String("annotations", "", "OCI annotations, k=v,k=v")
	syscall := fs.String("syscall", "mknod", "mknod, mount, umount, gpio_open or gpio_line")
	path := fs.String("path", "", "mknod: the resolved path; mount/umount: the resolved target")
	typ := fs.String("type", "", "mknod: char, block, fifo, regular or socket; mount: the fstype")
	major := fs.Uint("major", 0, "mknod: major")
	minor := fs.Uint("minor", 0, "mknod: minor")
	mode := fs.Uint("mode", 0o600, "mknod: permission bits")
	source := fs.String("source", "", "mount: the source")
	options := fs.String("options", "", "mount: data, e.g. size=8m,mode=1777")
	flags := fs.String("flags", "", "mount: flag names, e.g. nosuid,nodev; gpio_line: line flags, e.g. output,active_low")
	chip := fs.String("chip", "", "gpio_open, gpio_line: the chip's label")
	lines := fs.String("lines", "", "gpio_line: line offsets, e.g. 1,2")
	names := fs.String("names", "", "gpio_line: the lines' names, in the order of -lines")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var set *policy.Set
	var err error
	if *dir != "" {
		set, err = policy.LoadDir(*dir)
	} else {
		set, err = policy.LoadFS(policies.FS, "default.toml")
	}
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	id := policy.Identity{UID: uint32(*uid), GID: uint32(*gid), Exe: *exe, Cgroup: *cgroup,
		Trusted: *trusted, Metadata: *metadata, ContainerID: *containerID, Annotations: map[string]string{}}
	for _, kv := range strings.Split(*annotations, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			id.Annotations[k] = v
		}
	}
	req := policy.Request{Syscall: *syscall}
	switch *syscall {
	case "mknod":
		t, err := policy.ParseFileType(*typ)
		if err != nil && *typ != "" {
			fmt.Fprintf(stderr, "fgacd explain: %v\n", err)
			return 2
		}
		if *typ != "" || *path != "" {
			req.Mknod = &policy.MknodArgs{Path: *path, Type: t, Major: uint32(*major), Minor: uint32(*minor), Mode: uint32(*mode)}
		}
	case "mount":
		opts, err := policy.ParseMountOptions(*options)
		if err != nil {
			fmt.Fprintf(stderr, "fgacd explain: %v\n", err)
			return 2
		}
		var fl uint64
		if *flags != "" {
			if fl, err = policy.ParseMountFlags(strings.Split(*flags, ",")); err != nil {
				fmt.Fprintf(stderr, "fgacd explain: %v\n", err)
				return 2
			}
		}
		req.Mount = &policy.MountArgs{Op: policy.MountNew, FSType: *typ, Source: *source, Target: *path, Flags: fl, Options: opts}
	case "umount":
		req.Umount = &policy.UmountArgs{Target: *path}
	case "gpio_open", "gpio_line":
		a, err := explainGPIO(*chip, *lines, *names, *flags)
		if err != nil {
			fmt.Fprintf(stderr, "fgacd explain: %v\n", err)
			return 2
		}
		if *syscall == "gpio_open" {
			a.Lines, a.Names, a.Flags = nil, nil, 0
		}
		req.GPIO = a
	}
	p := set.Select(id)
	d := p.Decide(req)
	fmt.Fprintf(stdout, "policy version: %s\n", set.Version())
	if p == nil {
		fmt.Fprintln(stdout, "profile:        none matches this caller (served deny-only)")
	} else {
		fmt.Fprintf(stdout, "profile:        %s\n", p.Name())
	}
	rule := d.Rule
	if rule == "" {
		rule = "(the profile's default)"
	}
	fmt.Fprintf(stdout, "rule:           %s\ndecision:       %s", rule, d.Action)
	if d.Action == policy.ActionDeny {
		fmt.Fprintf(stdout, " %s", d.Errno)
	}
	if d.ForceFlags != 0 {
		fmt.Fprintf(stdout, " (forcing %s)", strings.Join(policy.MountFlagNames(d.ForceFlags), ","))
	}
	fmt.Fprintf(stdout, "\nreason:         %s\n", d.Reason)
	if req.Syscall == "gpio_open" && d.Action == policy.ActionDeny && d.Rule == "" && p.GrantsGPIOLines(*chip) {
		fmt.Fprintln(stdout, "note:           lines of this chip can be granted: the open gets a handle to ask for them through, not the chip")
	}
	return 0
}

// explainGPIO builds GPIO arguments from explain's flags.
func explainGPIO(chip, lines, names, flags string) (*policy.GPIOArgs, error) {
	a := &policy.GPIOArgs{Chip: chip}
	for _, l := range strings.Split(lines, ",") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		n, err := strconv.ParseUint(l, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("-lines: %q is not a line offset", l)
		}
		a.Lines = append(a.Lines, uint32(n))
	}
	a.Names = make([]string, len(a.Lines))
	if names != "" {
		for i, n := range strings.Split(names, ",") {
			if i < len(a.Names) {
				a.Names[i] = strings.TrimSpace(n)
			}
		}
	}
	if flags != "" {
		f, err := policy.ParseGPIOFlags(strings.Split(flags, ","))
		if err != nil {
			return nil, err
		}
		a.Flags = f
	}
	return a, nil
}
