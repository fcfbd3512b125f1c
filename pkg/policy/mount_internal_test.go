package policy

import (
	"math"
	"testing"
)

func TestParseSize(t *testing.T) {
	for s, want := range map[string]uint64{
		"0":                    0,
		"1":                    1,
		"4096":                 4096,
		"1k":                   1 << 10,
		"1K":                   1 << 10,
		"16m":                  16 << 20,
		"16M":                  16 << 20,
		"2g":                   2 << 30,
		"2G":                   2 << 30,
		"0k":                   0,
		"18446744073709551615": math.MaxUint64,
		"17179869183g":         17179869183 << 30, // the largest g that fits
	} {
		got, ok := parseSize(s)
		if !ok || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{
		"", "k", "m", "-1", "+1", " 1", "1 ", "1.5m", "50%", "1t", "1p", "1e", "1kb", "1mm",
		"0x10", "010", "00", "08m", // memparse would read hex and octal: refuse
		"18446744073709551616", // overflows uint64
		"17179869184g",         // overflows after the shift
		"99999999999999999999k",
	} {
		if got, ok := parseSize(s); ok {
			t.Errorf("parseSize(%q) = %d, want an error", s, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { parseSize("16m") }); n != 0 {
		t.Errorf("parseSize allocates %v times", n)
	}
}

func TestOptionCond(t *testing.T) {
	opt := func(s string) *MountOption {
		o, err := ParseMountOptions(s)
		if err != nil || len(o) != 1 {
			t.Fatalf("ParseMountOptions(%q) = %v, %v", s, o, err)
		}
		return &o[0]
	}
	tests := []struct {
		cond   string
		allow  []string
		refuse []string
	}{
		{"<=64m", []string{"size=64m", "size=65536k", "size=67108864", "size=1", "size=64M"},
			[]string{"size=64m1", "size=67108865", "size=1g", "size=0", "size=0m", "size=50%", "size", "size=", "size=0x10", "size=-1"}},
		{"<=1", []string{"n=1"}, []string{"n=0", "n=2", "n=1k"}},
		{"0700|1777", []string{"mode=0700", "mode=1777"}, []string{"mode=700", "mode=01777", "mode", "mode=", "mode=0700|1777"}},
		{"single", []string{"x=single"}, []string{"x=Single", "x"}},
		{"*", []string{"uid=0", "uid=", "uid", "uid=anything at all"}, nil},
		{"", []string{"noswap"}, []string{"noswap=", "noswap=1"}},
	}
	for _, tt := range tests {
		c, err := parseOptionCond("x", tt.cond)
		if err != nil {
			t.Errorf("parseOptionCond(%q): %v", tt.cond, err)
			continue
		}
		for _, s := range tt.allow {
			if !c.allows(opt(s)) {
				t.Errorf("%q refuses %q", tt.cond, s)
			}
		}
		for _, s := range tt.refuse {
			if c.allows(opt(s)) {
				t.Errorf("%q allows %q", tt.cond, s)
			}
		}
	}
	for _, bad := range []string{"<=", "<=0", "<=0k", "<=1t", "<=64 m", "<=-1", "<=1%", "a||b", "|a", "a|", "a|*", "*|a", "a*", "a|<=1m", "a,b", `"a"`, "a\x00"} {
		if _, err := parseOptionCond("x", bad); err == nil {
			t.Errorf("parseOptionCond(%q) succeeded", bad)
		}
	}
}

// Every rule op name is a bit, and opBit agrees with the names.
func TestOpBits(t *testing.T) {
	for _, tt := range []struct {
		args MountArgs
		name string
	}{
		{MountArgs{Op: MountNew}, "new"},
		{MountArgs{Op: MountNew, Recursive: true}, "new"},
		{MountArgs{Op: MountBind}, "bind"},
		{MountArgs{Op: MountBind, Recursive: true}, "rbind"},
		{MountArgs{Op: MountRemount}, "remount"},
		{MountArgs{Op: MountPropagation, Recursive: true}, "propagation"},
		{MountArgs{Op: MountMove}, "move"},
	} {
		b, ok := parseRuleOp(tt.name)
		if !ok || opBit(&tt.args) != b {
			t.Errorf("%+v: bit %b, want %s (%b)", tt.args, opBit(&tt.args), tt.name, b)
		}
	}
	if opBit(&MountArgs{}) != 0 || opBit(&MountArgs{Op: 6}) != 0 {
		t.Error("unknown op has a bit")
	}
	if _, ok := parseRuleOp("rremount"); ok {
		t.Error("unknown op name parsed")
	}
}
