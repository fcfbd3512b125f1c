package handlers

import "testing"

// mountinfo's mount point and source fields escape what would split them.
func TestMountinfoEscape(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/a":       "/tmp/a",
		"/tmp/a b":     `/tmp/a\040b`,
		"/tmp/t\tn\nx": `/tmp/t\011n\012x`,
		`/tmp/back\sl`: `/tmp/back\134sl`,
		"/tmp/ünïcödé": "/tmp/ünïcödé",
	} {
		if got := mountinfoEscape(in); got != want {
			t.Errorf("mountinfoEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
