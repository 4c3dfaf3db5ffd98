// Package utf8valid checks UTF-8 at memory speed, whole or in pieces.
//
// Valid answers what unicode/utf8.Valid answers. Stream checks text that
// arrives in pieces, as a WebSocket text message does across frames and
// reads, and refuses it in the piece that holds the first byte no valid
// text could continue with (RFC 6455 §8.1: fail fast on invalid text).
//
// On amd64 long pieces go through the lookup-table algorithm of Keiser and
// Lemire ("Validating UTF-8 in less than one instruction per byte",
// Software: Practice and Experience, 2021), 32 bytes per step with AVX2 or
// 16 with SSSE3, whichever the processor has. Elsewhere, with the purego
// build tag, and for short pieces, a shift-based automaton checks a byte per
// step and skips ASCII eight bytes at a time.
package utf8valid

// Stream validates UTF-8 that arrives in pieces. Its zero value is ready to
// take the first piece of a text.
type Stream struct {
	state uint8 // an automaton state: accept, error, or inside a sequence
}

// Write checks the next piece and reports whether the text so far is still
// the beginning of some valid UTF-8: a sequence may be split across pieces.
// Once Write has reported false it keeps doing so until Reset.
func (s *Stream) Write(p []byte) bool {
	st := uint64(s.state)
	if len(p) >= simdMin && haveSIMD && st != stateError {
		// Finish a sequence the previous piece began, byte by byte.
		for st != stateAccept && st != stateError && len(p) > 0 {
			st = dfa[p[0]] >> st & 63
			p = p[1:]
		}
		if st == stateAccept {
			i := completeLen(p)
			if !validSIMD(p[:i]) {
				st = stateError
			} else {
				st = run(stateAccept, p[i:])
			}
		}
	} else {
		st = run(st, p)
	}
	s.state = uint8(st)
	return st != stateError
}

// Complete reports whether the text so far is valid UTF-8 that ends on a
// sequence boundary: whether it may end here.
func (s *Stream) Complete() bool { return s.state == stateAccept }

// Reset readies s for a new text.
func (s *Stream) Reset() { s.state = stateAccept }

// Valid reports whether p is entirely valid UTF-8.
func Valid(p []byte) bool {
	if len(p) >= simdMin && haveSIMD {
		return validSIMD(p)
	}
	return run(stateAccept, p) == stateAccept
}

// completeLen is the length of p without a trailing sequence that p ends
// before it is complete, so that p[:completeLen(p)] may be checked as a
// whole text and the rest carried into the next piece. A byte that cannot
// start a sequence is left in place, for the whole check to refuse.
func completeLen(p []byte) int {
	for j := len(p) - 1; j >= 0 && j >= len(p)-3; j-- {
		b := p[j]
		if b < 0x80 {
			break
		}
		if b >= 0xC0 {
			if j+seqLen(b) > len(p) {
				return j
			}
			break
		}
	}
	return len(p)
}

// seqLen is the length of the sequence a lead byte (>= 0xC0) announces; an
// invalid lead counts as 1.
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
