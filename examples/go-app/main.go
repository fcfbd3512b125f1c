// Command go-app is a Go program that attaches itself to fgacd with
// pkg/client, then asks for a device node: the Go counterpart of
// examples/mknod-app.
//
//	go-app [-socket PATH] PATH
//
// Run it unprivileged (e.g. as nobody) with a policy that grants char 1:3
// at PATH (policies/demo.toml grants /tmp/fgacd-demo/*).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"

	"github.com/fgacd/fgacd/pkg/client"
)

func main() {
	socket := flag.String("socket", client.DefaultSocket, "fgacd's socket")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: go-app [-socket PATH] PATH")
		os.Exit(2)
	}
	// Attach before anything else: from here on, mknod and mount calls of
	// every thread of this process are decided by fgacd.
	if err := client.Attach(client.Options{Socket: *socket}); err != nil {
		fmt.Fprintf(os.Stderr, "go-app: %v\n", err)
		os.Exit(1)
	}
	p := flag.Arg(0)
	err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3) // makedev(1, 3)
	var errno syscall.Errno
	switch {
	case err == nil:
		fmt.Printf("mknod %s: ok\n", p)
	case errors.As(err, &errno):
		fmt.Printf("mknod %s: %v (errno %d)\n", p, err, int(errno))
	default:
		fmt.Printf("mknod %s: %v\n", p, err)
	}
}
