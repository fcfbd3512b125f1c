package main

import (
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fgacd/fgacd/internal/metrics"
)

// Every metric fgacd declares is in the operator doc's reference.
func TestMetricsReferenceIsComplete(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.ForSyscall("mknod").Observe(metrics.DecisionDeny, 0)
	m.MemreadError("efault")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.Contains(string(doc), "`"+mf.GetName()+"`") {
			t.Errorf("docs/operations.md does not describe %s", mf.GetName())
		}
	}
}
