package memread_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fgacd/fgacd/internal/linux"
	"github.com/fgacd/fgacd/pkg/memread"
)

// The tests read memory laid out page by page at a known address —
// mapped, unmapped and PROT_NONE pages with strings against their edges —
// in this process (process_vm_readv on oneself is ordinary kernel
// behaviour) and in a child of the test binary that builds the same layout,
// with both of Reader's paths.

const childEnv = "FGACD_MEMREAD_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "layout" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

// Where the layouts go. Far below the kernel's top-down mmap area, so
// nothing else in either process is placed there or grows into its holes;
// different in parent and child, so reading the wrong process fails.
const (
	selfBase  = 0x7e40_0000_0000
	childBase = 0x7e00_0000_0000
)

var ps = os.Getpagesize()

// Pages of the layout, in order.
const (
	pgShort     = iota // shortStr at offset 100, path255 at 512; block starts 12 bytes before its end
	pgEdgeHole         // block's second half at its start; edgeStr ends with NUL on its last byte
	pgHole             // unmapped
	pgFullA            // 'a' throughout, no NUL
	pgHole2            // unmapped
	pgEdgeGuard        // guardStr ends with NUL on its last byte
	pgGuard            // PROT_NONE
	pgFullB            // 'b' throughout, no NUL
	pgGuard2           // PROT_NONE
	pgLongC            // 'c' throughout
	pgLongC2           // 'c' up to offset 200, then NUL
	layoutPages
)

const (
	shortStr = "/dev/null"
	edgeStr  = "/dev/edge-of-a-mapping"
	guardStr = "/dev/before-a-guard-page"
	blockLen = 24
)

// path255 is a 255-byte path, the longest file name component's length.
var path255 = strings.Repeat("d/", 127) + "x"

func blockByte(i int) byte { return byte(i*37 + 11) }

// mapLayout builds the layout at want (or, if something is there, a GiB
// further on) and returns its address and a func that unmaps it.
func mapLayout(want uint64) (uint64, func(), error) {
	var m []byte
	var err error
	for i := range 16 {
		m, err = linux.MapAnon(want+uint64(i)<<30, layoutPages*ps, linux.PROT_READ|linux.PROT_WRITE)
		if !errors.Is(err, linux.EEXIST) {
			break
		}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("map layout: %w", err)
	}
	pg := func(i int) []byte { return m[i*ps : (i+1)*ps] }
	copy(pg(pgShort)[100:], shortStr+"\x00")
	copy(pg(pgShort)[512:], path255+"\x00")
	for i := range blockLen {
		m[(pgShort+1)*ps-blockLen/2+i] = blockByte(i)
	}
	copy(pg(pgEdgeHole)[ps-len(edgeStr)-1:], edgeStr+"\x00")
	copy(pg(pgEdgeGuard)[ps-len(guardStr)-1:], guardStr+"\x00")
	copy(pg(pgFullA), bytes.Repeat([]byte("a"), ps))
	copy(pg(pgFullB), bytes.Repeat([]byte("b"), ps))
	copy(pg(pgLongC), bytes.Repeat([]byte("c"), ps))
	copy(pg(pgLongC2), bytes.Repeat([]byte("c"), 200))
	// What the PROT_NONE pages would show if read: no NUL for a while.
	copy(pg(pgGuard), bytes.Repeat([]byte("g"), 64))
	copy(pg(pgGuard2), bytes.Repeat([]byte("g"), 64))
	for _, i := range []int{pgGuard, pgGuard2} {
		if err := linux.Mprotect(pg(i), linux.PROT_NONE); err != nil {
			linux.Munmap(m)
			return 0, nil, err
		}
	}
	for _, i := range []int{pgHole, pgHole2} {
		if err := linux.Munmap(pg(i)); err != nil {
			linux.Munmap(m)
			return 0, nil, err
		}
	}
	// munmap over the holes as well is fine: they are just skipped.
	return linux.SliceAddr(m), func() { linux.Munmap(m) }, nil
}

func selfLayout(tb testing.TB) uint64 {
	tb.Helper()
	base, unmap, err := mapLayout(selfBase)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(unmap)
	return base
}

// childMain builds the layout, says where, and waits for stdin to close.
func childMain() int {
	base, _, err := mapLayout(childBase)
	if err != nil {
		fmt.Printf("error %v\n", err)
		return 1
	}
	fmt.Printf("ready %#x\n", base)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// child is a child of the test binary holding the layout at base.
type child struct {
	pid  int
	base uint64
	cmd  *exec.Cmd
	in   io.Closer
}

func startChild(t *testing.T) *child {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=layout")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{pid: cmd.Process.Pid, cmd: cmd, in: in}
	t.Cleanup(func() { c.stop(t) })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if _, err := fmt.Sscanf(s, "ready %v\n", &c.base); err != nil {
			t.Fatalf("child %d: %q", c.pid, s)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("child %d did not get ready", c.pid)
	}
	return c
}

// stop closes the child's stdin, which makes it exit, and reaps it.
func (c *child) stop(t *testing.T) {
	if c.cmd == nil {
		return
	}
	c.in.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("child %d: %v", c.pid, err)
		}
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-done
		t.Errorf("child %d did not exit when its stdin closed", c.pid)
	}
	c.cmd = nil
}

var readers = []struct {
	name string
	r    memread.Reader
}{
	{"process_vm_readv", memread.Reader{}},
	{"proc_mem", memread.Reader{ProcMemOnly: true}},
}

type cstringCase struct {
	name    string
	addr    uint64 // from the layout's base unless abs
	abs     bool
	bufLen  int // default memread.PathMax
	want    string
	wantErr error
	// procMemGap, when set, says why /proc/PID/mem is known to answer
	// differently from the tracee's own kernel (see the test's report).
	procMemGap string
}

func cstringCases() []cstringCase {
	at := func(page, off int) uint64 { return uint64(page*ps + off) }
	return []cstringCase{
		{name: "inside one page", addr: at(pgShort, 100), want: shortStr},
		{name: "255-byte path", addr: at(pgShort, 512), want: path255},
		{name: "buffer just fits string and NUL", addr: at(pgShort, 100), bufLen: len(shortStr) + 1, want: shortStr},
		{name: "buffer one short of the NUL", addr: at(pgShort, 100), bufLen: len(shortStr), wantErr: linux.ENAMETOOLONG},
		{name: "empty buffer", addr: at(pgShort, 100), bufLen: -1, wantErr: linux.ENAMETOOLONG},
		{name: "NUL on the last byte before an unmapped page", addr: at(pgHole, -len(edgeStr)-1), want: edgeStr},
		{name: "NUL on the last byte before a PROT_NONE page", addr: at(pgGuard, -len(guardStr)-1), want: guardStr},
		{name: "string starts at the last byte of a page", addr: at(pgHole, -1), want: ""},
		{name: "across a page boundary, both mapped", addr: at(pgLongC2, -100), want: strings.Repeat("c", 300)},
		{name: "no NUL before an unmapped page", addr: at(pgHole2, -50), wantErr: linux.EFAULT},
		{name: "no NUL before a PROT_NONE page", addr: at(pgGuard2, -50), wantErr: linux.EFAULT,
			procMemGap: "/proc/PID/mem reads with FOLL_FORCE, which reads PROT_NONE pages"},
		{name: "buffer fills exactly at an unmapped page", addr: at(pgFullA, 0), bufLen: ps, wantErr: linux.ENAMETOOLONG},
		{name: "no NUL within the buffer", addr: at(pgLongC, 0), bufLen: 64, wantErr: linux.ENAMETOOLONG},
		{name: "no NUL within PATH_MAX", addr: at(pgLongC, 0), wantErr: linux.ENAMETOOLONG},
		{name: "unmapped page", addr: at(pgHole, 0), wantErr: linux.EFAULT},
		{name: "PROT_NONE page", addr: at(pgGuard, 0), wantErr: linux.EFAULT,
			procMemGap: "/proc/PID/mem reads with FOLL_FORCE, which reads PROT_NONE pages"},
		{name: "NULL", addr: 0, abs: true, wantErr: linux.EFAULT},
		{name: "below mmap_min_addr", addr: 0x10, abs: true, wantErr: linux.EFAULT},
		{name: "top of user space", addr: 0x7fff_ffff_f000, abs: true, wantErr: linux.EFAULT},
		{name: "non-canonical", addr: 0x8000_0000_0000, abs: true, wantErr: linux.EFAULT},
		{name: "kernel address", addr: 0xffff_ffff_8100_0000, abs: true, wantErr: linux.EFAULT},
	}
}

type readCase struct {
	name       string
	addr       uint64 // from the layout's base
	n          int
	want       []byte // nil: not checked
	wantErr    error
	procMemGap string
}

func readCases() []readCase {
	block := make([]byte, blockLen)
	for i := range block {
		block[i] = blockByte(i)
	}
	return []readCase{
		{name: "block across a page boundary, both mapped", addr: uint64(ps - blockLen/2), n: blockLen, want: block},
		{name: "second page unmapped", addr: uint64(pgHole*ps - 8), n: 16, wantErr: linux.EFAULT},
		{name: "second page PROT_NONE", addr: uint64(pgGuard*ps - 8), n: 16, wantErr: linux.EFAULT,
			procMemGap: "/proc/PID/mem reads with FOLL_FORCE, which reads PROT_NONE pages"},
		{name: "unmapped page", addr: uint64(pgHole * ps), n: 8, wantErr: linux.EFAULT},
		{name: "NULL", addr: 0, n: 8, wantErr: linux.EFAULT},
		{name: "nothing to read", addr: uint64(pgHole * ps), n: 0},
	}
}

// check returns what is wrong with ReadCString's answer, or nil.
func (c cstringCase) check(r memread.Reader, pid int, base uint64) error {
	addr := c.addr
	if !c.abs {
		addr += base
	}
	buf := make([]byte, memread.PathMax)
	switch {
	case c.bufLen < 0:
		buf = nil
	case c.bufLen > 0:
		buf = make([]byte, c.bufLen)
	}
	n, err := r.ReadCString(pid, addr, buf)
	switch {
	case c.wantErr != nil && (!errors.Is(err, c.wantErr) || n != 0):
		return fmt.Errorf("ReadCString(%#x) = %d, %v; want 0, %v", addr, n, err, c.wantErr)
	case c.wantErr != nil:
		return nil
	case err != nil:
		return fmt.Errorf("ReadCString(%#x): %w", addr, err)
	case string(buf[:n]) != c.want:
		return fmt.Errorf("ReadCString(%#x) = %q; want %q", addr, buf[:n], c.want)
	}
	return nil
}

// check returns what is wrong with Read's answer, or nil.
func (c readCase) check(r memread.Reader, pid int, base uint64) error {
	addr := base + c.addr
	if c.addr == 0 {
		addr = 0
	}
	buf := make([]byte, c.n)
	err := r.Read(pid, addr, buf)
	switch {
	case c.wantErr != nil && !errors.Is(err, c.wantErr):
		return fmt.Errorf("Read(%#x, %d) = %v; want %v", addr, c.n, err, c.wantErr)
	case c.wantErr != nil:
		return nil
	case err != nil:
		return fmt.Errorf("Read(%#x, %d): %w", addr, c.n, err)
	case c.want != nil && !bytes.Equal(buf, c.want):
		return fmt.Errorf("Read(%#x, %d) = %x; want %x", addr, c.n, buf, c.want)
	}
	return nil
}

// expect fails t with err, except where the /proc/PID/mem fallback is
// known to differ from the kernel (gap): there it skips, naming the gap,
// and fails once the gap is gone so that the mark is removed.
func expect(t *testing.T, r memread.Reader, gap string, err error) {
	t.Helper()
	if r.ProcMemOnly && gap != "" {
		if err == nil {
			t.Fatalf("the /proc/PID/mem fallback now matches the kernel (%s): drop procMemGap", gap)
		}
		t.Skipf("known gap of the /proc/PID/mem fallback (%s): %v", gap, err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testLayout runs every case against the layout at base in pid, with
// both of Reader's paths.
func testLayout(t *testing.T, pid int, base uint64) {
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			for _, c := range cstringCases() {
				t.Run("ReadCString/"+c.name, func(t *testing.T) {
					expect(t, rd.r, c.procMemGap, c.check(rd.r, pid, base))
				})
			}
			for _, c := range readCases() {
				t.Run("Read/"+c.name, func(t *testing.T) {
					expect(t, rd.r, c.procMemGap, c.check(rd.r, pid, base))
				})
			}
		})
	}
}

func TestReadSelf(t *testing.T) {
	testLayout(t, os.Getpid(), selfLayout(t))
}

func TestReadChild(t *testing.T) {
	c := startChild(t)
	if c.base == selfBase {
		t.Fatal("child and parent layouts share an address; reading the wrong process would pass")
	}
	testLayout(t, c.pid, c.base)
}

// The reader of a process that has exited fails with an error, not a
// panic and not stale bytes.
func TestReadGoneProcess(t *testing.T) {
	buf := make([]byte, memread.PathMax)
	t.Run("reaped", func(t *testing.T) {
		c := startChild(t)
		addr := c.base + pgShort*uint64(ps) + 100
		if _, err := new(memread.Reader).ReadCString(c.pid, addr, buf); err != nil {
			t.Fatalf("while the child runs: %v", err)
		}
		c.stop(t)
		for _, rd := range readers {
			n, err := rd.r.ReadCString(c.pid, addr, buf)
			if !errors.Is(err, linux.ESRCH) && !errors.Is(err, linux.ENOENT) {
				t.Errorf("%s: ReadCString of exited pid %d = %d, %v; want ESRCH or ENOENT", rd.name, c.pid, n, err)
			}
			if err := rd.r.Read(c.pid, addr, buf[:8]); !errors.Is(err, linux.ESRCH) && !errors.Is(err, linux.ENOENT) {
				t.Errorf("%s: Read of exited pid %d = %v; want ESRCH or ENOENT", rd.name, c.pid, err)
			}
		}
	})
	t.Run("zombie", func(t *testing.T) {
		c := startChild(t)
		addr := c.base + pgShort*uint64(ps) + 100
		if err := c.cmd.Process.Signal(os.Kill); err != nil {
			t.Fatal(err)
		}
		waitZombie(t, c.pid)
		for _, rd := range readers {
			// The pid is there but its mm is gone; which errno says so
			// is the kernel's business (6.18: ESRCH for both paths).
			if n, err := rd.r.ReadCString(c.pid, addr, buf); err == nil || n != 0 {
				t.Errorf("%s: ReadCString of zombie %d = %d, %v; want an error", rd.name, c.pid, n, err)
			} else {
				t.Logf("%s: %v", rd.name, err)
			}
		}
		c.cmd.Wait()
		c.cmd = nil
	})
}

func waitZombie(t *testing.T, pid int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("pid %d did not become a zombie: %s", pid, b)
		case <-time.After(time.Millisecond):
		}
	}
}

// A successful read costs no allocation on the process_vm_readv path: the
// daemon reads a path per notification.
func TestReadAllocs(t *testing.T) {
	base := selfLayout(t)
	var r memread.Reader
	pid := os.Getpid()
	buf := make([]byte, memread.PathMax)
	cases := []struct {
		name string
		fn   func() error
	}{
		{"ReadCString in one page", func() error {
			_, err := r.ReadCString(pid, base+512, buf)
			return err
		}},
		{"ReadCString across pages", func() error {
			_, err := r.ReadCString(pid, base+uint64(pgLongC2*ps-100), buf)
			return err
		}},
		{"Read across pages", func() error {
			return r.Read(pid, base+uint64(ps-blockLen/2), buf[:blockLen])
		}},
	}
	for _, c := range cases {
		if err := c.fn(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := testing.AllocsPerRun(100, func() { c.fn() }); n != 0 {
			t.Errorf("%s: %v allocations per call; want 0", c.name, n)
		}
	}
}

func BenchmarkReadCString(b *testing.B) {
	base := selfLayout(b)
	pid := os.Getpid()
	for _, rd := range readers {
		b.Run(rd.name, func(b *testing.B) {
			r := rd.r
			buf := make([]byte, memread.PathMax)
			b.ReportAllocs()
			b.SetBytes(int64(len(path255) + 1))
			for b.Loop() {
				n, err := r.ReadCString(pid, base+512, buf)
				if err != nil || n != len(path255) {
					b.Fatalf("ReadCString = %d, %v", n, err)
				}
			}
		})
	}
}

// Prefetch settles a string only where ReadCString would return that same
// string; everything else it leaves for ReadCString (ok false). A good
// string read first in the same call is settled whatever follows it.
func TestPrefetchAgreesWithReadCString(t *testing.T) {
	pid, base := os.Getpid(), selfLayout(t)
	var r memread.Reader
	good := base + uint64(pgShort*ps+100)
	for _, c := range cstringCases() {
		if c.bufLen != 0 {
			continue // Prefetch has no caller's buffer to run out of
		}
		t.Run(c.name, func(t *testing.T) {
			addr := c.addr
			if !c.abs {
				addr += base
			}
			var out [2]string
			var ok [2]bool
			var scratch [512]byte
			r.Prefetch(pid, []uint64{good, addr}, scratch[:], out[:], ok[:])
			if !ok[0] || out[0] != shortStr {
				t.Errorf("the good string: %q %v", out[0], ok[0])
			}
			buf := make([]byte, memread.PathMax)
			n, err := r.ReadCString(pid, addr, buf)
			if ok[1] && (err != nil || string(buf[:n]) != out[1]) {
				t.Errorf("prefetched %q, ReadCString %q %v", out[1], buf[:n], err)
			}
			if !ok[1] && err == nil && n < 255 && c.addr != 0 {
				t.Logf("left to ReadCString: %q", buf[:n])
			}
		})
	}
}
