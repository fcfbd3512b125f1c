package main

import (
	"flag"
	"fmt"
	"io"
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
	syscall := fs.String("syscall", "mknod", "mknod, mount or umount")
	path := fs.String("path", "", "mknod: the resolved path; mount/umount: the resolved target")
	typ := fs.String("type", "", "mknod: char, block, fifo, regular or socket; mount: the fstype")
	major := fs.Uint("major", 0, "mknod: major")
	minor := fs.Uint("minor", 0, "mknod: minor")
	mode := fs.Uint("mode", 0o600, "mknod: permission bits")
	source := fs.String("source", "", "mount: the source")
	options := fs.String("options", "", "mount: data, e.g. size=8m,mode=1777")
	flags := fs.String("flags", "", "mount: flag names, e.g. nosuid,nodev")
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
	return 0
}
