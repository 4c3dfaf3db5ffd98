//go:build !js

package main

import (
	"context"
	"testing"
	"time"

	"github.com/db7c6739/ws/internal/browser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRouletteInBrowser opens the page in three tabs of headless Chromium:
// the first two are paired and talk, the third waits; when one of the pair
// leaves, the one left alone is paired with the one waiting.
func TestRouletteInBrowser(t *testing.T) {
	b := browser.StartForTest(t)
	_, addr, _ := startRoulette(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	status := func(p *browser.Page, want string) {
		t.Helper()
		require.NoError(t, p.WaitFor(ctx, `document.getElementById("status").textContent === "`+want+`"`))
	}
	open := func() *browser.Page {
		p, err := b.Open(ctx, "http://"+addr+"/")
		require.NoError(t, err)
		return p
	}
	say := func(p *browser.Page, text string) {
		require.NoError(t, p.Type(ctx, "#input", text))
		require.NoError(t, p.Click(ctx, "#send"))
	}
	lines := func(p *browser.Page, selector string, n int) []string {
		t.Helper()
		texts, err := p.WaitTexts(ctx, selector, n)
		require.NoError(t, err)
		return texts
	}

	ann := open()
	status(ann, "waiting for a partner")
	bea := open()
	status(bea, "paired")
	status(ann, "paired")
	cid := open()
	status(cid, "waiting for a partner")

	say(ann, "hello <i>there</i>")
	assert.Equal(t, []string{"partner: hello <i>there</i>"}, lines(bea, "#messages li.partner", 1))
	assert.Equal(t, []string{"you: hello <i>there</i>"}, lines(ann, "#messages li.me", 1))
	say(bea, "hi ann")
	assert.Equal(t, []string{"partner: hi ann"}, lines(ann, "#messages li.partner", 1))
	var italics, heard int
	require.NoError(t, bea.Eval(ctx, `document.querySelectorAll("#messages i").length`, &italics))
	assert.Zero(t, italics, "messages are shown as text, not markup")
	require.NoError(t, cid.Eval(ctx, `document.querySelectorAll("#messages li.partner").length`, &heard))
	assert.Zero(t, heard, "the one waiting hears nothing")
	browser.CheckScreenshot(t, ctx, ann, "screenshot.png")

	require.NoError(t, bea.Close(ctx))
	assert.Contains(t, lines(ann, "#messages li.notice", 2), "partner left")
	status(ann, "paired")
	status(cid, "paired")
	say(cid, "hi, I was waiting")
	assert.Equal(t, []string{"partner: hi ann", "partner: hi, I was waiting"}, lines(ann, "#messages li.partner", 2))
}
