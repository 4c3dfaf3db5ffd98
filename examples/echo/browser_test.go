//go:build !js

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/internal/browser"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEchoPageInBrowser opens the page in headless Chromium, types a
// message and sends it, and checks that the echo is shown.
func TestEchoPageInBrowser(t *testing.T) {
	b := browser.StartForTest(t)
	_, url := startEcho(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	p, err := b.Open(ctx, "http"+strings.TrimPrefix(url, "ws"))
	require.NoError(t, err)
	require.NoError(t, p.WaitFor(ctx, `document.getElementById("status").textContent === "connected"`))
	for _, msg := range []string{"hello", "<b>not bold</b> & ünïcode ✓"} {
		require.NoError(t, p.Type(ctx, "#input", msg))
		require.NoError(t, p.Click(ctx, "#form button"))
	}
	require.NoError(t, p.WaitFor(ctx, `document.querySelectorAll("#log li").length === 4`))
	texts, err := p.Texts(ctx, "#log li")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"→ hello", "← hello", "→ <b>not bold</b> & ünïcode ✓", "← <b>not bold</b> & ünïcode ✓"}, texts)
	var bold int
	require.NoError(t, p.Eval(ctx, `document.querySelectorAll("#log b").length`, &bold))
	assert.Zero(t, bold, "peer text is shown as text, not markup")
	browser.CheckScreenshot(t, ctx, p, "screenshot.png")
}

// TestEchoSizesInBrowser runs the Autobahn-style echo through Chromium's
// own WebSocket, from the echo page: text and binary messages of 0 B,
// 125 B, 64 KiB and 16 MiB, each compared with what was sent. Chromium
// offers permessage-deflate and the server accepts it, so compression is
// crossed with every size too.
func TestEchoSizesInBrowser(t *testing.T) {
	b := browser.StartForTest(t)
	for _, deflate := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) {
			opts := &wsproto.UpgradeOptions{ReadLimit: 32 << 20}
			if deflate {
				opts.Compression = &wsproto.CompressionOptions{}
			}
			srv := httptest.NewServer(newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), opts))
			defer srv.Close()
			echoSizes(t, b, srv.URL, deflate)
		})
	}
}

func echoSizes(t *testing.T, b *browser.Browser, url string, deflate bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	p, err := b.Open(ctx, url+"/")
	require.NoError(t, err)
	defer p.Close(ctx)

	var results []struct {
		Kind       string `json:"kind"`
		Size       int    `json:"size"`
		Same       bool   `json:"same"`
		Got        int    `json:"got"`
		Extensions string `json:"extensions"`
	}
	require.NoError(t, p.Eval(ctx, `(async () => {
		const ws = new WebSocket(location.origin.replace("http", "ws") + "/");
		ws.binaryType = "arraybuffer";
		await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
		// Text of exactly n UTF-8 bytes, with 1- to 4-byte characters.
		const text = (n) => "aé€😀".repeat(Math.floor(n / 10)) + "a".repeat(n % 10);
		const noise = new Uint8Array(65536);
		let x = 2463534242;
		for (let i = 0; i < noise.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; noise[i] = x & 255; }
		const binary = (n) => {
			const b = new Uint8Array(n);
			for (let i = 0; i < n; i += noise.length) b.set(noise.subarray(0, Math.min(noise.length, n - i)), i);
			b[n - 1] ^= 1; // not a whole number of tiles
			return b;
		};
		const equal = (a, b) => {
			if (a.length !== b.length) return false;
			for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
			return true;
		};
		const results = [];
		for (const kind of ["text", "binary"]) {
			for (const size of [0, 125, 65536, 16 << 20]) {
				const msg = kind === "text" ? text(size) : binary(size);
				const got = await new Promise((ok) => { ws.onmessage = (e) => ok(e.data); ws.send(msg); });
				let same;
				if (kind === "text") {
					same = typeof got === "string" && got === msg;
				} else {
					const g = new Uint8Array(got);
					same = got instanceof ArrayBuffer && equal(g, msg);
				}
				results.push({kind, size, same, got: kind === "text" ? new TextEncoder().encode(got).length : got.byteLength, extensions: ws.extensions});
			}
		}
		ws.close(1000);
		return results;
	})()`, &results))
	require.Len(t, results, 8)
	for _, r := range results {
		assert.True(t, r.Same, "%s of %d bytes came back as %d bytes, not the same", r.Kind, r.Size, r.Got)
		assert.Equal(t, r.Size, r.Got, r.Kind)
		assert.Equal(t, deflate, strings.Contains(r.Extensions, "permessage-deflate"), "extensions %q", r.Extensions)
	}
}
