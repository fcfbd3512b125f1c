package notify

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Messages as runtimes send them (runtime-spec ContainerProcessState).
const (
	// runc 1.1: compact, no trailing newline.
	runcMessage = `{"ociVersion":"1.0.2-dev","fds":["seccompFd"],"pid":123,"metadata":"m",` +
		`"state":{"ociVersion":"1.0.2-dev","id":"c","status":"creating","pid":123,"bundle":"/b"}}`

	// crun 1.8: pretty-printed, ociVersion 0.2.0, a trailing newline.
	crunMessage = `{
  "ociVersion": "0.2.0",
  "fds": [
    "seccompFd"
  ],
  "pid": 4242,
  "metadata": "crun metadata",
  "state": {
    "ociVersion": "0.2.0",
    "id": "web-1",
    "status": "creating",
    "pid": 4242,
    "bundle": "/run/containers/web-1"
  }
}
`
)

func TestParseMessageAccepts(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want ContainerProcessState
	}{
		{"runc compact", runcMessage, ContainerProcessState{
			Version: "1.0.2-dev", Fds: []string{"seccompFd"}, Pid: 123, Metadata: "m",
			State: State{Version: "1.0.2-dev", ID: "c", Status: "creating", Pid: 123, Bundle: "/b"},
		}},
		{"crun pretty with trailing newline", crunMessage, ContainerProcessState{
			Version: "0.2.0", Fds: []string{"seccompFd"}, Pid: 4242, Metadata: "crun metadata",
			State: State{Version: "0.2.0", ID: "web-1", Status: "creating", Pid: 4242, Bundle: "/run/containers/web-1"},
		}},
		{"state with annotations",
			`{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":7,"state":{"ociVersion":"1.0.2","id":"a","status":"creating",` +
				`"bundle":"/x","annotations":{"io.kubernetes.pod.name":"p","org.example/empty":""}}}`,
			ContainerProcessState{
				Version: "1.0.2", Fds: []string{"seccompFd"}, Pid: 7,
				State: State{Version: "1.0.2", ID: "a", Status: "creating", Bundle: "/x",
					Annotations: map[string]string{"io.kubernetes.pod.name": "p", "org.example/empty": ""}},
			}},
		{"state with a field from a later runtime-spec",
			`{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":7,"state":{"ociVersion":"1.3.0","id":"a","status":"creating",` +
				`"bundle":"/x","futureField":{"nested":[1,2,3]}}}`,
			ContainerProcessState{
				Version: "1.0.2", Fds: []string{"seccompFd"}, Pid: 7,
				State: State{Version: "1.3.0", ID: "a", Status: "creating", Bundle: "/x"},
			}},
		{"no state", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":7}`,
			ContainerProcessState{Version: "1.0.2", Fds: []string{"seccompFd"}, Pid: 7}},
		{"null state", `{"ociVersion":"1.0.2","fds":["seccompFd"],"state":null}`,
			ContainerProcessState{Version: "1.0.2", Fds: []string{"seccompFd"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMessage([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, c.want)
			}
		})
	}
}

func TestParseMessageRejects(t *testing.T) {
	state := `"state":{"ociVersion":"1.0.2","id":"c","status":"creating","bundle":"/b"}`
	cases := []struct{ name, in string }{
		{"unknown top-level field", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"seccompFdx":3,` + state + `}`},
		{"missing ociVersion", `{"fds":["seccompFd"],"pid":1,` + state + `}`},
		{"keys in another case", `{"OCIVERSION":"1.0.2","FDS":["seccompFd"],"PID":5}`},
		{"trailing garbage", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1} garbage`},
		{"second object", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1}{"evil":1}`},
		{"empty ociVersion", `{"ociVersion":"","fds":["seccompFd"],"pid":1,` + state + `}`},
		{"negative pid", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":-1,` + state + `}`},
		{"negative state pid", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"state":{"ociVersion":"1.0.2","pid":-5}}`},
		{"pid beyond int", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1e30}`},
		{"pid as string", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":"1"}`},
		{"fds not a list", `{"ociVersion":"1.0.2","fds":"seccompFd"}`},
		{"state not an object", `{"ociVersion":"1.0.2","fds":["seccompFd"],"state":"running"}`},
		{"annotation not a string", `{"ociVersion":"1.0.2","state":{"annotations":{"a":1}}}`},
		{"array", `[{"ociVersion":"1.0.2"}]`},
		{"string", `"ociVersion"`},
		{"number", `42`},
		{"null", `null`},
		{"empty", ``},
		{"truncated", runcMessage[:len(runcMessage)-1]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if m, err := ParseMessage([]byte(c.in)); err == nil {
				t.Fatalf("ParseMessage(%s) = %+v; want an error", c.in, m)
			}
		})
	}
}

func TestSeccompFdIndex(t *testing.T) {
	cases := []struct {
		name    string
		fds     []string
		nfds    int
		want    int
		wantErr string
	}{
		{"one fd", []string{"seccompFd"}, 1, 0, ""},
		{"second of two", []string{"pidFd", "seccompFd"}, 2, 1, ""},
		{"first of two", []string{"seccompFd", "pidFd"}, 2, 0, ""},
		{"more passed than named", []string{"seccompFd"}, 2, -1, "names 1 fds, 2 were passed"},
		{"fewer passed than named", []string{"pidFd", "seccompFd"}, 1, -1, "names 2 fds, 1 were passed"},
		{"none named, none passed", nil, 0, -1, `names no "seccompFd"`},
		{"name missing", []string{"pidFd", "otherFd"}, 2, -1, `names no "seccompFd"`},
		{"name in other case", []string{"seccompfd"}, 1, -1, `names no "seccompFd"`},
		{"name twice", []string{"seccompFd", "seccompFd"}, 2, -1, `"seccompFd" twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &ContainerProcessState{Fds: c.fds}
			got, err := m.SeccompFdIndex(c.nfds)
			if got != c.want {
				t.Errorf("index = %d; want %d", got, c.want)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("error %v; want none", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v; want one saying %q", err, c.wantErr)
			}
		})
	}
}

// scanWhole feeds b in one piece.
func scanWhole(b []byte) (int, error) {
	var s objectScanner
	return s.feed(b)
}

// scanPieces feeds b in pieces whose lengths come from cuts (each byte
// mod 17, so empty pieces happen too), then the rest in one piece, and
// returns the end offset in b, as the server computes it.
func scanPieces(b, cuts []byte) (int, error) {
	var s objectScanner
	at := 0
	for i := 0; at < len(b) || i == 0; i++ {
		n := len(b) - at
		if i < len(cuts) {
			n = min(n, int(cuts[i]%17))
		}
		e, err := s.feed(b[at : at+n])
		if err != nil {
			return -1, err
		}
		if e >= 0 {
			return at + e, nil
		}
		at += n
	}
	return -1, nil
}

func TestObjectScanner(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    int // end offset; -1: needs more
		wantErr error
	}{
		{"empty object", `{}`, 2, nil},
		{"runc message", runcMessage, len(runcMessage), nil},
		{"crun message: the trailing newline is not consumed", crunMessage, len(crunMessage) - 1, nil},
		{"trailing newline", "{\"a\":1}\n", 7, nil},
		{"a second object is left alone", `{"a":{}}{"b":2}`, 8, nil},
		{"leading whitespace", " \t\r\n {\"a\":1}", 12, nil},
		{"brace and escaped quote in a string", `{"k":"a\"}{"}`, 13, nil},
		{"braces in keys and values", `{"}":"{","{{":"}}"}`, 19, nil},
		{"escaped backslash ends before the quote", `{"k":"a\\"}`, 11, nil},
		{"escaped backslash then escaped quote", `{"k":"\\\"}"}`, 13, nil},
		{"unicode escape of a quote", `{"k":"\u0022}"}`, 15, nil},
		{"nested objects and arrays", `{"a":[{"b":[1,{"c":"]"}]}],"d":{}}`, 34, nil},
		{"open string", `{"k":"}`, -1, nil},
		{"open object", `{"a":{"b":1}`, -1, nil},
		{"only whitespace", " \n\t", -1, nil},
		{"nothing", ``, -1, nil},
		{"leading garbage", `x{}`, -1, errNotObject},
		{"array", `[{}]`, -1, errNotObject},
		{"string", `"{}"`, -1, errNotObject},
		{"byte-order mark", "\xef\xbb\xbf{}", -1, errNotObject},
		{"NUL before the object", "\x00{}", -1, errNotObject},
		{"vertical tab is not JSON whitespace", "\v{}", -1, errNotObject},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := scanWhole([]byte(c.in))
			if got != c.want || err != c.wantErr {
				t.Fatalf("feed(%q) = %d, %v; want %d, %v", c.in, got, err, c.want, c.wantErr)
			}
			// Byte by byte: the end is found exactly at the closing brace,
			// and no earlier piece claims one.
			var s objectScanner
			for i := range len(c.in) {
				e, err := s.feed([]byte{c.in[i]})
				if err != nil {
					if err != c.wantErr {
						t.Fatalf("byte %d: %v; want %v", i, err, c.wantErr)
					}
					return
				}
				if e >= 0 {
					if e != 1 || i+1 != c.want {
						t.Fatalf("byte %d (%q) ended the object at %d; want the end at %d", i, c.in[i], e, c.want)
					}
					return
				}
			}
			if c.want >= 0 || c.wantErr != nil {
				t.Fatalf("fed byte by byte: no end found; want %d, %v", c.want, c.wantErr)
			}
		})
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		runcMessage, crunMessage, `{}`, "{\"a\":1}\n", `{"k":"a\"}{"}`, `{"k":"a\\"}`,
		`{"a":[{"b":[1,{"c":"]"}]}]}`, ` {"u":"\u0022"}`, `x{}`, `[{}]`, `{]`, `}`, `{"`, `{"\`,
	} {
		f.Add([]byte(s), []byte{1, 0, 3, 16})
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		whole, wholeErr := scanWhole(data)
		split, splitErr := scanPieces(data, cuts)
		if whole != split || wholeErr != splitErr {
			t.Fatalf("whole: %d, %v; in pieces %v: %d, %v", whole, wholeErr, cuts, split, splitErr)
		}
		if wholeErr != nil && whole != -1 {
			t.Fatalf("error %v with end %d", wholeErr, whole)
		}
		if whole > len(data) || whole == 0 || (whole > 0 && data[whole-1] != '}' && data[whole-1] != ']') {
			t.Fatalf("end %d is not just past a closing bracket of %q", whole, data)
		}
		// A valid JSON object (and trailing whitespace) ends where
		// encoding/json says it does.
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if json.Valid(data) && len(trimmed) > 0 && trimmed[0] == '{' {
			if want := len(bytes.TrimRight(data, " \t\r\n")); whole != want {
				t.Fatalf("valid object %q: end %d; want %d", data, whole, want)
			}
		}
	})
}
