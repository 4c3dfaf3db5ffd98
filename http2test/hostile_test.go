package http2test

import (
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
				{"wrong version", http.MethodConnect, http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"8"}}, 426, handshake.ErrBadVersion, [2]string{"Sec-Websocket-Version", "13"}},
				{"no version", http.MethodConnect, http.Header{":protocol": {"websocket"}}, 426, handshake.ErrBadVersion, [2]string{"Sec-Websocket-Version", "13"}},
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
