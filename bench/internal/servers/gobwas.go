package servers

import (
	"bufio"
	"bytes"
	"compress/flate"
	"io"
	"net"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// serveGobwas uses gobwas/ws's low-level API on a raw listener, the way its
// README's "zero-copy" examples do: ws.Upgrade (or ws.Upgrader with
// wsflate's Negotiate) on the accepted conn, then a frame loop of
// ws.ReadHeader, a payload read, ws.Cipher to unmask, and the header and
// payload written back unmasked. It echoes frame by frame, so fragmentation
// is kept as it came. Two departures, both for speed and both in the spirit
// of "reused buffers": reads go through a 4 KiB bufio.Reader (one syscall
// can bring many small frames; the README reads the conn directly), and the
// payload lands in a per-connection buffer just after room for the header,
// so that header and payload go out in one write without a copy (the README
// allocates a payload per frame and writes twice). Like the README's
// example it does not answer pings; the load generator sends none.
//
// With -deflate it negotiates wsflate.DefaultParameters (no context takeover
// either way, as its README does) and re-compresses each compressed message
// with wsflate.Reader/Writer over compress/flate, level 1 like the other
// libraries' defaults (the README's sample uses 9), taken from a pool per
// message, since without context takeover nothing needs to outlive it.
func serveGobwas(ln net.Listener, deflate bool) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go gobwasEcho(nc, deflate)
	}
}

const gobwasHeadroom = ws.MaxHeaderSize

func gobwasEcho(nc net.Conn, deflate bool) {
	defer nc.Close()
	if deflate {
		ext := &wsflate.Extension{Parameters: wsflate.DefaultParameters}
		u := ws.Upgrader{Negotiate: ext.Negotiate}
		if _, err := u.Upgrade(nc); err != nil {
			return
		}
		_, deflate = ext.Accepted()
	} else if _, err := ws.Upgrade(nc); err != nil {
		return
	}

	br := bufio.NewReaderSize(nc, 4096)
	var buf []byte  // headroom for the header, then the payload
	var zout []byte // a recompressed frame, header and payload
	hw := &sliceWriter{}
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if h.Length > 64<<20 {
			return // ws sets no limit of its own (README, "Limits")
		}
		n := int(h.Length)
		if cap(buf) < gobwasHeadroom+n {
			buf = make([]byte, gobwasHeadroom+n)
		}
		buf = buf[:gobwasHeadroom+n]
		payload := buf[gobwasHeadroom:]
		if _, err := io.ReadFull(br, payload); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		h.Masked = false
		if deflate && h.Rsv1() && h.Fin {
			hw.b = zout[:0]
			if zout, err = gobwasRecompress(hw, h, payload); err != nil {
				return
			}
			if _, err := nc.Write(zout); err != nil {
				return
			}
		} else {
			hw.b = buf[:0:gobwasHeadroom]
			if err := ws.WriteHeader(hw, h); err != nil {
				return
			}
			// Move the header to sit right before the payload.
			hl := len(hw.b)
			copy(buf[gobwasHeadroom-hl:], hw.b)
			if _, err := nc.Write(buf[gobwasHeadroom-hl:]); err != nil {
				return
			}
		}
		if h.OpCode == ws.OpClose {
			return
		}
	}
}

// sliceWriter appends what is written to b.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// flateReader lets a compress/flate reader be reset by wsflate.Reader
// (wsflate.ReadResetter) instead of built anew for every message.
type flateReader struct{ io.ReadCloser }

func (f flateReader) Reset(r io.Reader) { _ = f.ReadCloser.(flate.Resetter).Reset(r, nil) }

type gobwasFlate struct {
	src   bytes.Reader
	rd    *wsflate.Reader
	wr    *wsflate.Writer
	plain bytes.Buffer
	out   bytes.Buffer
}

var gobwasFlatePool = sync.Pool{New: func() any {
	f := &gobwasFlate{}
	f.rd = wsflate.NewReader(nil, func(r io.Reader) wsflate.Decompressor {
		return flateReader{flate.NewReader(r)}
	})
	f.wr = wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
		fw, _ := flate.NewWriter(w, flate.BestSpeed)
		return fw
	})
	return f
}}

// gobwasRecompress inflates a compressed message and deflates it again,
// and appends the frame that carries it, header h with the new length and
// the payload, to hw.
func gobwasRecompress(hw *sliceWriter, h ws.Header, p []byte) ([]byte, error) {
	f := gobwasFlatePool.Get().(*gobwasFlate)
	defer gobwasFlatePool.Put(f)
	f.src.Reset(p)
	f.rd.Reset(&f.src)
	f.plain.Reset()
	if _, err := f.plain.ReadFrom(f.rd); err != nil {
		return nil, err
	}
	f.out.Reset()
	f.wr.Reset(&f.out)
	if _, err := f.wr.Write(f.plain.Bytes()); err != nil {
		return nil, err
	}
	if err := f.wr.Close(); err != nil {
		return nil, err
	}
	h.Length = int64(f.out.Len())
	if err := ws.WriteHeader(hw, h); err != nil {
		return nil, err
	}
	return append(hw.b, f.out.Bytes()...), nil
}
