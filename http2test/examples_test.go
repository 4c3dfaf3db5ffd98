package http2test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The echo example serves WebSockets over cleartext HTTP/2 as it is, with
// no setting in its environment: it turns extended CONNECT on itself.
func TestEchoExampleOverH2C(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "echo")
	build := exec.Command("go", "build", "-o", bin, "./examples/echo")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = []string{"PATH=/usr/bin:/bin"} // no GODEBUG
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addrRE := regexp.MustCompile(`addr=ws://(127\.0\.0\.1:\d+)`)
	sc := bufio.NewScanner(stderr)
	var addr string
	for addr == "" && sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	require.NotEmpty(t, addr, "the echo server logs its address")
	go func() {
		for sc.Scan() {
		}
	}()

	h2 := h2cTransport()
	defer h2.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := wsproto.Dial(ctx, "ws://"+addr+"/", &wsproto.DialOptions{HTTP2Transport: h2, Compression: &wsproto.CompressionOptions{}})
	require.NoError(t, err)
	defer c.CloseNow()
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	assert.Equal(t, "permessage-deflate", resp.Header.Get("Sec-Websocket-Extensions"))
	require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, []byte("over h2c")))
	_, got, err := c.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "over h2c", string(got))
	require.NoError(t, c.Close(wsproto.CloseNormalClosure, ""))
}
