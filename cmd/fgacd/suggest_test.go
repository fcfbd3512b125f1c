package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fgacd/fgacd/pkg/policy"
)

func TestSuggestFromJSONLog(t *testing.T) {
	log := `{"level":"info","msg":"fgacd listening"}
{"level":"info","msg":"decision","profile":"app","uid":65534,"syscall":"mknod","path":"/run/app/fifo","type":"fifo","major":0,"minor":0,"mode":"0640","decision":"deny","learn":true}
{"level":"info","msg":"decision","profile":"app","uid":65534,"syscall":"mknod","path":"/run/app/fifo","type":"fifo","major":0,"minor":0,"mode":"0640","decision":"deny","learn":true}
{"level":"info","msg":"decision","profile":"other","uid":1000,"syscall":"mknod","path":"/x","type":"fifo","mode":"0600","decision":"deny"}
not json at all
`
	var out, errb bytes.Buffer
	if code := cmdSuggest([]string{"-profile", "app"}, strings.NewReader(log), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	spec, err := policy.Parse("draft.toml", out.Bytes())
	if err == nil {
		err = spec.Validate()
	}
	if err != nil {
		t.Fatalf("draft: %v\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), "[[profile.rule]]"); n != 1 {
		t.Errorf("%d rules for one distinct request:\n%s", n, out.String())
	}
	if code := cmdSuggest(nil, strings.NewReader("nothing here\n"), &out, &errb); code != 1 {
		t.Errorf("no records: exit %d, want 1", code)
	}
}
