package http2test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// TestMain lets the test binary serve as a server process of its own for
// TestFallback: one whose net/http does not offer extended CONNECT, which
// this process, importing xconnect, cannot be.
func TestMain(m *testing.M) {
	switch os.Getenv("WS_HTTP2TEST_SERVER") {
	case "1":
		serveWithoutExtendedConnect()
		return
	case "bench":
		serveForBenchmarks()
		return
	}
	os.Exit(m.Run())
}

// serveWithoutExtendedConnect serves echo over h2c and HTTP/1.1 on a
// loopback port it prints, until its standard input closes.
func serveWithoutExtendedConnect() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	hs := &http.Server{Handler: echo(nil, nil), Protocols: &p}
	go hs.Serve(ln)
	fmt.Println(ln.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	hs.Close()
}

// Dial with an HTTP/2 transport falls back to HTTP/1.1 where a server
// does not offer extended CONNECT, and where it speaks no HTTP/2 at all;
// the response says which was used.
func TestFallback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	roundTrip := func(t *testing.T, url string, opts *wsproto.DialOptions) {
		t.Helper()
		c, resp, err := wsproto.Dial(ctx, url, opts)
		require.NoError(t, err)
		defer c.CloseNow()
		assert.Equal(t, 1, resp.ProtoMajor, "fell back to HTTP/1.1")
		assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, []byte("over HTTP/1.1")))
		_, got, err := c.ReadMessage(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "over HTTP/1.1", string(got))
		require.NoError(t, c.Close(wsproto.CloseNormalClosure, ""))
	}

	t.Run("HTTP/2 without extended CONNECT", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "WS_HTTP2TEST_SERVER=1", "GODEBUG=http2xconnect=0")
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			stdin.Close()
			_ = cmd.Wait()
		})
		addr, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		addr = strings.TrimSpace(addr)

		h2 := h2cTransport()
		defer h2.CloseIdleConnections()
		// The server speaks HTTP/2 but does not offer extended CONNECT.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		resp, err := h2.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 2, resp.ProtoMajor)

		roundTrip(t, "ws://"+addr+"/", &wsproto.DialOptions{HTTP2Transport: h2})
	})

	t.Run("no HTTP/2 at all", func(t *testing.T) {
		hs := httptest.NewTLSServer(echo(nil, nil)) // HTTP/1.1 only
		defer hs.Close()
		cfg := hs.Client().Transport.(*http.Transport).TLSClientConfig
		h2 := &http2.Transport{TLSClientConfig: cfg}
		defer h2.CloseIdleConnections()
		roundTrip(t, "wss://"+hs.Listener.Addr().String()+"/", &wsproto.DialOptions{HTTP2Transport: h2, TLSConfig: cfg})
	})
}
