package policy

import (
	"strconv"
	"strings"
)

// The TOML decoder reports positions only for syntax errors, and for arrays
// of tables it keeps one position per key name (the last [[profile.rule]]
// wins), so an error in the first rule would point at the last one. locate
// rescans the already-parsed source and maps every key path, spelled as the
// decoder in this package spells it ("profile[0].rule[1].action"), to where
// the key is written. It only serves error messages: on input it does not
// understand it records less, never panics and always terminates.

type srcPos struct{ line, col int }

// joinKey appends one key segment to a key path, quoting it if needed.
func joinKey(path, seg string) string {
	if !isBareKey(seg) {
		seg = strconv.Quote(seg)
	}
	if path == "" {
		return seg
	}
	return path + "." + seg
}

func indexKey(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parentKey drops the last segment or index of a key path.
func parentKey(k string) string {
	last := 0
	for i := 0; i < len(k); i++ {
		switch k[i] {
		case '"':
			for i++; i < len(k) && k[i] != '"'; i++ {
				if k[i] == '\\' {
					i++
				}
			}
		case '.', '[':
			last = i
		}
	}
	return k[:last]
}

type locator struct {
	s         string
	i         int
	line      int
	lineStart int
	out       map[string]srcPos
	aot       map[string]int // arrays of tables seen so far, by indexed path
}

func locate(src string) map[string]srcPos {
	l := &locator{s: src, line: 1, out: map[string]srcPos{}, aot: map[string]int{}}
	ctx := ""
	for l.i < len(l.s) {
		start := l.i
		l.skipBlank()
		if l.i >= len(l.s) {
			break
		}
		p := l.pos()
		if l.s[l.i] == '[' {
			array := strings.HasPrefix(l.s[l.i:], "[[")
			if array {
				l.i += 2
			} else {
				l.i++
			}
			ctx = l.resolve(l.key(), array, p)
			l.record(ctx, p)
		} else if segs := l.key(); len(segs) > 0 {
			path := l.recordKey(ctx, segs, p)
			l.skipSpace()
			if l.peek('=') {
				l.i++
				l.skipSpace()
				l.value(path)
			}
		}
		l.skipLine()
		if l.i == start {
			l.advance()
		}
	}
	return l.out
}

func (l *locator) pos() srcPos { return srcPos{l.line, l.i - l.lineStart + 1} }

func (l *locator) peek(c byte) bool { return l.i < len(l.s) && l.s[l.i] == c }

func (l *locator) advance() {
	if l.i < len(l.s) {
		if l.s[l.i] == '\n' {
			l.line++
			l.lineStart = l.i + 1
		}
		l.i++
	}
}

func (l *locator) record(path string, p srcPos) {
	if _, ok := l.out[path]; !ok {
		l.out[path] = p
	}
}

// recordKey records a dotted key and its implicit parent tables.
func (l *locator) recordKey(ctx string, segs []string, p srcPos) string {
	path := ctx
	for _, seg := range segs {
		path = joinKey(path, seg)
		l.record(path, p)
	}
	return path
}

// resolve turns a table header into an indexed path: a segment naming an
// array of tables refers to its latest element; a [[header]] opens a new one.
func (l *locator) resolve(segs []string, array bool, p srcPos) string {
	path := ""
	for j, seg := range segs {
		path = joinKey(path, seg)
		if array && j == len(segs)-1 {
			n := l.aot[path]
			l.aot[path] = n + 1
			l.record(path, p)
			path = indexKey(path, n)
		} else if n, ok := l.aot[path]; ok {
			path = indexKey(path, n-1)
		}
	}
	return path
}

func (l *locator) skipSpace() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t') {
		l.i++
	}
}

// skipBlank skips whitespace, newlines and comments.
func (l *locator) skipBlank() {
	for l.i < len(l.s) {
		switch l.s[l.i] {
		case ' ', '\t', '\r', '\n':
			l.advance()
		case '#':
			l.skipLine()
		default:
			return
		}
	}
}

// skipLine moves to the start of the next line.
func (l *locator) skipLine() {
	for l.i < len(l.s) && l.s[l.i] != '\n' {
		l.i++
	}
	l.advance()
}

// key reads a dotted key; it stops at '=', ']' or anything else unexpected.
func (l *locator) key() []string {
	var segs []string
	for {
		l.skipSpace()
		if l.i >= len(l.s) {
			return segs
		}
		switch l.s[l.i] {
		case '"':
			raw := l.quoted('"')
			if u, err := strconv.Unquote(`"` + raw + `"`); err == nil {
				raw = u
			}
			segs = append(segs, raw)
		case '\'':
			segs = append(segs, l.quoted('\''))
		default:
			start := l.i
			for l.i < len(l.s) && isBareKey(l.s[l.i:l.i+1]) {
				l.i++
			}
			if l.i == start {
				return segs
			}
			segs = append(segs, l.s[start:l.i])
		}
		l.skipSpace()
		if !l.peek('.') {
			return segs
		}
		l.i++
	}
}

// quoted reads a one-line string opened by q and returns its raw content.
func (l *locator) quoted(q byte) string {
	l.i++
	start := l.i
	for l.i < len(l.s) && l.s[l.i] != q && l.s[l.i] != '\n' {
		if q == '"' && l.s[l.i] == '\\' {
			l.i++
		}
		l.i++
	}
	end := min(l.i, len(l.s))
	if l.peek(q) {
		l.i++
	}
	return l.s[start:end]
}

// value skips one value, recording array elements and inline-table keys.
func (l *locator) value(path string) {
	if l.i >= len(l.s) {
		return
	}
	switch c := l.s[l.i]; c {
	case '"', '\'':
		delim := strings.Repeat(string(c), 3)
		if !strings.HasPrefix(l.s[l.i:], delim) {
			l.quoted(c)
			return
		}
		l.i += 3
		for l.i < len(l.s) && !strings.HasPrefix(l.s[l.i:], delim) {
			if c == '"' && l.s[l.i] == '\\' {
				l.advance()
			}
			l.advance()
		}
		l.i += 3
		for n := 0; n < 2 && l.peek(c); n++ { // up to two quotes may end the content
			l.i++
		}
		l.i = min(l.i, len(l.s))
	case '[':
		l.i++
		for n := 0; l.i < len(l.s); {
			l.skipBlank()
			if l.i >= len(l.s) {
				return
			}
			switch l.s[l.i] {
			case ']':
				l.i++
				return
			case ',':
				l.i++
				n++
				continue
			}
			start := l.i
			elem := indexKey(path, n)
			l.record(elem, l.pos())
			l.value(elem)
			if l.i == start {
				l.advance()
			}
		}
	case '{':
		l.i++
		for l.i < len(l.s) {
			l.skipBlank()
			if l.i >= len(l.s) {
				return
			}
			switch l.s[l.i] {
			case '}':
				l.i++
				return
			case ',':
				l.i++
				continue
			}
			start := l.i
			p := l.pos()
			if segs := l.key(); len(segs) > 0 {
				sub := l.recordKey(path, segs, p)
				l.skipSpace()
				if l.peek('=') {
					l.i++
					l.skipSpace()
					l.value(sub)
				}
			}
			if l.i == start {
				l.advance()
			}
		}
	default: // number, bool, date: up to a delimiter
		for l.i < len(l.s) && !strings.ContainsRune(",]}#\n", rune(l.s[l.i])) {
			l.i++
		}
	}
}
