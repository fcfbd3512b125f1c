package memread

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/fgacd/fgacd/internal/linux"
)

// PathMax is the kernel's PATH_MAX including the NUL.
const PathMax = 4096

// Reader reads tracee memory. The zero value is ready to use.
type Reader struct {
	// ProcMemOnly skips process_vm_readv (tests of the fallback).
	ProcMemOnly bool
}

var pageSize = uint64(os.Getpagesize())

// firstChunk is the first read of a C string.
const firstChunk = 256

// Read fills buf from addr in pid, or fails: EFAULT if any byte is unmapped.
func (r *Reader) Read(pid int, addr uint64, buf []byte) error {
	for done := 0; done < len(buf); {
		n, err := r.readSome(pid, addr+uint64(done), buf[done:])
		if err != nil {
			return err
		}
		done += n
	}
	return nil
}

// ReadCString reads a NUL-terminated string at addr into buf and returns its
// length without the NUL. It never reads past the page that holds the NUL.
// ENAMETOOLONG when buf fills before a NUL (the kernel's answer for a path
// longer than PATH_MAX); EFAULT for a bad pointer.
func (r *Reader) ReadCString(pid int, addr uint64, buf []byte) (int, error) {
	if addr == 0 {
		return 0, fmt.Errorf("read string at 0x0: %w", linux.EFAULT)
	}
	done := 0
	for done < len(buf) {
		at := addr + uint64(done)
		chunk := min(uint64(len(buf)-done), pageSize-at%pageSize)
		if done == 0 {
			// Most paths are short: copy a first slice, not the rest of
			// the page (up to 4 KiB per call on the hot path).
			chunk = min(chunk, firstChunk)
		}
		n, err := r.readSome(pid, at, buf[done:done+int(chunk)])
		if err != nil {
			return 0, err
		}
		if i := bytes.IndexByte(buf[done:done+n], 0); i >= 0 {
			return done + i, nil
		}
		done += n
	}
	return 0, fmt.Errorf("read string at %#x: no NUL in %d bytes: %w", addr, len(buf), linux.ENAMETOOLONG)
}

// readSome reads at least one byte or fails.
func (r *Reader) readSome(pid int, addr uint64, buf []byte) (int, error) {
	if !r.ProcMemOnly {
		n, err := linux.ProcessVMReadv(pid, addr, buf)
		if err == nil {
			if n > 0 {
				return n, nil
			}
			return 0, fmt.Errorf("read %#x in pid %d: %w", addr, pid, linux.EFAULT)
		}
		// Fall back only where process_vm_readv itself is missing or
		// refused; EFAULT and ESRCH are answers.
		if e := linux.ErrnoOf(err); e != linux.ENOSYS && e != linux.EPERM {
			return 0, fmt.Errorf("read %#x in pid %d: %w", addr, pid, err)
		}
	}
	return readProcMem(pid, addr, buf)
}

// readProcMem reads through /proc/PID/mem. Unlike process_vm_readv it
// reads PROT_NONE pages too (the kernel serves it with FOLL_FORCE): the
// fallback may return a string where the native call would get EFAULT.
// Only unmapped memory and addresses past the user range fail.
func readProcMem(pid int, addr uint64, buf []byte) (int, error) {
	if addr > math.MaxInt64-uint64(len(buf)) {
		// pread takes a signed offset: a kernel or non-canonical address
		// would say EINVAL, where the tracee's own call says EFAULT.
		return 0, fmt.Errorf("read %#x in pid %d: %w", addr, pid, linux.EFAULT)
	}
	fd, err := linux.Open("/proc/"+strconv.Itoa(pid)+"/mem", linux.O_RDONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("read %#x in pid %d: %w", addr, pid, err)
	}
	defer linux.Close(fd)
	n, err := linux.Pread(fd, buf, addr)
	if err != nil {
		// /proc/PID/mem says EIO for an unmapped address.
		if errors.Is(err, linux.EIO) {
			err = linux.EFAULT
		}
		return 0, fmt.Errorf("read %#x in pid %d: %w", addr, pid, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("read %#x in pid %d: %w", addr, pid, linux.EFAULT)
	}
	return n, nil
}

// Write stores buf at addr in pid, all of it or failing with EFAULT, the
// way the kernel's copy_to_user fails: process_vm_writev(2) honours page
// protections (no FOLL_FORCE), so read-only memory is refused as it would
// be for a native call. Used for results a call returns through a struct
// (the fd of a GPIO line request). There is no /proc/PID/mem fallback: a
// write through it would ignore page protections.
func (r *Reader) Write(pid int, addr uint64, buf []byte) error {
	n, err := linux.ProcessVMWritev(pid, addr, buf)
	if err != nil {
		return err
	}
	if n != len(buf) {
		return fmt.Errorf("write %d bytes at %#x: %w", len(buf), addr, linux.EFAULT)
	}
	return nil
}

// Prefetch reads the first part of up to 8 C strings (at most 256 bytes
// each, never past the page an address is on) in one process_vm_readv,
// and returns, for each address, the string when its NUL was among the
// bytes read, with ok set. Strings it could not settle (no NUL yet, an
// unreadable range, address 0) come back with ok false: read those with
// ReadCString, which gives the exact answer. scratch holds the bytes
// (8×256 is enough).
func (r *Reader) Prefetch(pid int, addrs []uint64, scratch []byte, out []string, ok []bool) {
	if r.ProcMemOnly {
		return
	}
	var ranges [8]linux.RemoteRange
	var which [8]int
	n, total := 0, 0
	for i, a := range addrs {
		if a == 0 || n == len(ranges) {
			continue
		}
		l := int(min(firstChunk, pageSize-a%pageSize))
		if total+l > len(scratch) {
			break
		}
		ranges[n], which[n] = linux.RemoteRange{Addr: a, Len: l}, i
		n++
		total += l
	}
	got, err := linux.ProcessVMReadvRanges(pid, scratch[:total], ranges[:n])
	if err != nil {
		return
	}
	off := 0
	for k, rg := range ranges[:n] {
		if off+rg.Len > got {
			return // the kernel stopped before this one
		}
		if j := bytes.IndexByte(scratch[off:off+rg.Len], 0); j >= 0 {
			out[which[k]], ok[which[k]] = string(scratch[off:off+j]), true
		}
		off += rg.Len
	}
}
