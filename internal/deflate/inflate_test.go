package deflate

import (
	"errors"
	"fmt"
)

// This file is a second decoder, written for the tests from RFC 1951 alone
// and sharing no table with the encoder. Besides the bytes, it reports every
// back-reference, so that tests can check how far back the encoder reached.

// Length and distance codes (RFC 1951 §3.2.5), copied from the RFC's tables.
var (
	testLengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	testLengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	testDistBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	testDistExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// backRef is one length/distance pair: at output offset pos, copy length
// bytes from dist bytes back.
type backRef struct {
	pos, dist, length int
}

// stream is what testInflate found in a DEFLATE stream.
type stream struct {
	out    []byte
	refs   []backRef
	blocks []int // BTYPE of each block, in order
	final  bool  // a block with BFINAL set ended the stream
}

var errTruncated = errors.New("deflate test: stream ends inside a block")

// bitReader reads a DEFLATE stream: data elements least significant bit
// first, Huffman codes most significant bit first (RFC 1951 §3.1.1).
type bitReader struct {
	in  []byte
	pos int // in bits
}

func (r *bitReader) bit() (uint, error) {
	if r.pos >= 8*len(r.in) {
		return 0, errTruncated
	}
	b := uint(r.in[r.pos>>3]>>(r.pos&7)) & 1
	r.pos++
	return b, nil
}

// bits reads an n-bit number, least significant bit first.
func (r *bitReader) bits(n uint) (uint, error) {
	var v uint
	for i := range n {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		v |= b << i
	}
	return v, nil
}

// huffman reads n more bits of a Huffman code, most significant bit first.
func (r *bitReader) huffman(c uint, n int) (uint, error) {
	for range n {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		c = c<<1 | b
	}
	return c, nil
}

// fixedSymbol reads one literal/length symbol in the fixed code of
// RFC 1951 §3.2.6.
func (r *bitReader) fixedSymbol() (int, error) {
	c, err := r.huffman(0, 7)
	if err != nil {
		return 0, err
	}
	if c <= 0b0010111 {
		return 256 + int(c), nil
	}
	if c, err = r.huffman(c, 1); err != nil {
		return 0, err
	}
	switch {
	case c >= 0b00110000 && c <= 0b10111111:
		return int(c - 0b00110000), nil
	case c >= 0b11000000 && c <= 0b11000111:
		sym := 280 + int(c-0b11000000)
		if sym > 285 {
			return 0, fmt.Errorf("deflate test: invalid symbol %d", sym)
		}
		return sym, nil
	}
	if c, err = r.huffman(c, 1); err != nil {
		return 0, err
	}
	return 144 + int(c-0b110010000), nil
}

// testInflate decodes a raw DEFLATE stream of stored, fixed-Huffman and
// dynamic-Huffman blocks. It stops after a final block or at the end of the
// input, which must then fall on a block boundary. It rejects over-long
// matches (symbol 284 with extra bits 31), distances reaching before the
// start of the stream, and dynamic codes that are not complete (zlib's
// inflate rejects an incomplete code length code, and an incomplete
// literal/length or distance code unless it has a single code of one bit).
func testInflate(in []byte) (stream, error) {
	var s stream
	r := &bitReader{in: in}
	for !s.final {
		if r.pos == 8*len(in) {
			return s, nil
		}
		bfinal, err := r.bits(1)
		if err != nil {
			return s, err
		}
		btype, err := r.bits(2)
		if err != nil {
			return s, err
		}
		s.final = bfinal == 1
		s.blocks = append(s.blocks, int(btype))
		switch btype {
		case 0:
			err = s.stored(r)
		case 1:
			err = s.codes(r, nil, nil)
		case 2:
			err = s.dynamic(r)
		default:
			err = fmt.Errorf("deflate test: unexpected block type %d", btype)
		}
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

func (s *stream) stored(r *bitReader) error {
	r.pos = (r.pos + 7) &^ 7
	if r.pos/8+4 > len(r.in) {
		return errTruncated
	}
	at := r.pos / 8
	n := int(r.in[at]) | int(r.in[at+1])<<8
	nn := int(r.in[at+2]) | int(r.in[at+3])<<8
	if n^0xffff != nn {
		return fmt.Errorf("deflate test: stored block LEN %#04x, NLEN %#04x", n, nn)
	}
	at += 4
	if at+n > len(r.in) {
		return errTruncated
	}
	s.out = append(s.out, r.in[at:at+n]...)
	r.pos = 8 * (at + n)
	return nil
}

// huffDecoder decodes a canonical Huffman code (RFC 1951 §3.2.2).
type huffDecoder struct {
	count   [16]int // how many codes each length has
	symbols []int   // the symbols in the order of their codes
}

// newHuffDecoder makes the decoder of the code with the given code
// lengths, which must form a complete code.
func newHuffDecoder(lengths []int) (*huffDecoder, error) {
	h := &huffDecoder{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	// Kraft: a complete code fills all 2^15 codes of 15 bits exactly.
	space := 0
	for l := 1; l <= 15; l++ {
		space += h.count[l] << (15 - l)
	}
	if space != 1<<15 {
		return nil, fmt.Errorf("deflate test: code lengths %v fill %d/32768 of the code space", lengths, space)
	}
	for l := 1; l <= 15; l++ {
		for sym, sl := range lengths {
			if sl == l {
				h.symbols = append(h.symbols, sym)
			}
		}
	}
	return h, nil
}

// decode reads one symbol: codes of each length are consecutive numbers,
// those of length l+1 starting at twice the end of those of length l.
func (r *bitReader) decode(h *huffDecoder) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= 15; l++ {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		code |= int(b)
		if code-first < h.count[l] {
			return h.symbols[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("deflate test: invalid code")
}

// testCodeLengthOrder is the order of the code length code's lengths in a
// dynamic block header (RFC 1951 §3.2.7).
var testCodeLengthOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamic reads the header of a dynamic-Huffman block (RFC 1951 §3.2.7),
// then its symbols.
func (s *stream) dynamic(r *bitReader) error {
	hlit, err := r.bits(5)
	if err != nil {
		return err
	}
	hdist, err := r.bits(5)
	if err != nil {
		return err
	}
	hclen, err := r.bits(4)
	if err != nil {
		return err
	}
	nLit, nDist := int(hlit)+257, int(hdist)+1
	if nLit > 286 || nDist > 30 {
		return fmt.Errorf("deflate test: HLIT %d, HDIST %d", hlit, hdist)
	}
	clLengths := make([]int, 19)
	for _, sym := range testCodeLengthOrder[:hclen+4] {
		l, err := r.bits(3)
		if err != nil {
			return err
		}
		clLengths[sym] = int(l)
	}
	cl, err := newHuffDecoder(clLengths)
	if err != nil {
		return fmt.Errorf("code length code: %w", err)
	}
	var lengths []int
	for len(lengths) < nLit+nDist {
		sym, err := r.decode(cl)
		if err != nil {
			return err
		}
		repeat, value := 1, sym
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return errors.New("deflate test: code length 16 first")
			}
			e, err := r.bits(2)
			if err != nil {
				return err
			}
			repeat, value = 3+int(e), lengths[len(lengths)-1]
		case 17:
			e, err := r.bits(3)
			if err != nil {
				return err
			}
			repeat, value = 3+int(e), 0
		case 18:
			e, err := r.bits(7)
			if err != nil {
				return err
			}
			repeat, value = 11+int(e), 0
		}
		if len(lengths)+repeat > nLit+nDist {
			return errors.New("deflate test: code lengths run past HLIT + HDIST")
		}
		for range repeat {
			lengths = append(lengths, value)
		}
	}
	if lengths[endOfBlock] == 0 {
		return errors.New("deflate test: no code for the end of block")
	}
	lit, err := newHuffDecoder(lengths[:nLit])
	if err != nil {
		return fmt.Errorf("literal/length code: %w", err)
	}
	dist, err := newHuffDecoder(lengths[nLit:])
	if err != nil {
		return fmt.Errorf("distance code: %w", err)
	}
	return s.codes(r, lit, dist)
}

// codes reads the symbols of a block up to its end, in the fixed codes if
// lit and dist are nil.
func (s *stream) codes(r *bitReader, lit, dist *huffDecoder) error {
	for {
		var sym int
		var err error
		if lit == nil {
			sym, err = r.fixedSymbol()
		} else {
			sym, err = r.decode(lit)
		}
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			s.out = append(s.out, byte(sym))
			continue
		case sym == 256:
			return nil
		case sym > 285:
			return fmt.Errorf("deflate test: invalid symbol %d", sym)
		}
		extra, err := r.bits(testLengthExtra[sym-257])
		if err != nil {
			return err
		}
		length := testLengthBase[sym-257] + int(extra)
		if length > 258 {
			return fmt.Errorf("deflate test: length %d", length)
		}
		var dc int
		if dist == nil {
			var c uint
			c, err = r.huffman(0, 5)
			dc = int(c)
		} else {
			dc, err = r.decode(dist)
		}
		if err != nil {
			return err
		}
		if dc >= 30 {
			return fmt.Errorf("deflate test: distance code %d", dc)
		}
		if extra, err = r.bits(testDistExtra[dc]); err != nil {
			return err
		}
		d := testDistBase[dc] + int(extra)
		pos := len(s.out)
		if d > pos {
			return fmt.Errorf("deflate test: distance %d at offset %d", d, pos)
		}
		s.refs = append(s.refs, backRef{pos: pos, dist: d, length: length})
		for i := range length {
			s.out = append(s.out, s.out[pos-d+i])
		}
	}
}
