package handshake

// Lexical helpers for the HTTP grammar of RFC 9110 §5.6. They take strings
// and byte slices alike so that the raw reader, the net/http path and the
// client share one definition, and none of them allocates.

// tchar (RFC 9110 §5.6.2) as bit sets over the bytes 0-63 and 64-127:
//
//	tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//	        "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const (
	tcharLo uint64 = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' |
		1<<'*' | 1<<'+' | 1<<'-' | 1<<'.' | (1<<10-1)<<'0'
	tcharHi uint64 = 1<<('^'-64) | 1<<('_'-64) | 1<<('`'-64) | 1<<('|'-64) |
		1<<('~'-64) | (1<<26-1)<<('A'-64) | (1<<26-1)<<('a'-64)
)

// isTokenChar reports whether c is a tchar.
func isTokenChar(c byte) bool {
	if c < 64 {
		return tcharLo>>c&1 != 0
	}
	return c < 128 && tcharHi>>(c-64)&1 != 0
}

// isToken reports whether s is a non-empty token (RFC 9110 §5.6.2).
func isToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether s may appear as a field value: visible
// characters, obs-text, SP and HTAB, but no other control character
// (RFC 9110 §5.5). A bare CR is rejected here (RFC 9112 §2.2).
func validFieldValue[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// isOWS reports whether c is optional whitespace (RFC 9110 §5.6.3).
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS removes leading and trailing optional whitespace.
func trimOWS[T string | []byte](s T) T {
	i, j := 0, len(s)
	for i < j && isOWS(s[i]) {
		i++
	}
	for j > i && isOWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// lower maps an ASCII upper-case letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether a and b are equal under ASCII case folding,
// which is how header names and the tokens of Upgrade and Connection compare
// (RFC 9110 §5.1, §7.6.1, §7.8).
func equalFold[A, B string | []byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// nextElement splits the first element off a comma-separated list
// (RFC 9110 §5.6.1) and returns it trimmed of OWS, with the rest of the list.
// Empty elements come back as empty strings; callers skip them.
func nextElement[T string | []byte](list T) (elem, rest T) {
	for i := 0; i < len(list); i++ {
		if list[i] == ',' {
			return trimOWS(list[:i]), list[i+1:]
		}
	}
	return trimOWS(list), list[len(list):]
}

// hasToken reports whether the comma-separated list holds token, compared
// case-insensitively.
func hasToken[T string | []byte](list T, token string) bool {
	for len(list) > 0 {
		var elem T
		elem, list = nextElement(list)
		if equalFold(elem, token) {
			return true
		}
	}
	return false
}
