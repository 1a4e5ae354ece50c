package artifact

import "io"

// readAhead reads r in a goroutine of its own, up to depth chunks ahead of its reader, so that
// reading a layer (from the registry, with its digest, into the spool) overlaps decompressing
// it on another core. Close stops the goroutine and waits for it: once Close returns, nothing
// reads r or writes what r writes to, and r's bytes not yet read here are lost.
type readAhead struct {
	full  chan []byte // chunks read, in order; closed after the last, with err set
	empty chan []byte // chunks to fill
	stop  chan struct{}
	done  chan struct{}
	err   error  // what ended r, readable once full is closed
	held  []byte // the chunk being read here
	cur   []byte // what is left of it
	// spare is how many more chunks fill may allocate: chunks are made as needed, so that a
	// small layer costs one.
	spare int
}

const chunkSize = 64 << 10

// The depths of Repack's reads ahead. Storing a layer as it is reads 1 MiB ahead: a manifests
// layer is rarely larger, so the registry's response is read whole, and the artifact synced
// (Writer.syncAhead), while the checks run. Rebuilding reads 256 KiB ahead, enough to smooth
// out the network.
const (
	spoolDepth   = 16
	rebuildDepth = 4
)

func newReadAhead(r io.Reader, depth int) *readAhead {
	ra := &readAhead{
		full:  make(chan []byte, depth),
		empty: make(chan []byte, depth+2),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		spare: depth + 2, // one being filled, depth waiting, one being read
	}
	go ra.fill(r)
	return ra
}

func (ra *readAhead) fill(r io.Reader) {
	defer close(ra.done)
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case <-ra.stop:
			return
		case buf = <-ra.empty:
		default:
			if ra.spare > 0 {
				ra.spare--
				buf = make([]byte, chunkSize)
				break
			}
			select {
			case buf = <-ra.empty:
			case <-ra.stop:
				return
			}
		}
		// A network body gives a few KiB a read: gather a chunk's worth.
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var m int
			m, err = r.Read(buf[n:])
			n += m
		}
		if n > 0 {
			select {
			case ra.full <- buf[:n]:
			case <-ra.stop:
				return
			}
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.held != nil {
			ra.empty <- ra.held[:cap(ra.held)]
			ra.held = nil
		}
		buf, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.held, ra.cur = buf, buf
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops reading ahead and waits until the goroutine is gone.
func (ra *readAhead) Close() {
	close(ra.stop)
	<-ra.done
}

// atEOF calls f once, in the goroutine that reads, when r ends without error.
type atEOF struct {
	r io.Reader
	f func()
}

func (a *atEOF) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err == io.EOF && a.f != nil {
		a.f()
		a.f = nil
	}
	return n, err
}
