package http2test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad extended CONNECT requests, sent over a real HTTP/2 connection, get
// their status and leave the connection serving.
func TestHostileRequests(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			checkGoroutines(t)
			upgradeErrs := make(chan error, 1)
			s := startServer(t, mode, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := wsproto.Upgrade(w, r, nil)
				if err == nil {
					c.CloseNow()
				}
				upgradeErrs <- err
			}))
			for _, tc := range []struct {
				name   string
				method string
				header http.Header
				status int
				want   error
				field  [2]string
			}{
				{"CONNECT without :protocol", http.MethodConnect, http.Header{"Sec-Websocket-Version": {"13"}}, 400, handshake.ErrBadConnectProtocol, [2]string{}},
				{"another protocol", http.MethodConnect, http.Header{":protocol": {"webtransport"}, "Sec-Websocket-Version": {"13"}}, 400, handshake.ErrBadConnectProtocol, [2]string{}},
				{"wrong version", http.MethodConnect, http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"8"}}, 400, handshake.ErrBadVersion, [2]string{"Sec-Websocket-Version", "13"}},
				{"no version", http.MethodConnect, http.Header{":protocol": {"websocket"}}, 400, handshake.ErrBadVersion, [2]string{"Sec-Websocket-Version", "13"}},
				{"GET over HTTP/2", http.MethodGet, http.Header{"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}, 405, handshake.ErrNotExtendedConnect, [2]string{"Allow", "CONNECT"}},
				{"foreign origin", http.MethodConnect, http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}, "Origin": {"https://evil.example"}}, 403, handshake.ErrBadOrigin, [2]string{}},
			} {
				rs := s.connect(t, tc.method, tc.header)
				assert.Equal(t, tc.status, rs.resp.StatusCode, tc.name)
				assert.ErrorIs(t, <-upgradeErrs, tc.want, tc.name)
				if tc.field[0] != "" {
					assert.Equal(t, tc.field[1], rs.resp.Header.Get(tc.field[0]), tc.name)
				}
				assert.Empty(t, rs.resp.Header.Values("Connection"), tc.name)
				body, err := io.ReadAll(rs.resp.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.want.Error()+"\n", string(body), tc.name)
			}
			assert.Equal(t, int32(1), s.tcp.Load(), "the refusals ended their streams, not the connection")
			stillServes(t, s)
		})
	}
}

// Bad streams after a good handshake: the server's Conn ends with 1006 and
// says why, and the HTTP/2 connection goes on.
func TestHostileStreams(t *testing.T) {
	for _, mode := range modes {
		for _, tc := range []struct {
			name string
			do   func(rs *rawStream)
			want string
		}{
			{"body ends mid-frame", func(rs *rawStream) {
				b := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 100})
				_, err := rs.w.Write(append(b, "only part of it"...))
				require.NoError(rs.t, err)
				require.NoError(rs.t, rs.w.Close()) // END_STREAM
			}, "unexpected EOF"},
			{"body ends mid-header", func(rs *rawStream) {
				_, err := rs.w.Write([]byte{0x82})
				require.NoError(rs.t, err)
				require.NoError(rs.t, rs.w.Close())
			}, "unexpected EOF"},
			{"stream reset mid-message", func(rs *rawStream) {
				rs.send(false, frame.OpText, []byte("half a "))
				rs.resp.Body.Close() // x/net resets the stream: RST_STREAM, CANCEL
			}, "CANCEL"},
			{"unmasked frame", func(rs *rawStream) {
				b := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Length: 2})
				_, err := rs.w.Write(append(b, "hi"...))
				require.NoError(rs.t, err)
				h, p := rs.readFrame()
				assert.Equal(rs.t, frame.OpClose, h.Opcode)
				code, _, err := frame.ParseClosePayload(p)
				require.NoError(rs.t, err)
				assert.Equal(rs.t, frame.CloseProtocolError, code)
				rs.send(true, frame.OpClose, p[:2])
			}, "mask"},
		} {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				checkGoroutines(t)
				ends := make(chan error, 1)
				s := startServer(t, mode, http2Only(echo(&wsproto.UpgradeOptions{CloseTimeout: time.Second}, ends)))
				rs := s.connect(t, http.MethodConnect, wsHeader())
				require.Equal(t, http.StatusOK, rs.resp.StatusCode)
				tc.do(rs)
				select {
				case err := <-ends:
					require.Error(t, err)
					assert.Contains(t, err.Error(), tc.want)
					if tc.want != "mask" {
						assert.Equal(t, wsproto.CloseAbnormalClosure, wsproto.CloseStatus(err), "%v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the server's Conn did not end")
				}
				stillServes(t, s)
			})
		}
	}
}

// A server that answers and then goes silent cannot hold Dial past its
// handshake timeout: not with a refusal whose body never ends, nor with a
// 200 that fails the handshake's checks.
func TestHostileServerAnswers(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			checkGoroutines(t)
			release := make(chan struct{})
			s := startServer(t, mode, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/refuse":
					w.WriteHeader(http.StatusForbidden)
				case "/bad-subprotocol":
					w.Header().Set("Sec-WebSocket-Protocol", "never-offered")
					w.WriteHeader(http.StatusOK)
				}
				_, _ = w.Write([]byte("a body that goes on"))
				http.NewResponseController(w).Flush()
				select { // and nothing more
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer close(release)
			for _, path := range []string{"/refuse", "/bad-subprotocol"} {
				start := time.Now()
				c, resp, err := wsproto.Dial(context.Background(), s.URL+path, &wsproto.DialOptions{
					HTTP2Transport: s.H2, HandshakeTimeout: 500 * time.Millisecond})
				require.Error(t, err, path)
				assert.Nil(t, c)
				assert.Less(t, time.Since(start), 5*time.Second, "%s: Dial is bounded", path)
				var he *wsproto.HandshakeError
				if assert.ErrorAs(t, err, &he, "%s: %v", path, err) && path == "/refuse" {
					assert.Equal(t, http.StatusForbidden, he.Status)
					require.NotNil(t, resp)
					body, _ := io.ReadAll(resp.Body)
					assert.Equal(t, "a body that goes on", string(body), "what arrived of the refusal's body")
				}
			}
		})
	}
}

// Extra response headers that HTTP/2 forbids, or that the handshake sets,
// are refused before anything is sent, as over HTTP/1.1.
func TestUpgradeReservedHeaders(t *testing.T) {
	for _, name := range []string{"Connection", "Upgrade", "Sec-WebSocket-Extensions", "Content-Length"} {
		errs := make(chan error, 1)
		s := startServer(t, "h2c", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := wsproto.Upgrade(w, r, &wsproto.UpgradeOptions{Header: http.Header{name: {"x"}}})
			errs <- err
		}))
		rs := s.connect(t, http.MethodConnect, wsHeader())
		assert.Equal(t, http.StatusInternalServerError, rs.resp.StatusCode, name)
		assert.ErrorContains(t, <-errs, name)
		assert.Empty(t, rs.resp.Header.Values("Connection"))
		stillServes(t, s)
	}
}
