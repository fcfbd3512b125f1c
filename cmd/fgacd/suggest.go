package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fgacd/fgacd/pkg/dispatch"
	"github.com/fgacd/fgacd/pkg/policy"
)

// cmdSuggest turns the decision records of a learn-mode profile (the
// daemon's JSON log, e.g. `journalctl -u fgacd -o cat`) into a policy
// draft that grants exactly what was recorded.
func cmdSuggest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("suggest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("profile", "", "the learn-mode profile whose records to use (default: every learn-mode record)")
	name := fs.String("name", "", "the drafted profile's name (default: PROFILE-learned)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var inputs []io.Reader
	for _, f := range fs.Args() {
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintf(stderr, "fgacd suggest: %v\n", err)
			return 1
		}
		defer fh.Close()
		inputs = append(inputs, fh)
	}
	if len(inputs) == 0 {
		inputs = []io.Reader{stdin}
	}
	var uids []uint32
	var reqs []policy.Request
	profile := *from
	for _, in := range inputs {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			rec, ok := dispatch.ParseRecord(sc.Bytes())
			if !ok || !rec.Learn || (*from != "" && rec.Profile != *from) {
				continue
			}
			if profile == "" {
				profile = rec.Profile
			}
			uids = append(uids, rec.UID)
			reqs = append(reqs, rec.Request)
		}
	}
	if *name == "" {
		*name = profile + "-learned"
	}
	out, err := policy.Suggest(*name, uids, reqs)
	if err != nil {
		fmt.Fprintf(stderr, "fgacd %v (are there learn-mode decision records in the input?)\n", err)
		return 1
	}
	stdout.Write(out)
	return 0
}
