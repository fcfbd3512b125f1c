package policy

import (
	"errors"
	"strconv"
	"strings"
)

// Error is one problem found in a policy file by Parse, Validate or Compile.
// Several problems are returned together with errors.Join; use errors.As to
// walk them.
type Error struct {
	File  string // file name as given to Parse
	Line  int    // 1-based; 0 when unknown
	Col   int    // 1-based byte column; 0 when unknown
	Key   string // key path such as "profile[0].rule[1].errno"; "" for the whole file
	Check string // name of the validation check; "syntax", "version" or "decode" from Parse
	Msg   string
	Err   error // underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// joinErrors returns nil, the single error, or all of them joined, so that a
// lone problem prints on one line without the errors.Join wrapper.
func joinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// placeErrors fills in Line and Col from the source, using the nearest
// ancestor key that appears in it (a missing key is reported at its table).
func placeErrors(src []byte, errs []*Error) {
	if len(src) == 0 || len(errs) == 0 {
		return
	}
	pos := locate(string(src))
	for _, e := range errs {
		if e.Line != 0 {
			continue
		}
		for k := e.Key; k != ""; k = parentKey(k) {
			if p, ok := pos[k]; ok {
				e.Line, e.Col = p.line, p.col
				break
			}
		}
	}
}
