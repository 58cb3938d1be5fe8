//go:build linux

package hls

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// fileBackedMin is the size from which a segment is also kept in a sealed memfd: net/http then
// sends it with sendfile(2) instead of copying it from the heap into the socket, which is what
// lets segment serving approach nginx serving files from tmpfs.
const fileBackedMin = 64 << 10

// fileBacking is an in-memory file holding an object's bytes. Each request opens its own file
// description through /proc/self/fd (sendfile moves the file offset, so descriptions cannot be
// shared); the owner descriptor and the mapping are released when the object is garbage.
type fileBacking struct {
	path string
}

func attachFile(o *object) {
	if len(o.data) < fileBackedMin {
		return
	}
	fd, err := unix.MemfdCreate("freely-hls", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "memfd")
	if _, err := f.Write(o.data); err != nil {
		f.Close()
		return
	}
	// Sealed: nothing can change the bytes behind the object's back.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS,
		unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return
	}
	// Read the bytes through a read-only mapping of the file and let the heap copy go: the
	// segment is then held once, outside the Go heap, for both sendfile and in-process reads.
	rel := release{f: f}
	if m, err := unix.Mmap(fd, 0, len(o.data), unix.PROT_READ, unix.MAP_SHARED); err == nil {
		rel.m = m
		o.data = m
	}
	o.file = &fileBacking{path: "/proc/self/fd/" + strconv.Itoa(fd)}
	runtime.AddCleanup(o, func(r release) {
		if r.m != nil {
			_ = unix.Munmap(r.m)
		}
		r.f.Close()
	}, rel)
}

// release is what an object's cleanup frees once nothing references the object (or a part
// object keeping it alive).
type release struct {
	f *os.File
	m []byte
}

// open returns a new read-only description of the object's file, or nil.
func (o *object) open() *os.File {
	if o.file == nil {
		return nil
	}
	f, err := os.Open(o.file.path)
	runtime.KeepAlive(o) // the owner descriptor must stay open until ours exists
	if err != nil {
		return nil
	}
	return f
}
