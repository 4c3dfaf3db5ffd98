package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readRequest(raw string, bufSize, max int) (*Request, error) {
	var r Request
	err := r.ReadRequest(bufio.NewReaderSize(strings.NewReader(raw), bufSize), max)
	return &r, err
}

func strs(bs [][]byte) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b))
	}
	return out
}

func TestReadRequestFields(t *testing.T) {
	r, err := readRequest(chromeRequest, 4096, 0)
	require.NoError(t, err)
	assert.Equal(t, "GET", string(r.Method))
	assert.Equal(t, "/chat?room=1", string(r.URI))
	assert.Equal(t, "server.example.com", string(r.Host))
	assert.Equal(t, rfcKey, string(r.Key))
	assert.Equal(t, "13", string(r.Version))
	assert.Equal(t, "https://server.example.com", string(r.Origin))
	assert.Equal(t, []string{"chat", "superchat"}, strs(r.Protocols))
	assert.Equal(t, "permessage-deflate; client_max_window_bits", string(r.Extensions))

	hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(chromeRequest)))
	require.NoError(t, err)
	var h Request
	h.FromHTTP(hr)
	assert.Equal(t, r.Method, h.Method)
	assert.Equal(t, r.URI, h.URI)
	assert.Equal(t, r.Host, h.Host)
	assert.Equal(t, r.Key, h.Key)
	assert.Equal(t, r.Version, h.Version)
	assert.Equal(t, r.Origin, h.Origin)
	assert.Equal(t, strs(r.Protocols), strs(h.Protocols))
	assert.Equal(t, r.Extensions, h.Extensions)
}

func TestReadRequestJoinsRepeatedHeaders(t *testing.T) {
	raw := upgrade(nil,
		"Sec-WebSocket-Protocol: a, , b",
		"Sec-WebSocket-Extensions: x; p=1",
		"sec-websocket-protocol:c",
		"Sec-WebSocket-Extensions: y",
		"SEC-WEBSOCKET-EXTENSIONS:  z ,w ")
	r, err := readRequest(raw, 4096, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, strs(r.Protocols))
	assert.Equal(t, "x; p=1, y, z ,w", string(r.Extensions))
}

func TestFromHTTPClientRequest(t *testing.T) {
	hr, err := http.NewRequest(http.MethodGet, "http://server.example.com/chat?x=1", nil)
	require.NoError(t, err)
	hr.Header.Set("Upgrade", "websocket")
	hr.Header.Set("Connection", "Upgrade")
	hr.Header.Set("Sec-WebSocket-Key", rfcKey)
	hr.Header.Set("Sec-WebSocket-Version", "13")
	var r Request
	r.FromHTTP(hr)
	assert.Equal(t, "/chat?x=1", string(r.URI))
	_, err = Check(&r, nil)
	require.NoError(t, err)
}

// TestReadRequestReuse reads a long request and then a short one into the
// same Request: nothing of the first may show through.
func TestReadRequestReuse(t *testing.T) {
	var r Request
	br := bufio.NewReader(strings.NewReader(chromeRequest + upgrade(nil)))
	require.NoError(t, r.ReadRequest(br, 0))
	require.Len(t, r.Protocols, 2)
	require.NoError(t, r.ReadRequest(br, 0))
	assert.Equal(t, "/chat", string(r.URI))
	assert.Empty(t, r.Protocols)
	assert.Empty(t, r.Extensions)
	assert.Empty(t, r.Origin)
	_, err := Check(&r, nil)
	require.NoError(t, err)
}

// TestRequestFieldsClipped checks that appending to a field copies it
// rather than overwriting the request bytes after it.
func TestRequestFieldsClipped(t *testing.T) {
	r, err := readRequest(chromeRequest, 4096, 0)
	require.NoError(t, err)
	_ = append(r.Host, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"...)
	_ = append(r.Protocols[0], "XXXXXXXXXXXXXXX"...)
	_ = append(r.Method, "XXXXXXXXXXXXXXXXXXXXXXXX"...)
	assert.Equal(t, "/chat?room=1", string(r.URI))
	assert.Equal(t, "superchat", string(r.Protocols[1]))
	_, err = Check(r, nil)
	require.NoError(t, err)
}

func TestReadRequestReaders(t *testing.T) {
	longCookie := "Cookie: session=" + strings.Repeat("c", 10000)
	tests := []struct {
		name string
		raw  string
		rd   func(io.Reader) io.Reader
		size int
	}{
		{name: "one byte at a time", raw: chromeRequest, rd: iotest.OneByteReader},
		{name: "half reads", raw: chromeRequest, rd: iotest.HalfReader},
		{name: "EOF with the last bytes", raw: chromeRequest, rd: iotest.DataErrReader},
		{name: "lines longer than the buffer", raw: chromeRequest, size: 16},
		{name: "10 KB cookie, 4 KB buffer", raw: upgrade(nil, longCookie), size: 4096},
		{name: "10 KB cookie one byte at a time", raw: upgrade(nil, longCookie), rd: iotest.OneByteReader, size: 16},
		{name: "bare LF", raw: strings.ReplaceAll(chromeRequest, "\r\n", "\n")},
		{name: "bare LF, small buffer", raw: strings.ReplaceAll(chromeRequest, "\r\n", "\n"), rd: iotest.HalfReader, size: 16},
		{name: "mixed line endings", raw: strings.Replace(chromeRequest, "\r\n", "\n", 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src io.Reader = strings.NewReader(tt.raw + "trailing frame bytes")
			if tt.rd != nil {
				src = tt.rd(src)
			}
			size := tt.size
			if size == 0 {
				size = 4096
			}
			br := bufio.NewReaderSize(src, size)
			var r Request
			require.NoError(t, r.ReadRequest(br, 0))
			_, err := Check(&r, nil)
			require.NoError(t, err)
			assert.Equal(t, rfcKey, string(r.Key))
			rest, _ := io.ReadAll(br)
			assert.Equal(t, "trailing frame bytes", string(rest), "ReadRequest must not read past the head")
		})
	}
}

func TestReadRequestTruncated(t *testing.T) {
	for _, raw := range []string{chromeRequest, strings.ReplaceAll(chromeRequest, "\r\n", "\n")} {
		for n := 0; n < len(raw); n++ {
			_, err := readRequest(raw[:n], 16, 0)
			require.Error(t, err, "accepted a request cut at %d of %d bytes", n, len(raw))
			if n == 0 {
				assert.ErrorIs(t, err, io.EOF)
			} else {
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", n)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "handshake: "), err.Error())
		}
	}
}

func TestReadRequestReadError(t *testing.T) {
	br := bufio.NewReaderSize(iotest.TimeoutReader(iotest.HalfReader(strings.NewReader(chromeRequest))), 16)
	var r Request
	err := r.ReadRequest(br, 0)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
}

func TestReadRequestLimit(t *testing.T) {
	many := make([]string, 2000)
	for i := range many {
		many[i] = "X-Padding: 0123456789"
	}
	tests := []struct {
		name    string
		raw     string
		max     int
		tooBig  bool
		bufSize int
	}{
		{name: "1 MB header line", raw: upgrade(nil, "X-Big: "+strings.Repeat("a", 1<<20)), tooBig: true},
		{name: "1 MB request target", raw: head("GET /"+strings.Repeat("a", 1<<20)+" HTTP/1.1", goodHeaders...), tooBig: true},
		{name: "many headers", raw: upgrade(nil, many...), tooBig: true},
		{name: "many headers, larger limit", raw: upgrade(nil, many...), max: 1 << 20},
		{name: "exactly at the limit", raw: chromeRequest, max: len(chromeRequest)},
		{name: "one byte over the limit", raw: chromeRequest, max: len(chromeRequest) - 1, tooBig: true},
		{name: "one byte over, small buffer", raw: chromeRequest, max: len(chromeRequest) - 1, tooBig: true, bufSize: 16},
		{name: "limit hit in the request line", raw: chromeRequest, max: 10, tooBig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.bufSize
			if size == 0 {
				size = 4096
			}
			_, err := readRequest(tt.raw, size, tt.max)
			if !tt.tooBig {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrHeaderTooLarge)
			var e *Error
			require.True(t, errors.As(err, &e))
			assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, e.Status)
		})
	}
}

func TestReadRequestMalformed(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"empty request line", "\r\n" + upgrade(nil)},
		{"no target", head("GET HTTP/1.1", goodHeaders...)},
		{"no version", head("GET /chat", goodHeaders...)},
		{"two spaces", head("GET  /chat HTTP/1.1", goodHeaders...)},
		{"trailing space", head("GET /chat HTTP/1.1 ", goodHeaders...)},
		{"extra word", head("GET /chat HTTP/1.1 x", goodHeaders...)},
		{"bad version", head("GET /chat HTTP/11", goodHeaders...)},
		{"lower-case version", head("GET /chat http/1.1", goodHeaders...)},
		{"version letters", head("GET /chat HTTP/x.y", goodHeaders...)},
		{"method not a token", head("G(T /chat HTTP/1.1", goodHeaders...)},
		{"control in target", head("GET /ch\x01at HTTP/1.1", goodHeaders...)},
		{"non-ASCII in target", head("GET /ch\xffat HTTP/1.1", goodHeaders...)},
		{"header without colon", upgrade(nil, "X-Foo bar")},
		{"empty header name", upgrade(nil, ": bar")},
		{"space before colon", upgrade(nil, "Host : server.example.com")},
		{"obsolete line folding", upgrade(nil, "X-Foo: a", " b")},
		{"folded handshake header", upgrade(without("Upgrade"), "Upgrade:", "\twebsocket")},
		{"whitespace before first header", head("GET /chat HTTP/1.1", append([]string{" X-Foo: a"}, goodHeaders...)...)},
		{"control in value", upgrade(nil, "X-Foo: a\x00b")},
		{"bare CR in value", upgrade(nil, "X-Foo: a\rb")},
		{"DEL in value", upgrade(nil, "X-Foo: a\x7fb")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readRequest(tt.raw, 4096, 0)
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e), "got %T %v", err, err)
			assert.Equal(t, http.StatusBadRequest, e.Status)
		})
	}
}

func TestReadRequestAcceptsOddButValid(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"value with tabs and spaces", upgrade(without("Upgrade"), "Upgrade:\t websocket \t")},
		{"value with obs-text", upgrade(nil, "X-Name: caf\xe9")},
		{"empty value", upgrade(nil, "X-Empty:")},
		{"absolute-form target", head("GET http://server.example.com/chat HTTP/1.1", goodHeaders...)},
		{"HTTP/1.9", head("GET /chat HTTP/1.9", goodHeaders...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := readRequest(tt.raw, 4096, 0)
			require.NoError(t, err)
			_, err = Check(r, nil)
			require.NoError(t, err)
		})
	}
}

func TestReadRequestAllocs(t *testing.T) {
	raw := []byte(chromeRequest)
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	var r Request
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		rd.Reset(raw)
		br.Reset(rd)
		err = r.ReadRequest(br, 0)
	})
	require.NoError(t, err)
	assert.Zero(t, allocs)
}

func BenchmarkReadRequest(b *testing.B) {
	raw := []byte(chromeRequest)
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	var r Request
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		rd.Reset(raw)
		br.Reset(rd)
		if err := r.ReadRequest(br, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHTTPReadRequest is the net/http baseline for BenchmarkReadRequest.
func BenchmarkHTTPReadRequest(b *testing.B) {
	raw := []byte(chromeRequest)
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		rd.Reset(raw)
		br.Reset(rd)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}
