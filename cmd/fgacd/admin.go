package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/fgacd/fgacd/pkg/notify"
)

// The admin endpoint: read-only JSON over a UNIX socket only root can
// open (mode 0600). Nothing remote reaches it, nothing can change state
// through it.

type statusReply struct {
	Version  string               `json:"version"`
	Policy   string               `json:"policy_version"`
	Sessions []notify.SessionInfo `json:"sessions"`
}

func serveAdmin(ctx context.Context, path string, srv *notify.Server, policyVersion func() string) (func() error, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := notify.RemoveStaleSocket(path); err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(statusReply{Version: version, Policy: policyVersion(), Sessions: srv.Sessions()})
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	return func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, nil
}

// cmdStatus lists live sessions from a running daemon.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("admin", DefaultConfig().Admin.Socket, "the daemon's admin socket")
	asJSON := fs.Bool("json", false, "print the daemon's JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", *path)
		},
	}}
	resp, err := hc.Get("http://fgacd/status")
	if err != nil {
		fmt.Fprintf(stderr, "fgacd status: %v (is fgacd running? are you root?)\n", err)
		return 1
	}
	defer resp.Body.Close()
	var st statusReply
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &st); err != nil {
		fmt.Fprintf(stderr, "fgacd status: %v\n", err)
		return 1
	}
	if *asJSON {
		stdout.Write(body)
		return 0
	}
	fmt.Fprintf(stdout, "fgacd %s, policy %s, %d sessions\n", st.Version, st.Policy, len(st.Sessions))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tPID\tUID\tEXE\tCONTAINER\tPROFILE\tHANDLED")
	for _, s := range st.Sessions {
		profile := s.Profile
		if profile == "" {
			profile = "(none: deny-only)"
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%d\n", s.ID, s.Identity.Pid, s.Identity.UID, s.Identity.Exe,
			s.Identity.ContainerID, profile, s.Handled)
	}
	tw.Flush()
	return 0
}
