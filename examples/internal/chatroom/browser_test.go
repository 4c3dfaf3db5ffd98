//go:build !js

package chatroom

import (
	"context"
	"testing"
	"time"

	"github.com/db7c6739/ws/internal/browser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChatInBrowser opens one room in two tabs of headless Chromium, as
// alice and bob, and checks what each page shows: the join notice, each
// other's messages with the sender's name, markup shown as text, the
// history a latecomer gets, and the leave notice.
func TestChatInBrowser(t *testing.T) {
	b := browser.StartForTest(t)
	ts := startChat(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func(name string) *browser.Page {
		p, err := b.Open(ctx, ts.http+"/chats/browser-room?name="+name)
		require.NoError(t, err)
		require.NoError(t, p.WaitFor(ctx, `document.getElementById("status").textContent === "open"`))
		me, err := p.Text(ctx, "#me")
		require.NoError(t, err)
		require.Equal(t, name, me)
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

	alice := open("alice")
	bob := open("bob")
	assert.Equal(t, []string{"bob joined"}, lines(alice, "#messages li.notice", 1))

	say(bob, "hi alice")
	say(alice, "<b>hey</b> bob")
	want := []string{"bob: hi alice", "alice: <b>hey</b> bob"}
	assert.Equal(t, want, lines(alice, "#messages li.message", 2))
	assert.Equal(t, want, lines(bob, "#messages li.message", 2))
	var bold int
	require.NoError(t, bob.Eval(ctx, `document.querySelectorAll("#messages b").length`, &bold))
	assert.Zero(t, bold, "messages are shown as text, not markup")

	carol := open("carol")
	assert.Equal(t, want, lines(carol, "#messages li.message", 2), "a newcomer gets the history")
	browser.CheckScreenshot(t, ctx, alice, "screenshot.png")

	require.NoError(t, bob.Close(ctx))
	assert.Equal(t, []string{"bob joined", "carol joined", "bob left"}, lines(alice, "#messages li.notice", 3))
	assert.Equal(t, []string{"bob left"}, lines(carol, "#messages li.notice", 1))
}
