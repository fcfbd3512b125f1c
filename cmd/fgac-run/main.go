// Command fgac-run runs an unmodified program under fgacd: it drops to the
// given user and groups (when started as root), sets NO_NEW_PRIVS, loads a
// seccomp filter that sends the syscalls fgacd brokers to fgacd (pkg/client),
// and execs the program. If fgacd cannot be reached it exits non-zero and
// never runs the program unbrokered.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/pkg/client"
)

const usage = `usage: fgac-run [--socket PATH] [--user U] [--group G] [--spec-allow] [--gpio] [--metadata STR] -- PROGRAM [ARGS...]

Runs PROGRAM with its mknod, mount and umount calls decided by fgacd.
  --socket PATH   fgacd's intake socket (default /run/fgacd/fgacd.sock, or $FGACD_SOCKET)
  --user U        run as this user (name or uid); needs root
  --group G       run with this group (name or gid); default the user's group
  --spec-allow    keep seccomp's speculation mitigation (SSBD) off, for CPU-bound code
  --gpio          also broker GPIO: opens of /dev/gpiochip* and line requests
                  (every open then asks fgacd, which leaves the others to the kernel)
  --metadata STR  OCI listenerMetadata sent to fgacd (believed only when fgac-run runs as root)
Exit status: PROGRAM's, or 1 when fgacd is unreachable or set-up fails, 2 for usage, 127 when PROGRAM is not found.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("fgac-run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	socket := fs.String("socket", envOr("FGACD_SOCKET", client.DefaultSocket), "")
	userName := fs.String("user", "", "")
	groupName := fs.String("group", "", "")
	specAllow := fs.Bool("spec-allow", false, "")
	metadata := fs.String("metadata", "", "")
	gpio := fs.Bool("gpio", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "fgac-run: %v\n", err)
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	prog := fs.Args()
	path, err := exec.LookPath(prog[0])
	if err != nil {
		fmt.Fprintf(stderr, "fgac-run: %s: %v\n", prog[0], err)
		return 127
	}
	if *userName != "" || *groupName != "" {
		if err := dropPrivileges(*userName, *groupName); err != nil {
			fmt.Fprintf(stderr, "fgac-run: %v\n", err)
			return 1
		}
	}
	if err := linux.SetNoNewPrivs(); err != nil {
		fmt.Fprintf(stderr, "fgac-run: %v\n", err)
		return 1
	}
	err = client.Attach(client.Options{Socket: *socket, Metadata: *metadata, SpecAllow: *specAllow, GPIO: *gpio})
	if errors.Is(err, client.ErrUnreachable) {
		fmt.Fprintf(stderr, "fgac-run: %v\nfgac-run: not running %s without fgacd (is fgacd running? see --socket)\n", err, prog[0])
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "fgac-run: %v\n", err)
		return 1
	}
	err = linux.Exec(path, prog, os.Environ())
	fmt.Fprintf(stderr, "fgac-run: %v\n", err)
	return 127
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// dropPrivileges switches to the user (and group) before anything else,
// so the filter and the program run unprivileged.
func dropPrivileges(userName, groupName string) error {
	if os.Geteuid() != 0 {
		return errors.New("--user and --group need fgac-run to start as root")
	}
	uid, gid := -1, -1
	if userName != "" {
		u, err := lookupUser(userName)
		if err != nil {
			return err
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if groupName != "" {
		g, err := lookupGroup(groupName)
		if err != nil {
			return err
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if uid < 0 {
		uid = os.Getuid()
	}
	if gid < 0 {
		gid = os.Getgid()
	}
	return linux.DropTo(uint32(uid), uint32(gid), []int{gid})
}

func lookupUser(s string) (*user.User, error) {
	if _, err := strconv.Atoi(s); err == nil {
		if u, err := user.LookupId(s); err == nil {
			return u, nil
		}
		return &user.User{Uid: s, Gid: s}, nil // a bare uid with no passwd entry: its own group
	}
	u, err := user.Lookup(s)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", s, err)
	}
	return u, nil
}

func lookupGroup(s string) (*user.Group, error) {
	if _, err := strconv.Atoi(s); err == nil {
		return &user.Group{Gid: s}, nil
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", s, err)
	}
	return g, nil
}
