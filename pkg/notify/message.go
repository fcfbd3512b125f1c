package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// SeccompFdName is the name runtimes give the listener in "fds"
// (runtime-spec config-linux.md, "seccomp" listenerPath).
const SeccompFdName = "seccompFd"

// ContainerProcessState is the message every client sends: the OCI
// runtime-spec's ContainerProcessState, with the fds named in Fds passed in
// SCM_RIGHTS in the same order. runc 1.1 sends it compact, crun 1.8
// pretty-printed with a trailing newline and ociVersion "0.2.0".
type ContainerProcessState struct {
	Version  string   `json:"ociVersion"`
	Fds      []string `json:"fds"`
	Pid      int      `json:"pid"`
	Metadata string   `json:"metadata,omitempty"`
	State    State    `json:"state"`
}

// State is the runtime-spec container state inside the message.
type State struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid,omitempty"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ParseMessage decodes one message. The top level is strict (unknown
// fields are errors); "state" is decoded leniently because the runtime-spec
// may add fields to it.
func ParseMessage(b []byte) (*ContainerProcessState, error) {
	// encoding/json matches field names case-insensitively and ignores
	// what follows the value; a message from an untrusted peer gets
	// neither: exact keys, one object.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	for k := range keys {
		switch k {
		case "ociVersion", "fds", "pid", "metadata", "state":
		default:
			return nil, fmt.Errorf("decode message: unknown field %q", k)
		}
	}
	var top struct {
		ContainerProcessState
		State json.RawMessage `json:"state"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&top); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	m := top.ContainerProcessState
	if len(top.State) > 0 && !bytes.Equal(top.State, []byte("null")) {
		if err := json.Unmarshal(top.State, &m.State); err != nil {
			return nil, fmt.Errorf("decode message state: %w", err)
		}
	}
	if m.Version == "" {
		return nil, errors.New("message: ociVersion missing")
	}
	if m.Pid < 0 || m.State.Pid < 0 {
		return nil, errors.New("message: negative pid")
	}
	return &m, nil
}

// SeccompFdIndex returns where the listener is among the passed fds.
func (m *ContainerProcessState) SeccompFdIndex(nfds int) (int, error) {
	if len(m.Fds) != nfds {
		return -1, fmt.Errorf("message names %d fds, %d were passed", len(m.Fds), nfds)
	}
	idx := -1
	for i, name := range m.Fds {
		if name == SeccompFdName {
			if idx >= 0 {
				return -1, fmt.Errorf("message names %q twice", SeccompFdName)
			}
			idx = i
		}
	}
	if idx < 0 {
		return -1, fmt.Errorf("message names no %q", SeccompFdName)
	}
	return idx, nil
}

// objectScanner finds the end of the first JSON object in a byte stream
// fed in pieces, so a message is complete when its closing brace arrives:
// runtimes keep the connection open, so EOF never comes.
type objectScanner struct {
	started bool
	depth   int
	inStr   bool
	escape  bool
}

// errNotObject: the stream does not start with '{'.
var errNotObject = errors.New("message is not a JSON object")

// feed scans b and returns the offset just past the object's closing
// brace, or -1 when more bytes are needed.
func (s *objectScanner) feed(b []byte) (int, error) {
	for i, c := range b {
		if !s.started {
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			case '{':
				s.started, s.depth = true, 1
				continue
			default:
				return -1, errNotObject
			}
		}
		switch {
		case s.escape:
			s.escape = false
		case s.inStr:
			switch c {
			case '\\':
				s.escape = true
			case '"':
				s.inStr = false
			}
		case c == '"':
			s.inStr = true
		case c == '{' || c == '[':
			s.depth++
		case c == '}' || c == ']':
			s.depth--
			if s.depth == 0 {
				return i + 1, nil
			}
		}
	}
	return -1, nil
}
