package handshake

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// h2Request is an extended CONNECT request as net/http's HTTP/2 server
// hands it to a handler (RFC 8441 §5): method CONNECT, :protocol in the
// header map, the authority as Host.
func h2Request(mod func(r *http.Request)) *http.Request {
	r := &http.Request{
		Method:     "CONNECT",
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Host:       "example.com",
		RequestURI: "/chat",
		Header: http.Header{
			":protocol":             {"websocket"},
			"Sec-Websocket-Version": {"13"},
			"Origin":                {"https://example.com"},
		},
	}
	if mod != nil {
		mod(r)
	}
	return r
}

func TestCheckExtendedConnect(t *testing.T) {
	opts := &ServerOptions{Subprotocols: []string{"chat"}}
	for _, tc := range []struct {
		name string
		mod  func(r *http.Request)
		want error
		sub  string
	}{
		{name: "accepted", sub: ""},
		{name: "subprotocol", mod: func(r *http.Request) { r.Header.Set("Sec-Websocket-Protocol", "x, chat") }, sub: "chat"},
		{name: "protocol in any case", mod: func(r *http.Request) { r.Header[":protocol"] = []string{"WebSocket"} }},
		{name: "no key needed, none looked at", mod: func(r *http.Request) { r.Header.Set("Sec-Websocket-Key", "not a key") }},
		{name: "GET over HTTP/2", mod: func(r *http.Request) { r.Method = "GET" }, want: ErrNotExtendedConnect},
		{name: "GET with Upgrade over HTTP/2", mod: func(r *http.Request) {
			r.Method = "GET"
			delete(r.Header, ":protocol")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}, want: ErrNotExtendedConnect},
		{name: "CONNECT without :protocol", mod: func(r *http.Request) { delete(r.Header, ":protocol") }, want: ErrBadConnectProtocol},
		{name: "another protocol", mod: func(r *http.Request) { r.Header[":protocol"] = []string{"webtransport"} }, want: ErrBadConnectProtocol},
		{name: "no authority", mod: func(r *http.Request) { r.Host = "" }, want: errHost},
		{name: "no version", mod: func(r *http.Request) { r.Header.Del("Sec-Websocket-Version") }, want: ErrBadVersion},
		{name: "wrong version", mod: func(r *http.Request) { r.Header.Set("Sec-Websocket-Version", "8") }, want: ErrBadVersion},
		{name: "two versions", mod: func(r *http.Request) { r.Header.Add("Sec-Websocket-Version", "13") }, want: ErrBadVersion},
		{name: "foreign origin", mod: func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, want: ErrBadOrigin},
		{name: "bad subprotocol", mod: func(r *http.Request) { r.Header.Set("Sec-Websocket-Protocol", "a b") }, want: errProtocol},
		{name: "bad extensions", mod: func(r *http.Request) { r.Header.Set("Sec-Websocket-Extensions", "a;;") }, want: errExtSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req Request
			req.FromHTTP(h2Request(tc.mod))
			sub, err := Check(&req, opts)
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, tc.sub, sub)
				return
			}
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// An HTTP/1.1 request that carries a :protocol header line cannot pass for
// an extended CONNECT: the line is not a valid header, and the checks of
// RFC 6455 apply.
func TestCheckProtocolOnlyOverHTTP2(t *testing.T) {
	hr := h2Request(nil)
	hr.Proto, hr.ProtoMajor, hr.ProtoMinor = "HTTP/1.1", 1, 1
	var req Request
	req.FromHTTP(hr)
	_, err := Check(&req, nil)
	assert.ErrorIs(t, err, ErrBadMethod)
}

func TestRejectHTTP2(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		want   map[string]string
	}{
		{ErrNotExtendedConnect, 405, map[string]string{"Allow": "CONNECT"}},
		{ErrBadVersion, 400, map[string]string{"Sec-Websocket-Version": "13"}},
		{ErrBadOrigin, 403, nil},
	} {
		rec := httptest.NewRecorder()
		RejectHTTP2(rec, tc.err)
		assert.Equal(t, tc.status, rec.Code, tc.err.Error())
		assert.Equal(t, tc.err.Error()+"\n", rec.Body.String())
		for k, v := range tc.want {
			assert.Equal(t, v, rec.Header().Get(k))
		}
		// No field of an HTTP/1.1 connection: net/http would end the
		// whole HTTP/2 connection on "Connection: close".
		assert.Empty(t, rec.Header().Values("Connection"))
		assert.Empty(t, rec.Header().Values("Upgrade"))
	}
}

func TestConnectHeader(t *testing.T) {
	h, err := ConnectHeader(&ClientOptions{
		Origin:       "https://example.com",
		Subprotocols: []string{"a", "b"},
		Extensions:   []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}},
		Header:       http.Header{"X-Trace": {"1"}},
	})
	require.NoError(t, err)
	assert.Equal(t, http.Header{
		"Sec-Websocket-Version":    {"13"},
		"Origin":                   {"https://example.com"},
		"Sec-Websocket-Protocol":   {"a, b"},
		"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"},
		"X-Trace":                  {"1"},
	}, h)

	h, err = ConnectHeader(nil)
	require.NoError(t, err)
	assert.Equal(t, http.Header{"Sec-Websocket-Version": {"13"}}, h)

	for _, bad := range []*ClientOptions{
		{Origin: "a\nb"},
		{Subprotocols: []string{"a b"}},
		{Extensions: []Extension{{Name: "a b"}}},
		{Header: http.Header{"Sec-Websocket-Version": {"8"}}},
	} {
		_, err := ConnectHeader(bad)
		assert.Error(t, err, "%+v", bad)
	}
}

func TestCheckConnectResponse(t *testing.T) {
	opts := &ClientOptions{Subprotocols: []string{"chat"}, Extensions: []Extension{{Name: "permessage-deflate"}}}
	ok := func(h http.Header) *http.Response {
		return &http.Response{StatusCode: 200, Status: "200 OK", ProtoMajor: 2, Header: h}
	}
	sub, exts, err := CheckConnectResponse(ok(http.Header{
		"Sec-Websocket-Protocol":   {"chat"},
		"Sec-Websocket-Extensions": {"permessage-deflate; server_no_context_takeover"},
	}), opts)
	require.NoError(t, err)
	assert.Equal(t, "chat", sub)
	require.Len(t, exts, 1)
	assert.Equal(t, "permessage-deflate", exts[0].Name)

	// No Upgrade, Connection or accept value is asked for.
	_, _, err = CheckConnectResponse(ok(http.Header{}), opts)
	require.NoError(t, err)

	for _, tc := range []struct {
		resp   *http.Response
		status int
		header string
	}{
		{&http.Response{StatusCode: 101, Status: "101 Switching Protocols"}, 101, ""},
		{&http.Response{StatusCode: 403, Status: "403 Forbidden"}, 403, ""},
		{ok(http.Header{"Sec-Websocket-Protocol": {"other"}}), 200, "Sec-WebSocket-Protocol"},
		{ok(http.Header{"Sec-Websocket-Extensions": {"x-other"}}), 200, "Sec-WebSocket-Extensions"},
	} {
		_, _, err := CheckConnectResponse(tc.resp, opts)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, tc.status, e.Status)
		assert.Equal(t, tc.header, e.Header)
	}
}

func TestCheckConnectHeader(t *testing.T) {
	require.NoError(t, CheckConnectHeader(nil))
	require.NoError(t, CheckConnectHeader(http.Header{"X-Room": {"lobby"}, "Set-Cookie": {"a=b"}}))
	for _, name := range []string{"Connection", "upgrade", "Sec-WebSocket-Accept", "Sec-Websocket-Extensions", "Content-Length", "Transfer-Encoding", "TE", "Keep-Alive"} {
		assert.ErrorContains(t, CheckConnectHeader(http.Header{name: {"x"}}), name)
	}
}
