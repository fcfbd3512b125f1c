package dispatch

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/fgacd/fgacd/pkg/policy"
)

// Record is a decision record read back from the daemon's JSON log.
type Record struct {
	Profile  string
	UID      uint32
	Exe      string
	Decision string
	Learn    bool
	Request  policy.Request
}

// ParseRecord reads one JSON log line; ok is false for lines that are not
// decision records (other messages, console format, garbage).
func ParseRecord(line []byte) (Record, bool) {
	var r struct {
		Msg       string          `json:"msg"`
		Profile   string          `json:"profile"`
		UID       uint32          `json:"uid"`
		Exe       string          `json:"exe"`
		Decision  string          `json:"decision"`
		Learn     bool            `json:"learn"`
		Syscall   string          `json:"syscall"`
		Path      string          `json:"path"`
		Type      string          `json:"type"`
		Major     uint32          `json:"major"`
		Minor     uint32          `json:"minor"`
		Mode      string          `json:"mode"`
		Op        string          `json:"op"`
		Recursive bool            `json:"recursive"`
		FSType    string          `json:"fstype"`
		Source    string          `json:"source"`
		Target    string          `json:"target"`
		Flags     json.RawMessage `json:"flags"`
		Options   []string        `json:"options"`
		Chip      string          `json:"chip"`
		Lines     []uint32        `json:"lines"`
	}
	if json.Unmarshal(line, &r) != nil || r.Msg != "decision" {
		return Record{}, false
	}
	rec := Record{Profile: r.Profile, UID: r.UID, Exe: r.Exe, Decision: r.Decision, Learn: r.Learn}
	rec.Request.Syscall = r.Syscall
	switch r.Syscall {
	case "mknod":
		if r.Path == "" {
			return rec, true // arguments were not read
		}
		t, err := policy.ParseFileType(r.Type)
		if err != nil {
			return Record{}, false
		}
		mode, _ := strconv.ParseUint(r.Mode, 8, 32)
		rec.Request.Mknod = &policy.MknodArgs{Path: r.Path, Type: t, Major: r.Major, Minor: r.Minor, Mode: uint32(mode)}
	case "mount":
		if r.Target == "" {
			return rec, true
		}
		a := &policy.MountArgs{FSType: r.FSType, Source: r.Source, Target: r.Target, Recursive: r.Recursive}
		for _, op := range []policy.MountOp{policy.MountNew, policy.MountBind, policy.MountRemount, policy.MountPropagation, policy.MountMove} {
			if op.String() == r.Op {
				a.Op = op
			}
		}
		var names []string
		json.Unmarshal(r.Flags, &names)
		a.Flags, _ = policy.ParseMountFlags(names)
		opts, err := policy.ParseMountOptions(strings.Join(r.Options, ","))
		if err != nil {
			return Record{}, false
		}
		a.Options = opts
		rec.Request.Mount = a
	case "umount":
		if r.Target == "" {
			return rec, true
		}
		var fl uint32
		json.Unmarshal(r.Flags, &fl)
		rec.Request.Umount = &policy.UmountArgs{Target: r.Target, Flags: fl}
	case "gpio_open", "gpio_line":
		if r.Chip == "" {
			return rec, true // not a chip, or not read
		}
		a := &policy.GPIOArgs{Chip: r.Chip, Path: r.Path, Lines: r.Lines}
		if r.Syscall == "gpio_line" {
			var names []string
			json.Unmarshal(r.Flags, &names)
			f, err := policy.ParseGPIOFlags(names)
			if err != nil {
				return Record{}, false
			}
			a.Flags = f
		}
		rec.Request.GPIO = a
	}
	return rec, true
}
