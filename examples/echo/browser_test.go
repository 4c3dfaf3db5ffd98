package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/internal/browser"
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
