package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeResponse(t *testing.T, size int, key, sub, ext string, extra http.Header) (string, error) {
	t.Helper()
	var out bytes.Buffer
	bw := bufio.NewWriterSize(&out, size)
	err := WriteResponse(bw, []byte(key), sub, ext, extra)
	require.NoError(t, bw.Flush())
	return out.String(), err
}

func TestWriteResponseGolden(t *testing.T) {
	// RFC 6455 §1.2 and §1.3.
	const want = "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n"
	for _, size := range []int{4096, 16} {
		t.Run(fmt.Sprintf("buffer %d", size), func(t *testing.T) {
			got, err := writeResponse(t, size, rfcKey, "chat", "", nil)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestWriteResponseExtensionsAndExtra(t *testing.T) {
	extra := http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-Server": {"test"}}
	got, err := writeResponse(t, 4096, rfcKey, "", "permessage-deflate; server_no_context_takeover", extra)
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"+
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"+
		"Set-Cookie: a=1\r\n"+
		"Set-Cookie: b=2\r\n"+
		"X-Server: test\r\n"+
		"\r\n", got)

	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
	require.NoError(t, err)
	sub, exts, err := CheckResponse(resp, rfcKey, &ClientOptions{Extensions: []Extension{{Name: "permessage-deflate"}}})
	require.NoError(t, err)
	assert.Empty(t, sub)
	assert.Equal(t, []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "server_no_context_takeover"}}}}, exts)
}

func TestWriteResponseErrors(t *testing.T) {
	tests := []struct {
		name  string
		sub   string
		ext   string
		extra http.Header
	}{
		{name: "subprotocol not a token", sub: "a b"},
		{name: "subprotocol with CRLF", sub: "chat\r\nX-Injected: 1"},
		{name: "extensions with CRLF", ext: "x\r\nX-Injected: 1"},
		{name: "extra overrides accept", extra: http.Header{"Sec-Websocket-Accept": {"x"}}},
		{name: "extra overrides upgrade, odd case", extra: http.Header{"upgrade": {"h2c"}}},
		{name: "extra overrides protocol", extra: http.Header{"Sec-WebSocket-Protocol": {"x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := writeResponse(t, 4096, rfcKey, tt.sub, tt.ext, tt.extra)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "handshake: "), err.Error())
			assert.Empty(t, got, "nothing may be written on error")
		})
	}
}

func TestWriteResponseAllocs(t *testing.T) {
	bw := bufio.NewWriter(io.Discard)
	key := []byte(rfcKey)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		bw.Reset(io.Discard)
		err = WriteResponse(bw, key, "chat", "permessage-deflate", nil)
	})
	require.NoError(t, err)
	assert.Zero(t, allocs)
}

func TestWriteReject(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		conn    string            // Connection header; "close" if empty
		headers map[string]string // must be present with this value
		absent  []string
		body    string
	}{
		{
			name: "bad version", err: ErrBadVersion, status: 426, conn: "Upgrade, close",
			headers: map[string]string{"Sec-WebSocket-Version": "13", "Upgrade": "websocket"},
			body:    ErrBadVersion.Error() + "\n",
		},
		{
			name: "not a WebSocket request", err: ErrNotWebSocket, status: 426, conn: "Upgrade, close",
			headers: map[string]string{"Sec-WebSocket-Version": "13", "Upgrade": "websocket"},
		},
		{
			name: "bad method", err: ErrBadMethod, status: 405,
			headers: map[string]string{"Allow": "GET"},
			absent:  []string{"Sec-WebSocket-Version", "Upgrade"},
		},
		{name: "bad key", err: ErrBadKey, status: 400, absent: []string{"Sec-WebSocket-Version"}},
		{name: "bad origin", err: ErrBadOrigin, status: 403},
		{name: "too large", err: ErrHeaderTooLarge, status: 431},
		{name: "wrapped", err: fmt.Errorf("upgrade: %w", ErrBadOrigin), status: 403, body: ErrBadOrigin.Error() + "\n"},
		{name: "not an *Error", err: errors.New("secret internal detail"), status: 400, body: "Bad Request\n"},
		{name: "status outside 4xx and 5xx", err: &Error{Status: 101, Reason: "odd"}, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			bw := bufio.NewWriter(&out)
			require.NoError(t, WriteReject(bw, tt.err))
			require.NoError(t, bw.Flush())
			raw := out.String()
			conn := tt.conn
			if conn == "" {
				conn = "close"
			}
			// http.ReadResponse consumes "Connection: close" into
			// resp.Close, so look for it in the raw bytes.
			assert.Contains(t, raw, "\r\nConnection: "+conn+"\r\n")

			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			assert.True(t, resp.Close)

			rec := httptest.NewRecorder()
			RejectHTTP(rec, tt.err)
			assert.Equal(t, conn, rec.Header().Get("Connection"))

			for _, got := range []struct {
				via    string
				status int
				header http.Header
				body   string
			}{
				{"WriteReject", resp.StatusCode, resp.Header, string(body)},
				{"RejectHTTP", rec.Code, rec.Header(), rec.Body.String()},
			} {
				assert.Equal(t, tt.status, got.status, got.via)
				assert.Equal(t, "text/plain; charset=utf-8", got.header.Get("Content-Type"), got.via)
				assert.Equal(t, strconv.Itoa(len(got.body)), got.header.Get("Content-Length"), got.via)
				for k, v := range tt.headers {
					assert.Equal(t, v, got.header.Get(k), "%s: %s", got.via, k)
				}
				for _, k := range tt.absent {
					assert.Empty(t, got.header.Values(k), "%s: %s", got.via, k)
				}
				if tt.body != "" {
					assert.Equal(t, tt.body, got.body, got.via)
				}
				assert.NotContains(t, got.body, "secret", got.via)
			}
		})
	}
}
