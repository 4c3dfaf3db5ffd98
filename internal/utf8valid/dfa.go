package utf8valid

import "encoding/binary"

// The automaton of Unicode table 3-7, shift-based: each state is a bit
// offset into a 64-bit row per input byte, and the row for byte b holds, at
// the offset of each state, the state that b leads to. One step is a load
// and a shift, and the load does not depend on the state, so a step costs
// about a cycle.
const (
	stateAccept = 0 * 6 // between sequences
	stateError  = 1 * 6 // no valid text continues this way; sticky
	stateCont1  = 2 * 6 // one continuation byte (80..BF) left
	stateCont2  = 3 * 6 // two left
	stateCont3  = 4 * 6 // three left
	stateE0     = 5 * 6 // after E0: A0..BF, then one more
	stateED     = 6 * 6 // after ED: 80..9F (no surrogates), then one more
	stateF0     = 7 * 6 // after F0: 90..BF, then two more
	stateF4     = 8 * 6 // after F4: 80..8F (nothing past U+10FFFF), then two more
)

var dfa = func() (t [256]uint64) {
	states := []uint64{stateAccept, stateError, stateCont1, stateCont2, stateCont3, stateE0, stateED, stateF0, stateF4}
	for b := range 256 {
		for _, s := range states {
			t[b] |= next(s, byte(b)) << s
		}
	}
	return t
}()

// next is the transition of the automaton, written out plainly; the table
// is built from it once.
func next(s uint64, b byte) uint64 {
	inRange := func(lo, hi byte) bool { return b >= lo && b <= hi }
	switch s {
	case stateAccept:
		switch {
		case b < 0x80:
			return stateAccept
		case inRange(0xC2, 0xDF):
			return stateCont1
		case b == 0xE0:
			return stateE0
		case b == 0xED:
			return stateED
		case inRange(0xE1, 0xEF):
			return stateCont2
		case b == 0xF0:
			return stateF0
		case inRange(0xF1, 0xF3):
			return stateCont3
		case b == 0xF4:
			return stateF4
		}
	case stateCont1:
		if inRange(0x80, 0xBF) {
			return stateAccept
		}
	case stateCont2:
		if inRange(0x80, 0xBF) {
			return stateCont1
		}
	case stateCont3:
		if inRange(0x80, 0xBF) {
			return stateCont2
		}
	case stateE0:
		if inRange(0xA0, 0xBF) {
			return stateCont1
		}
	case stateED:
		if inRange(0x80, 0x9F) {
			return stateCont1
		}
	case stateF0:
		if inRange(0x90, 0xBF) {
			return stateCont2
		}
	case stateF4:
		if inRange(0x80, 0x8F) {
			return stateCont2
		}
	}
	return stateError
}

// run feeds p to the automaton from state st and returns the state it ends
// in. Between sequences it skips ASCII eight bytes at a time; elsewhere it
// steps eight bytes per round, and stops early once in the error state.
func run(st uint64, p []byte) uint64 {
	const high = 0x8080808080808080
	for {
		if st == stateAccept {
			for len(p) >= 8 && binary.LittleEndian.Uint64(p)&high == 0 {
				p = p[8:]
			}
		}
		if len(p) < 8 || st == stateError {
			break
		}
		// A shift count is taken mod 64 by the hardware and, knowing
		// that, by the compiler: st&63 costs nothing here.
		_ = p[7]
		st = dfa[p[0]] >> (st & 63)
		st = dfa[p[1]] >> (st & 63)
		st = dfa[p[2]] >> (st & 63)
		st = dfa[p[3]] >> (st & 63)
		st = dfa[p[4]] >> (st & 63)
		st = dfa[p[5]] >> (st & 63)
		st = dfa[p[6]] >> (st & 63)
		st = dfa[p[7]] >> (st & 63)
		st &= 63
		p = p[8:]
	}
	for _, b := range p {
		st = dfa[b] >> (st & 63)
	}
	return st & 63
}
