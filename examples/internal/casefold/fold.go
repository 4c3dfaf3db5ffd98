// Package casefold implements Unicode full case folding, the C and F
// mappings of CaseFolding.txt: the same as Python's str.casefold. Folded
// strings compare equal when they differ only in case: "Straße" and
// "STRASSE" both fold to "strasse", "ΣΑΣ" and "σας" to "σασ".
//
// The Turkic mappings (T) are not applied, so "İ" folds to "i̇" (i and a
// combining dot above), and no normalization is done.
package casefold

import "unicode/utf8"

//go:generate go run ../gencasefold -o foldtable.go

// foldRange maps the code points lo, lo+stride, ... up to hi to themselves
// plus delta. A stride of 0 marks a full folding of the single code point
// lo (= hi) to the string fullFolds[delta].
type foldRange struct {
	lo, hi rune
	stride rune
	delta  rune
}

// Fold returns s case-folded. Bytes that are not valid UTF-8 are kept as
// they are. When nothing in s changes, Fold returns s and allocates
// nothing.
func Fold(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return string(appendFold(make([]byte, 0, len(s)), s, i, utf8.DecodeRuneInString))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if _, _, ok := lookup(r); ok && n > 1 {
			// A third more room covers most scripts' growth (ß → ss, ŉ → ʼn).
			return string(appendFold(make([]byte, 0, len(s)+len(s)/3), s, i, utf8.DecodeRuneInString))
		}
		i += n
	}
	return s
}

// AppendFold appends src case-folded to dst and returns the extended
// buffer, like Fold. ASCII input costs no allocation when dst has room.
func AppendFold(dst, src []byte) []byte {
	return appendFold(dst, src, 0, utf8.DecodeRune)
}

// appendFold appends s[:from], which must fold to itself, and the rest of s
// folded.
func appendFold[S string | []byte](dst []byte, s S, from int, decode func(S) (rune, int)) []byte {
	dst = append(dst, s[:from]...)
	for i := from; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := decode(s[i:])
		f, full, ok := lookup(r)
		switch {
		case !ok || n == 1: // not folded, or not UTF-8
			dst = append(dst, s[i:i+n]...)
		case full != "":
			dst = append(dst, full...)
		default:
			dst = utf8.AppendRune(dst, f)
		}
		i += n
	}
	return dst
}

// lookup returns the folding of r: the rune f, or the string full when the
// folding has more than one code point. ok is false when r folds to itself.
func lookup(r rune) (f rune, full string, ok bool) {
	lo, hi := 0, len(foldRanges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch fr := &foldRanges[m]; {
		case fr.hi < r:
			lo = m + 1
		case fr.lo > r:
			hi = m
		case fr.stride == 0:
			return 0, fullFolds[fr.delta], true
		case (r-fr.lo)%fr.stride == 0:
			return r + fr.delta, "", true
		default:
			return 0, "", false
		}
	}
	return 0, "", false
}
