//go:build !js

package wsproto

import (
	"io"
	"strconv"
	"sync"

	"github.com/db7c6739/ws/handshake"
	"github.com/db7c6739/ws/internal/deflate"
)

const (
	extDeflate             = "permessage-deflate"
	paramServerNoTakeover  = "server_no_context_takeover"
	paramClientNoTakeover  = "client_no_context_takeover"
	paramServerWindowBits  = "server_max_window_bits"
	paramClientWindowBits  = "client_max_window_bits"
	maxWindowBits          = deflate.MaxWindowBits
	minWindowBits          = deflate.MinWindowBits
	deflateTail            = "\x00\x00\xff\xff" // stripped from each message, §7.2.1
	deflateTailAndFinalEnd = deflateTail + "\x01\x00\x00\xff\xff"
)

// deflateParams are the parameters of one permessage-deflate offer or
// response, as found on the wire.
type deflateParams struct {
	serverNoTakeover, clientNoTakeover bool
	serverBits, clientBits             int  // 0 when absent
	clientBitsNoValue                  bool // client_max_window_bits without a value
}

// parseDeflateParams reads the parameters of a permessage-deflate element.
// It fails on an unknown or repeated parameter or a bad value (§7.1).
func parseDeflateParams(e handshake.Extension) (deflateParams, bool) {
	var p deflateParams
	seen := map[string]bool{}
	for _, prm := range e.Params {
		if seen[prm.Name] {
			return p, false
		}
		seen[prm.Name] = true
		switch prm.Name {
		case paramServerNoTakeover, paramClientNoTakeover:
			if prm.HasValue {
				return p, false
			}
			if prm.Name == paramServerNoTakeover {
				p.serverNoTakeover = true
			} else {
				p.clientNoTakeover = true
			}
		case paramServerWindowBits:
			bits, ok := windowBits(prm)
			if !ok || !prm.HasValue {
				return p, false
			}
			p.serverBits = bits
		case paramClientWindowBits:
			if !prm.HasValue {
				p.clientBitsNoValue = true
				continue
			}
			bits, ok := windowBits(prm)
			if !ok {
				return p, false
			}
			p.clientBits = bits
		default:
			return p, false
		}
	}
	return p, true
}

// windowBits reads a window-bits value: a decimal 8–15 without a sign or
// leading zeros (§7.1.2.1).
func windowBits(p handshake.Param) (int, bool) {
	n, err := strconv.Atoi(p.Value)
	if err != nil || n < minWindowBits || n > maxWindowBits || strconv.Itoa(n) != p.Value {
		return 0, false
	}
	return n, true
}

func validBits(bits int) bool { return bits >= minWindowBits && bits <= maxWindowBits }

// negotiated is what both ends agreed on.
type negotiated struct {
	serverNoTakeover, clientNoTakeover bool
	serverBits, clientBits             int // 8–15
}

// accept picks the first offer the server can honour (§5, §7.1) and
// returns the agreement and the response element. Malformed offers are
// declined, not refused.
func (o *CompressionOptions) accept(offers []handshake.Extension) (negotiated, handshake.Extension, bool) {
	for _, e := range offers {
		if e.Name != extDeflate {
			continue
		}
		off, ok := parseDeflateParams(e)
		if !ok {
			continue
		}
		n := negotiated{serverBits: maxWindowBits, clientBits: maxWindowBits}
		resp := handshake.Extension{Name: extDeflate}
		if off.serverNoTakeover || o.ServerNoContextTakeover {
			n.serverNoTakeover = true
			resp.Params = append(resp.Params, handshake.Param{Name: paramServerNoTakeover})
		}
		if off.clientNoTakeover || o.ClientNoContextTakeover {
			n.clientNoTakeover = true
			resp.Params = append(resp.Params, handshake.Param{Name: paramClientNoTakeover})
		}
		if off.serverBits != 0 {
			n.serverBits = off.serverBits
		}
		if validBits(o.ServerMaxWindowBits) && o.ServerMaxWindowBits < n.serverBits {
			n.serverBits = o.ServerMaxWindowBits
		}
		if off.serverBits != 0 || n.serverBits < maxWindowBits {
			resp.Params = append(resp.Params, handshake.Param{Name: paramServerWindowBits, Value: strconv.Itoa(n.serverBits), HasValue: true})
		}
		// The client's window may be limited only if it said it can be
		// (§7.1.2.2).
		if off.clientBits != 0 || off.clientBitsNoValue {
			if off.clientBits != 0 {
				n.clientBits = off.clientBits
			}
			if validBits(o.ClientMaxWindowBits) && o.ClientMaxWindowBits < n.clientBits {
				n.clientBits = o.ClientMaxWindowBits
			}
			if n.clientBits < maxWindowBits {
				resp.Params = append(resp.Params, handshake.Param{Name: paramClientWindowBits, Value: strconv.Itoa(n.clientBits), HasValue: true})
			}
		}
		return n, resp, true
	}
	return negotiated{}, handshake.Extension{}, false
}

// offer is the client's offer for o.
func (o *CompressionOptions) offer() handshake.Extension {
	e := handshake.Extension{Name: extDeflate}
	if o.ServerNoContextTakeover {
		e.Params = append(e.Params, handshake.Param{Name: paramServerNoTakeover})
	}
	if o.ClientNoContextTakeover {
		e.Params = append(e.Params, handshake.Param{Name: paramClientNoTakeover})
	}
	if validBits(o.ServerMaxWindowBits) {
		e.Params = append(e.Params, handshake.Param{Name: paramServerWindowBits, Value: strconv.Itoa(o.ServerMaxWindowBits), HasValue: true})
	}
	// Our compressor can keep to any window, so the server may limit it.
	cb := handshake.Param{Name: paramClientWindowBits}
	if validBits(o.ClientMaxWindowBits) {
		cb.Value, cb.HasValue = strconv.Itoa(o.ClientMaxWindowBits), true
	}
	return handshake.Extension{Name: e.Name, Params: append(e.Params, cb)}
}

// ErrExtensionResponse is matched by the error Dial returns when the
// server's permessage-deflate answer does not fit the offer (RFC 7692
// §7.1.1–7.1.2); the error is a *handshake.Error naming the header.
var ErrExtensionResponse = &handshake.Error{Header: "Sec-WebSocket-Extensions", Reason: "response does not fit the permessage-deflate offer"}

// check validates the server's answer to the client's offer and returns the
// agreement; exts are the extensions the server accepted.
func (o *CompressionOptions) check(exts []handshake.Extension) (negotiated, bool, error) {
	var found *handshake.Extension
	for i := range exts {
		if exts[i].Name == extDeflate {
			if found != nil {
				return negotiated{}, false, ErrExtensionResponse
			}
			found = &exts[i]
		}
	}
	if found == nil {
		return negotiated{}, false, nil // declined: no compression
	}
	r, ok := parseDeflateParams(*found)
	switch {
	case !ok, r.clientBitsNoValue,
		o.ServerNoContextTakeover && !r.serverNoTakeover,
		validBits(o.ServerMaxWindowBits) && (r.serverBits == 0 || r.serverBits > o.ServerMaxWindowBits),
		validBits(o.ClientMaxWindowBits) && r.clientBits > o.ClientMaxWindowBits:
		return negotiated{}, false, ErrExtensionResponse
	}
	n := negotiated{
		serverNoTakeover: r.serverNoTakeover,
		clientNoTakeover: r.clientNoTakeover || o.ClientNoContextTakeover,
		serverBits:       maxWindowBits,
		clientBits:       maxWindowBits,
	}
	if r.serverBits != 0 {
		n.serverBits = r.serverBits
	}
	if r.clientBits != 0 {
		n.clientBits = r.clientBits
	} else if validBits(o.ClientMaxWindowBits) {
		n.clientBits = o.ClientMaxWindowBits
	}
	return n, true, nil
}

// compression is a connection's permessage-deflate state.
type compression struct {
	threshold     int
	level         int  // of our compressor: deflate.BestSpeed..BestCompression
	writeBits     int  // window of our compressor
	writeTakeover bool // keep our compressor's history between messages
	readBits      int  // window of the peer's compressor
	readTakeover  bool // the peer keeps its history: so must our inflater

	enc    *deflate.Writer // held between messages only with writeTakeover
	window []byte          // with readTakeover: the last 2^readBits bytes inflated

	// Reading a compressed message: a pooled decompressor, what feeds it,
	// and how much it inflated so far.
	reader   *deflate.Inflater
	source   inflateSource
	inflated int64
}

func newCompression(o *CompressionOptions, n negotiated, client bool) *compression {
	c := &compression{threshold: o.Threshold, level: o.Level}
	if c.level == 0 {
		c.level = DefaultCompressionLevel
	}
	// As deflate.NewWriter would clamp it, and so that the pools stay few.
	c.level = min(max(c.level, deflate.BestSpeed), deflate.BestCompression)
	if c.threshold == 0 {
		c.threshold = DefaultCompressionThreshold
	}
	c.writeBits, c.writeTakeover = n.serverBits, !n.serverNoTakeover
	c.readBits, c.readTakeover = n.clientBits, !n.clientNoTakeover
	if client {
		c.writeBits, c.writeTakeover = n.clientBits, !n.clientNoTakeover
		c.readBits, c.readTakeover = n.serverBits, !n.serverNoTakeover
	}
	return c
}

// Compressors without context takeover, and decompressors, are pooled so
// that an idle connection holds none.
var (
	encoderPools sync.Map // encoderKey -> *sync.Pool
	inflaterPool = sync.Pool{New: func() any { return deflate.NewInflater(nil, nil) }}
)

type encoderKey struct {
	bits, level int
}

func (z *compression) encoder() *deflate.Writer {
	if z.enc != nil {
		return z.enc
	}
	enc := encoderPool(encoderKey{z.writeBits, z.level}).Get().(*deflate.Writer)
	if z.writeTakeover {
		z.enc = enc
	}
	return enc
}

// doneEncoding is called after each compressed message.
func (z *compression) doneEncoding(enc *deflate.Writer) {
	if z.writeTakeover {
		return
	}
	enc.Reset()
	encoderPool(encoderKey{z.writeBits, z.level}).Put(enc)
}

// encoderPool returns the pool of fresh compressors of one kind.
func encoderPool(key encoderKey) *sync.Pool {
	p, ok := encoderPools.Load(key)
	if !ok {
		p, _ = encoderPools.LoadOrStore(key, &sync.Pool{New: func() any { return deflate.NewWriter(key.bits, key.level) }})
	}
	return p.(*sync.Pool)
}

// inflater returns a pooled decompressor reading src, primed with the
// window of earlier messages under context takeover.
func (z *compression) inflater(src io.Reader) *deflate.Inflater {
	fr := inflaterPool.Get().(*deflate.Inflater)
	var dict []byte
	if z.readTakeover {
		dict = z.dict()
	}
	fr.Reset(src, dict)
	return fr
}

func (z *compression) doneInflating(fr *deflate.Inflater) {
	fr.Reset(nil, nil) // drop the reference to the connection
	inflaterPool.Put(fr)
}

// remember keeps what was inflated, whose last 2^readBits bytes are the
// dictionary of the next message under context takeover. The buffer holds
// up to twice that, so that sliding it is rare.
func (z *compression) remember(p []byte) {
	if !z.readTakeover {
		return
	}
	size := 1 << z.readBits
	if z.window == nil {
		z.window = make([]byte, 0, 2*size)
	}
	if len(p) >= size {
		z.window = append(z.window[:0], p[len(p)-size:]...)
		return
	}
	if len(z.window)+len(p) > cap(z.window) {
		n := copy(z.window, z.window[len(z.window)-size:])
		z.window = z.window[:n]
	}
	z.window = append(z.window, p...)
}

func (z *compression) dict() []byte {
	if size := 1 << z.readBits; len(z.window) > size {
		return z.window[len(z.window)-size:]
	}
	return z.window
}
