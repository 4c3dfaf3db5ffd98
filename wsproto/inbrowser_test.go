//go:build !js

package wsproto_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/internal/browser"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wasmPage loads Go's wasm_exec.js and runs the test program.
const wasmPage = `<!doctype html>
<meta charset="utf-8">
<title>wsproto in wasm</title>
<script>
// What the program prints (a panic's trace included), for a failing test.
window.consoleLines = [];
for (const level of ["log", "error", "warn"]) {
  const orig = console[level];
  console[level] = (...args) => { window.consoleLines.push(args.join(" ")); orig.apply(console, args); };
}
</script>
<script src="/wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("/test.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .then(() => { window.wasmDone = true; }) // ended, maybe by a panic
  .catch((e) => { window.wasmResults = JSON.stringify([{name: "load", ok: false, detail: String(e)}]); window.wasmDone = true; });
</script>
`

// TestBrowserWASM builds internal/wasmtest for GOOS=js GOARCH=wasm, serves
// it with Go's wasm_exec.js, runs it in headless Chromium against the
// servers below and reads its results back over the DevTools protocol:
// wsproto's client, in a browser, through the browser's WebSocket.
func TestBrowserWASM(t *testing.T) {
	b := browser.StartForTest(t)

	dir := t.TempDir()
	wasm := filepath.Join(dir, "test.wasm")
	build := exec.Command("go", "build", "-o", wasm, "./internal/wasmtest")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the wasm program: %s", out)
	wasmExec := filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js")
	require.FileExists(t, wasmExec)

	// What the servers saw of the page's closes.
	closes := map[string]chan *wsproto.CloseError{
		"/client-close": make(chan *wsproto.CloseError, 1),
		"/big":          make(chan *wsproto.CloseError, 1),
		"/silent":       make(chan *wsproto.CloseError, 1),
	}
	readClose := func(c *wsproto.Conn, path string) {
		for {
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				ce, _ := err.(*wsproto.CloseError)
				closes[path] <- ce
				return
			}
		}
	}
	echo := func(c *wsproto.Conn, _ *http.Request) {
		defer c.CloseNow()
		var buf []byte
		for {
			typ, p, err := c.ReadMessage(context.Background(), buf)
			if err != nil {
				return
			}
			buf = p
			if c.WriteMessage(context.Background(), typ, p) != nil {
				return
			}
		}
	}
	opts := &wsproto.UpgradeOptions{ReadLimit: 8 << 20}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(wasmPage))
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, wasmExec) })
	mux.HandleFunc("GET /test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, wasm)
	})
	mux.Handle("GET /echo", wsproto.Handler(opts, echo))
	mux.Handle("GET /subprotocol", wsproto.Handler(&wsproto.UpgradeOptions{Subprotocols: []string{"chat.v2"}}, echo))
	mux.Handle("GET /client-close", wsproto.Handler(opts, func(c *wsproto.Conn, _ *http.Request) { readClose(c, "/client-close") }))
	mux.Handle("GET /server-close", wsproto.Handler(opts, func(c *wsproto.Conn, _ *http.Request) {
		_ = c.Close(4001, "bye from the server")
	}))
	mux.Handle("GET /big", wsproto.Handler(opts, func(c *wsproto.Conn, _ *http.Request) {
		if c.WriteMessage(context.Background(), wsproto.MessageBinary, make([]byte, 2048)) == nil {
			readClose(c, "/big")
		}
	}))
	mux.Handle("GET /silent", wsproto.Handler(opts, func(c *wsproto.Conn, _ *http.Request) { readClose(c, "/silent") }))
	mux.Handle("GET /bigtext", wsproto.Handler(opts, func(c *wsproto.Conn, _ *http.Request) {
		defer c.CloseNow()
		ok := c.WriteMessage(context.Background(), wsproto.MessageText, []byte(strings.Repeat("é", 512))) == nil &&
			c.WriteMessage(context.Background(), wsproto.MessageText, []byte(strings.Repeat("é", 1024))) == nil
		if ok {
			_, _, _ = c.ReadMessage(context.Background(), nil)
		}
	}))
	// /hang takes the request and never answers it.
	hung := make(chan struct{})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no WebSockets for you", http.StatusForbidden)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(hung) // before srv.Close, which waits for the handlers

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	page, err := b.Open(ctx, srv.URL+"/")
	require.NoError(t, err)
	if err := page.WaitFor(ctx, `window.wasmDone === true`); err != nil {
		var running, so, console string
		_ = page.Eval(context.Background(), `String(window.wasmRunning)`, &running)
		_ = page.Eval(context.Background(), `String(window.wasmResults)`, &so)
		_ = page.Eval(context.Background(), `window.consoleLines.join("\n")`, &console)
		t.Fatalf("%v; running %q; results so far: %s; the page's console:\n%s", err, running, so, console)
	}
	var raw string
	require.NoError(t, page.Eval(ctx, `window.wasmResults`, &raw))
	var results []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	}
	var console string
	require.NoError(t, page.Eval(ctx, `window.consoleLines.join("\n")`, &console))
	require.NoError(t, json.Unmarshal([]byte(raw), &results), "results %q; the page's console:\n%s", raw, console)
	var finished int
	require.NoError(t, page.Eval(ctx, `window.wasmFinished || 0`, &finished))
	require.Equal(t, len(results), finished, "the program ended before its last case; results %s; the page's console:\n%s", raw, console)
	require.GreaterOrEqual(t, len(results), 20, "results %s", raw)
	for _, r := range results {
		assert.True(t, r.OK, "%s: %s", r.Name, r.Detail)
		t.Logf("in Chromium: %-45s ok=%v %s", r.Name, r.OK, r.Detail)
	}

	// What the servers received of the page's closes.
	for path, want := range map[string]struct {
		code   wsproto.CloseCode
		reason string
	}{
		"/client-close": {4000, "bye from the page"},
		"/big":          {4009, "message exceeds the read limit"},
		"/silent":       {wsproto.CloseNoStatusReceived, ""},
	} {
		select {
		case ce := <-closes[path]:
			require.NotNil(t, ce, path)
			assert.Equal(t, want.code, ce.Code, path)
			assert.Equal(t, want.reason, ce.Reason, path)
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the server saw no close", path)
		}
	}
	assert.False(t, strings.Contains(raw, `"ok":false`))
}
