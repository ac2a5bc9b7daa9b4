package server

import (
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
)

// minFileBody is the smallest identity body served from a file with
// sendfile(2): below it, copying from memory costs less than the extra
// system call.
const minFileBody = 64 << 10

// bodyFile holds an entity's identity body in an unlinked file (on tmpfs
// when /dev/shm exists), so that net/http can send it with sendfile(2) —
// the kernel copies no bytes out of user memory — as nginx does. A file
// offset is shared by everything reading through one open file, so each
// request reads through a file of its own, from a small free list of
// descriptors opened on /proc/self/fd/N.
type bodyFile struct {
	master *os.File // never read: keeps the unlinked file alive
	path   string   // /proc/self/fd/N of master
	free   chan *os.File
}

// bodyFileFree bounds the descriptors kept open per entity for reuse.
const bodyFileFree = 8

// newBodyFile writes body to an unlinked temporary file; it returns nil
// where that or /proc/self/fd is not available.
func newBodyFile(body []byte) *bodyFile {
	if runtime.GOOS != "linux" {
		return nil
	}
	dir := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir = "/dev/shm"
	}
	f, err := os.CreateTemp(dir, "refeed-body-*")
	if err != nil {
		return nil
	}
	_ = os.Remove(f.Name())
	if _, err := f.Write(body); err != nil {
		f.Close()
		return nil
	}
	b := &bodyFile{master: f, path: "/proc/self/fd/" + strconv.Itoa(int(f.Fd())), free: make(chan *os.File, bodyFileFree)}
	r, err := b.open()
	if err != nil {
		f.Close()
		return nil
	}
	b.put(r)
	return b
}

// open returns a file of its own at offset 0.
func (b *bodyFile) open() (*os.File, error) {
	select {
	case f := <-b.free:
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	default:
		return os.Open(b.path)
	}
}

// put returns f to the free list, or closes it when the list is full.
func (b *bodyFile) put(f *os.File) {
	select {
	case b.free <- f:
	default:
		f.Close()
	}
}

// close closes every descriptor; no request may be using b.
func (b *bodyFile) close() {
	for {
		select {
		case f := <-b.free:
			f.Close()
		default:
			b.master.Close()
			return
		}
	}
}

// fileBody returns e's body file, made on first use, or nil when the body
// is small, e is not cached (made for one response: the file would cost
// more than it saves) or no file can be made.
func (e *entity) fileBody() *bodyFile {
	if len(e.body) < minFileBody || !e.cached {
		return nil
	}
	e.fileOnce.Do(func() {
		e.file = newBodyFile(e.body)
		if e.file != nil {
			// The entity may leave the cache while requests still
			// send it: its descriptors close when it is unreachable.
			runtime.AddCleanup(e, func(b *bodyFile) { b.close() }, e.file)
		}
	})
	return e.file
}

// writeIdentity sends e's identity body, with sendfile when w can take a
// file (net/http's response does, through io.ReaderFrom) and e has one.
func (e *entity) writeIdentity(w http.ResponseWriter) {
	if rf, ok := w.(io.ReaderFrom); ok {
		if b := e.fileBody(); b != nil {
			if f, err := b.open(); err == nil {
				// The limit spares sendfile a last call that finds EOF.
				n, err := rf.ReadFrom(&io.LimitedReader{R: f, N: int64(len(e.body))})
				b.put(f)
				if err == nil || n > 0 {
					return
				}
			}
		}
	}
	_, _ = w.Write(e.body)
}
