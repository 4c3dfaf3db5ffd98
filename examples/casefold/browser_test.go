//go:build !js

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/db7c6739/ws/internal/browser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageInBrowser opens the page in headless Chromium over http and over
// https (the self-signed certificate), types into it and checks the answers
// it shows: folded as str.casefold() folds, and markup shown as text.
func TestPageInBrowser(t *testing.T) {
	b := browser.StartForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, b.IgnoreCertificateErrors(ctx))

	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			ts := start(t, options{}, useTLS)
			p, err := b.Open(ctx, ts.base+"/")
			require.NoError(t, err)
			defer p.Close(ctx)
			require.NoError(t, p.WaitFor(ctx, `document.getElementById("status").textContent === "open"`))
			var scheme string
			require.NoError(t, p.Eval(ctx, `location.protocol`, &scheme))
			assert.Equal(t, map[bool]string{false: "http:", true: "https:"}[useTLS], scheme)

			inputs := []string{"Straße ﬁ ΣΑΣ", "<b>Not Bold</b> & İ"}
			for _, in := range inputs {
				require.NoError(t, p.Type(ctx, "#input", in))
				require.NoError(t, p.Click(ctx, "#send"))
			}
			require.NoError(t, p.WaitFor(ctx, fmt.Sprintf(`document.querySelectorAll("#responses li").length === %d`, len(inputs))))
			got, err := p.Texts(ctx, "#responses li")
			require.NoError(t, err)
			assert.Equal(t, []string{"strasse fi σασ", "<b>not bold</b> & i̇"}, got)
			var bold int
			require.NoError(t, p.Eval(ctx, `document.querySelectorAll("#responses b").length`, &bold))
			assert.Zero(t, bold, "answers are shown as text, not markup")
			if !useTLS {
				browser.CheckScreenshot(t, ctx, p, "screenshot.png")
			} else {
				// Over TLS the page and its WebSocket came on one
				// HTTP/2 connection: the WebSocket as an extended
				// CONNECT (RFC 8441), not an HTTP/1.1 upgrade.
				checkHTTP2(t, ts.requests())
				browser.CheckScreenshot(t, ctx, p, "screenshot-h2.png")
			}

			// The server going away shows on the page.
			require.NoError(t, ts.stop())
			require.NoError(t, p.WaitFor(ctx, `document.getElementById("status").textContent === "closed (1001)"`))
		})
	}
}

// checkHTTP2 checks that the page and the WebSocket came over HTTP/2 on
// one connection, the WebSocket as an extended CONNECT, and logs what the
// server saw.
func checkHTTP2(t *testing.T, seen []seenRequest) {
	t.Helper()
	var page, ws *seenRequest
	for i, r := range seen {
		t.Logf("the server saw: %s %s %s :protocol=%q from %s", r.Proto, r.Method, r.Path, r.Protocol, r.Remote)
		switch r.Path {
		case "/":
			page = &seen[i]
		case "/ws":
			ws = &seen[i]
		}
	}
	require.NotNil(t, page, "the page was requested")
	require.NotNil(t, ws, "the WebSocket was requested")
	assert.Equal(t, "HTTP/2.0", page.Proto)
	assert.Equal(t, seenRequest{Proto: "HTTP/2.0", Method: "CONNECT", Protocol: "websocket", Path: "/ws", Remote: page.Remote}, *ws,
		"the WebSocket is an extended CONNECT on the page's connection")
}
