package main

import (
	"context"
	"testing"
	"time"

	"github.com/db7c6739/ws/internal/browser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPagesOnTwoNodes opens the chat's page in headless Chromium twice, as
// alice on one node and bob on another, and checks that they chat. Then
// bob's node stops (SIGTERM) and starts again on its address, as a node restarted
// behind a load balancer: bob's page reconnects on its own, gets the
// history, and goes on chatting.
func TestPagesOnTwoNodes(t *testing.T) {
	b := browser.StartForTest(t)
	ns := startNATS(t)
	nodeA, nodeB := startNode(t, "-nats", ns.url()), startNode(t, "-nats", ns.url())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	open := func(n *node, name string) *browser.Page {
		p, err := b.Open(ctx, "http://"+n.addr+"/chats/cluster-room?name="+name)
		require.NoError(t, err)
		require.NoError(t, p.WaitFor(ctx, `document.getElementById("status").textContent === "open"`))
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

	alice := open(nodeA, "alice")
	bob := open(nodeB, "bob")
	assert.Equal(t, []string{"bob joined"}, lines(alice, "#messages li.notice", 1))
	say(alice, "hi bob, I am on node A")
	say(bob, "hi alice, I am on node B")
	want := []string{"alice: hi bob, I am on node A", "bob: hi alice, I am on node B"}
	assert.Equal(t, want, lines(alice, "#messages li.message", 2))
	assert.Equal(t, want, lines(bob, "#messages li.message", 2))
	members, err := bob.Text(ctx, "#members")
	require.NoError(t, err)
	assert.Equal(t, "here: alice, bob", members)
	browser.CheckScreenshot(t, ctx, alice, "screenshot.png")

	nodeB.terminate()
	// The page's first close is 1001; by the time it is looked at, a
	// failed attempt may have made it 1006.
	require.NoError(t, bob.WaitFor(ctx, `/^closed \((1001|1006)\), reconnecting in /.test(document.getElementById("status").textContent)`))
	startNode(t, "-nats", ns.url(), "-addr", nodeB.addr)
	require.NoError(t, bob.WaitFor(ctx, `document.getElementById("status").textContent === "open"`))
	assert.Equal(t, want, lines(bob, "#messages li.message", 2), "the history replaces what the page showed")
	say(bob, "back")
	assert.Equal(t, "bob: back", lines(alice, "#messages li.message", 3)[2])
}
