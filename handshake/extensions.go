package handshake

// Extension is one element of a Sec-WebSocket-Extensions list: an extension
// name with its parameters, in order (RFC 6455 §9.1).
type Extension struct {
	Name   string
	Params []Param
}

// Param is an extension parameter. HasValue tells "name" (false) from
// "name=value" (true); Value is unescaped if it was sent as a quoted-string.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// String returns e in the form [AppendExtensions] writes.
func (e Extension) String() string {
	return string(AppendExtensions(nil, []Extension{e}))
}

// ParseExtensions parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1):
//
//	extension-list  = 1#extension
//	extension       = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
//
// The value may hold several offers, as the joined lines of a request do
// ([Request.Extensions]); an extension named more than once comes back as
// separate entries in the order sent, since a client may offer alternative
// configurations of one extension (§9.1). Whitespace around ",", ";" and
// "=" is allowed and empty list elements are skipped (RFC 9110 §5.6.1). A
// quoted-string value is unescaped and must then be a token (§9.1).
//
// An empty value yields no extensions. A malformed one yields an [*Error]
// with Status 400 and Header "Sec-WebSocket-Extensions".
func ParseExtensions(value []byte) ([]Extension, error) {
	var exts []Extension
	if err := scanExtensions(value, &exts); err != nil {
		return nil, err
	}
	return exts, nil
}

// AppendExtensions appends exts to dst in canonical form,
// "name; p; q=v, other", and returns the extended slice. Names and values
// are written as they are: they must be tokens for the result to be a valid
// header value (RFC 6455 §9.1), which holds for anything ParseExtensions
// returned.
func AppendExtensions(dst []byte, exts []Extension) []byte {
	for i, e := range exts {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, e.Name...)
		for _, p := range e.Params {
			dst = append(dst, "; "...)
			dst = append(dst, p.Name...)
			if p.HasValue {
				dst = append(dst, '=')
				dst = append(dst, p.Value...)
			}
		}
	}
	return dst
}

// validExtensions reports whether AppendExtensions would write a valid
// header value for exts.
func validExtensions(exts []Extension) bool {
	for _, e := range exts {
		if !isToken(e.Name) {
			return false
		}
		for _, p := range e.Params {
			if !isToken(p.Name) || p.HasValue && !isToken(p.Value) {
				return false
			}
		}
	}
	return true
}

// scanExtensions checks s against the grammar of ParseExtensions and, if
// out is not nil, appends what it parsed to *out. With a nil out it does not
// allocate, which lets Check validate without parsing.
func scanExtensions(s []byte, out *[]Extension) error {
	i := 0
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return nil
		}
		if s[i] == ',' {
			i++
			continue
		}
		j := skipToken(s, i)
		if j == i {
			return errExtSyntax
		}
		var ext *Extension
		if out != nil {
			*out = append(*out, Extension{Name: string(s[i:j])})
			ext = &(*out)[len(*out)-1]
		}
		i = skipOWS(s, j)
		for i < len(s) && s[i] == ';' {
			i = skipOWS(s, i+1)
			j = skipToken(s, i)
			if j == i {
				return errExtSyntax // no parameter name, e.g. a trailing ';'
			}
			name := s[i:j]
			i = skipOWS(s, j)
			var value []byte
			hasValue := false
			if i < len(s) && s[i] == '=' {
				hasValue = true
				i = skipOWS(s, i+1)
				var err error
				if value, i, err = scanValue(s, i, out != nil); err != nil {
					return err
				}
				i = skipOWS(s, i)
			}
			if ext != nil {
				ext.Params = append(ext.Params, Param{
					Name:     string(name),
					Value:    string(value),
					HasValue: hasValue,
				})
			}
		}
		if i < len(s) && s[i] != ',' {
			return errExtSyntax
		}
	}
}

// scanValue scans a parameter value, token or quoted-string, starting at
// s[i], and returns it (unescaped, if unescape is set and the value is
// quoted) and the index just past it.
func scanValue(s []byte, i int, unescape bool) (value []byte, next int, err error) {
	if i == len(s) || s[i] != '"' {
		j := skipToken(s, i)
		if j == i {
			return nil, i, errExtSyntax // "=" without a value
		}
		return s[i:j], j, nil
	}
	// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
	// (RFC 9110 §5.6.4), whose unescaped content must be a token
	// (RFC 6455 §9.1); a token has no DQUOTE or backslash, so every
	// character between the quotes, once unescaped, must be a tchar.
	start, escaped := i+1, false
	for i = start; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if i == start {
				return nil, i, errExtQuoted // empty
			}
			value = s[start:i]
			if escaped && unescape {
				value = unquote(value)
			}
			return value, i + 1, nil
		case c == '\\':
			i++
			if i == len(s) {
				return nil, i, errExtSyntax
			}
			escaped = true
			if !isTokenChar(s[i]) {
				return nil, i, errExtQuoted
			}
		case !isTokenChar(c):
			return nil, i, errExtQuoted
		}
	}
	return nil, i, errExtSyntax // unterminated
}

// unquote removes the backslashes of quoted-pairs from the content of a
// quoted-string already checked by scanValue.
func unquote(q []byte) []byte {
	v := make([]byte, 0, len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '\\' {
			i++
		}
		v = append(v, q[i])
	}
	return v
}

// skipOWS returns the index of the first byte at or after i that is not
// optional whitespace.
func skipOWS(s []byte, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

// skipToken returns the index of the first byte at or after i that is not a
// tchar.
func skipToken(s []byte, i int) int {
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return i
}
