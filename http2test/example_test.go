package http2test_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/db7c6739/ws/wsproto"
	_ "github.com/db7c6739/ws/wsproto/xconnect" // the server's one line: extended CONNECT on
	"golang.org/x/net/http2"
)

// A server and a client speaking WebSocket over HTTP/2 (RFC 8441), here in
// cleartext: the server is any net/http server with HTTP/2 on and
// wsproto/xconnect imported, the client passes an HTTP/2 transport that can
// send extended CONNECT.
func Example() {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := httptest.NewUnstartedServer(wsproto.Handler(nil, func(c *wsproto.Conn, r *http.Request) {
		defer c.CloseNow()
		typ, msg, err := c.ReadMessage(context.Background(), nil)
		if err == nil {
			_ = c.WriteMessage(context.Background(), typ, append([]byte(r.Proto+" "), msg...))
		}
		_ = c.Close(wsproto.CloseNormalClosure, "")
	}))
	srv.Config.Protocols = &protocols
	srv.Start()
	defer srv.Close()

	h2 := &http2.Transport{ // cleartext HTTP/2; over TLS the zero Transport does
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	defer h2.CloseIdleConnections()
	ctx := context.Background()
	c, resp, err := wsproto.Dial(ctx, "ws://"+srv.Listener.Addr().String(), &wsproto.DialOptions{HTTP2Transport: h2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_ = c.WriteMessage(ctx, wsproto.MessageText, []byte("hello"))
	_, msg, err := c.ReadMessage(ctx, nil)
	fmt.Println(resp.Proto, resp.StatusCode, string(msg), err)
	// Output: HTTP/2.0 200 HTTP/2.0 hello <nil>
}
