package wsproto

import "unicode/utf8"

// utf8Stream validates UTF-8 that arrives in pieces, failing on the first
// byte that cannot start or continue a valid sequence, so that a text message
// is refused as soon as the bad byte arrives (RFC 6455 §8.1), even when a
// sequence is split across reads or frames.
type utf8Stream struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // range of the next continuation byte
}

// write checks the next piece of the stream and reports whether it is still
// a valid prefix of UTF-8.
func (s *utf8Stream) write(p []byte) bool {
	for s.need > 0 {
		if len(p) == 0 {
			return true
		}
		if !s.next(p[0]) {
			return false
		}
		p = p[1:]
	}
	// Split off a trailing incomplete sequence; the stdlib checks the rest.
	i := len(p)
	for j := len(p) - 1; j >= 0 && j >= len(p)-3; j-- {
		b := p[j]
		if b < utf8.RuneSelf {
			break
		}
		if b >= 0xC0 {
			if j+seqLen(b) > len(p) {
				i = j
			}
			break
		}
	}
	if !utf8.Valid(p[:i]) {
		return false
	}
	for _, b := range p[i:] {
		if !s.next(b) {
			return false
		}
	}
	return true
}

// complete reports whether the stream ends on a sequence boundary.
func (s *utf8Stream) complete() bool { return s.need == 0 }

func (s *utf8Stream) reset() { *s = utf8Stream{} }

// next feeds one byte of a multi-byte sequence (Unicode table 3-7).
func (s *utf8Stream) next(b byte) bool {
	if s.need > 0 {
		if b < s.lo || b > s.hi {
			return false
		}
		s.need--
		s.lo, s.hi = 0x80, 0xBF
		return true
	}
	s.lo, s.hi = 0x80, 0xBF
	switch {
	case b < 0x80:
		return true
	case b >= 0xC2 && b <= 0xDF:
		s.need = 1
	case b == 0xE0:
		s.need, s.lo = 2, 0xA0
	case b == 0xED:
		s.need, s.hi = 2, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		s.need = 2
	case b == 0xF0:
		s.need, s.lo = 3, 0x90
	case b >= 0xF1 && b <= 0xF3:
		s.need = 3
	case b == 0xF4:
		s.need, s.hi = 3, 0x8F
	default:
		return false
	}
	return true
}

// seqLen is the length of the sequence a lead byte (>= 0xC0) announces; an
// invalid lead counts as 1 so that utf8.Valid rejects it in place.
func seqLen(b byte) int {
	switch {
	case b >= 0xC2 && b <= 0xDF:
		return 2
	case b >= 0xE0 && b <= 0xEF:
		return 3
	case b >= 0xF0 && b <= 0xF4:
		return 4
	}
	return 1
}
