//go:build !js

package chatroom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// event holds any event the server sends.
type event struct {
	Type     string   `json:"type"`
	Name     string   `json:"name,omitempty"`
	Room     string   `json:"room,omitempty"`
	Members  []string `json:"members,omitempty"`
	Text     string   `json:"text,omitempty"`
	Time     string   `json:"time,omitempty"`
	Via      string   `json:"via,omitempty"`
	Messages []event  `json:"messages,omitempty"`
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

var bg = context.Background()

// list returns the rooms with members, as GET /api/rooms does.
func (h *hub) list() []RoomInfo {
	rooms, err := h.bus.Rooms(bg)
	if err != nil {
		panic(err)
	}
	return rooms
}

// fakePeer stands in for a connection in the hub's tests, which read the
// queues themselves.
type fakePeer struct{ closed chan closeCall }

type closeCall struct {
	code   wsproto.CloseCode
	reason string
}

func newFakePeer() *fakePeer { return &fakePeer{closed: make(chan closeCall, 1)} }

func (p *fakePeer) WritePrepared(context.Context, *wsproto.PreparedMessage) error { return nil }
func (p *fakePeer) CloseNow() error                                               { return nil }
func (p *fakePeer) Close(code wsproto.CloseCode, reason string) error {
	p.closed <- closeCall{code, reason}
	return nil
}

// decoder returns a function that reads back what a prepared message
// says, by sending it through a real connection over net.Pipe.
func decoder(t *testing.T) func(*wsproto.PreparedMessage) event {
	a, b := net.Pipe()
	accepted := make(chan *wsproto.Conn, 1)
	go func() {
		c, err := wsproto.UpgradeConn(a, nil)
		assert.NoError(t, err)
		accepted <- c
	}()
	dial := func(context.Context, string, string) (net.Conn, error) { return b, nil }
	cli, _, err := wsproto.Dial(context.Background(), "ws://pipe/", &wsproto.DialOptions{NetDialContext: dial})
	require.NoError(t, err)
	srv := <-accepted
	require.NotNil(t, srv)
	t.Cleanup(func() { _ = cli.CloseNow(); _ = srv.CloseNow() })
	return func(m *wsproto.PreparedMessage) event {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		written := make(chan error, 1)
		go func() { written <- srv.WritePrepared(ctx, m) }()
		typ, p, err := cli.ReadMessage(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, <-written)
		require.Equal(t, wsproto.MessageText, typ)
		var e event
		require.NoError(t, json.Unmarshal(p, &e), "%s", p)
		return e
	}
}

// next returns what is queued for c, failing if nothing is.
func next(t *testing.T, decode func(*wsproto.PreparedMessage) event, c *client) event {
	t.Helper()
	select {
	case m := <-c.send:
		return decode(m)
	default:
		t.Fatalf("nothing queued for %s", c.name)
		return event{}
	}
}

func assertNothingQueued(t *testing.T, c *client) {
	t.Helper()
	assert.Empty(t, c.send, "queued for %s", c.name)
}

func TestHubNames(t *testing.T) {
	h := newHub(discard, NewLocalBus())
	long := strings.Repeat("x", maxNameRunes)
	for _, tc := range []struct{ want, got string }{
		{"alice", "alice"},
		{"alice", "alice-2"},
		{"alice", "alice-3"},
		{"alice-2", "alice-2-2"},
		{long, long},
		{long, long[:maxNameRunes-2] + "-2"},
		{"abcdefghijklmnopqrstu vw", "abcdefghijklmnopqrstu vw"},
		{"abcdefghijklmnopqrstu vw", "abcdefghijklmnopqrstu-2"}, // no space before the suffix
		{"", "guest-"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			c, _, err := h.join(bg, "lobby", tc.want, newFakePeer())
			require.NoError(t, err)
			if tc.got == "guest-" {
				assert.Regexp(t, regexp.MustCompile(`^guest-\d{4}$`), c.name)
				return
			}
			assert.Equal(t, tc.got, c.name)
		})
	}
	t.Run("taken in another room", func(t *testing.T) {
		c, _, err := h.join(bg, "other", "alice", newFakePeer())
		require.NoError(t, err)
		assert.Equal(t, "alice", c.name)
	})
	t.Run("suffix keeps the limit", func(t *testing.T) {
		h := newHub(discard, NewLocalBus())
		name := strings.Repeat("é", maxNameRunes)
		var last string
		for range 12 {
			c, _, err := h.join(bg, "r", name, newFakePeer())
			require.NoError(t, err)
			last = c.name
			assert.LessOrEqual(t, utf8.RuneCountInString(c.name), maxNameRunes)
		}
		assert.Equal(t, strings.Repeat("é", maxNameRunes-3)+"-12", last)
	})
}

func TestHubBroadcast(t *testing.T) {
	decode := decoder(t)
	h := newHub(discard, NewLocalBus())

	alice, first, err := h.join(bg, "lobby", "alice", newFakePeer())
	require.NoError(t, err)
	require.Len(t, first, 2)
	assert.Equal(t, event{Type: "welcome", Name: "alice", Room: "lobby", Members: []string{"alice"}}, decode(first[0]))
	assert.Equal(t, event{Type: "history", Messages: []event{}}, decode(first[1]))
	assertNothingQueued(t, alice)

	bob, first, err := h.join(bg, "lobby", "bob", newFakePeer())
	require.NoError(t, err)
	assert.Equal(t, event{Type: "welcome", Name: "bob", Room: "lobby", Members: []string{"alice", "bob"}}, decode(first[0]))
	assert.Equal(t, event{Type: "join", Name: "bob"}, next(t, decode, alice))
	assertNothingQueued(t, bob)

	carol, _, err := h.join(bg, "elsewhere", "carol", newFakePeer())
	require.NoError(t, err)

	h.say(alice, "hi bob")
	for _, c := range []*client{alice, bob} {
		e := next(t, decode, c)
		assert.Equal(t, "message", e.Type)
		assert.Equal(t, "alice", e.Name)
		assert.Equal(t, "hi bob", e.Text)
		_, err := time.Parse(time.RFC3339, e.Time)
		assert.NoError(t, err)
	}
	assertNothingQueued(t, carol)

	h.reply(bob, "text: empty")
	assert.Equal(t, event{Type: "error", Text: "text: empty"}, next(t, decode, bob))
	assertNothingQueued(t, alice)

	h.leave(bob)
	assert.Equal(t, event{Type: "leave", Name: "bob"}, next(t, decode, alice))
	assert.True(t, bob.stopped)
	h.say(bob, "after leaving")
	h.leave(bob)
	assertNothingQueued(t, alice)
	assertNothingQueued(t, bob)
	assert.Equal(t, []RoomInfo{{"elsewhere", 1}, {"lobby", 1}}, h.list())
}

func TestHubHistory(t *testing.T) {
	decode := decoder(t)
	h := newHub(discard, NewLocalBus())
	for i := range 60 {
		require.NoError(t, h.post(bg, "hist", "bot", fmt.Sprint("message ", i)))
	}
	alice, first, err := h.join(bg, "hist", "alice", newFakePeer())
	require.NoError(t, err)
	history := decode(first[1])
	require.Len(t, history.Messages, historyLen)
	for i, m := range history.Messages {
		assert.Equal(t, "message", m.Type)
		assert.Equal(t, "bot", m.Name)
		assert.Equal(t, fmt.Sprint("message ", i+10), m.Text)
	}

	_, again, err := h.join(bg, "hist", "bob", newFakePeer())
	require.NoError(t, err)
	assert.Same(t, first[1], again[1], "newcomers between two messages share the history")
	h.say(alice, "one more")
	_, later, err := h.join(bg, "hist", "carol", newFakePeer())
	require.NoError(t, err)
	require.NotSame(t, first[1], later[1])
	history = decode(later[1])
	require.Len(t, history.Messages, historyLen)
	assert.Equal(t, "message 11", history.Messages[0].Text)
	assert.Equal(t, "one more", history.Messages[historyLen-1].Text)
}

func TestHubDropsSlowClient(t *testing.T) {
	decode := decoder(t)
	h := newHub(discard, NewLocalBus())
	alice, _, err := h.join(bg, "lobby", "alice", newFakePeer())
	require.NoError(t, err)
	peers := []*fakePeer{newFakePeer(), newFakePeer()}
	slow1, _, err := h.join(bg, "lobby", "slow1", peers[0])
	require.NoError(t, err)
	slow2, _, err := h.join(bg, "lobby", "slow2", peers[1])
	require.NoError(t, err)
	assert.Equal(t, "slow1", next(t, decode, alice).Name)
	assert.Equal(t, "slow2", next(t, decode, alice).Name)

	// The slow ones' writers never take anything: their queues fill, while
	// alice's is emptied as she reads. slow1 has one more, slow2's join.
	for i := range sendQueueLen - 1 {
		require.NoError(t, h.post(bg, "lobby", "bot", fmt.Sprint(i)))
		assert.Equal(t, fmt.Sprint(i), next(t, decode, alice).Text)
	}
	assert.Len(t, slow1.send, sendQueueLen)
	assert.Len(t, slow2.send, sendQueueLen-1)

	// The next message drops slow1; the notice that slow1 left fills
	// slow2's queue, so slow2 is dropped too.
	require.NoError(t, h.post(bg, "lobby", "bot", "one too many"))
	assert.Equal(t, "one too many", next(t, decode, alice).Text)
	assert.Equal(t, event{Type: "leave", Name: "slow1"}, next(t, decode, alice))
	assert.Equal(t, event{Type: "leave", Name: "slow2"}, next(t, decode, alice))
	assertNothingQueued(t, alice)
	for i, p := range peers {
		select {
		case got := <-p.closed:
			assert.Equal(t, closeCall{wsproto.ClosePolicyViolation, "too slow: send queue full"}, got)
		case <-time.After(5 * time.Second):
			t.Fatalf("slow%d was not closed", i+1)
		}
	}
	for _, c := range []*client{slow1, slow2} {
		c.bg.Wait()
		assert.True(t, c.stopped)
		h.leave(c) // the handler's leave changes nothing now
	}
	assertNothingQueued(t, alice)
	assert.Equal(t, []RoomInfo{{"lobby", 1}}, h.list())

	t.Run("by an error reply", func(t *testing.T) {
		bob, _, err := h.join(bg, "lobby", "bob", newFakePeer())
		require.NoError(t, err)
		assert.Equal(t, "bob", next(t, decode, alice).Name)
		for range sendQueueLen + 1 {
			h.reply(alice, "text: empty") // alice stops reading
		}
		assert.Equal(t, event{Type: "leave", Name: "alice"}, next(t, decode, bob))
		alice.bg.Wait()
		h.leave(alice)
		assertNothingQueued(t, bob)
		assert.Equal(t, []RoomInfo{{"lobby", 1}}, h.list())
	})
}

// TestHubRoomLifetime: a room is followed while it has members here; the
// local bus keeps the history of a room without members, for at most
// maxIdle such rooms.
func TestHubRoomLifetime(t *testing.T) {
	b := NewLocalBus()
	b.maxIdle = 2
	h := newHub(discard, b)
	followed := func() []string {
		h.mu.Lock()
		defer h.mu.Unlock()
		return slices.Collect(maps.Keys(h.rooms))
	}
	kept := func() []string {
		b.mu.Lock()
		defer b.mu.Unlock()
		return slices.Collect(maps.Keys(b.rooms))
	}

	t.Run("a room without members or history is removed", func(t *testing.T) {
		c, _, err := h.join(bg, "quiet", "alice", newFakePeer())
		require.NoError(t, err)
		assert.Equal(t, []string{"quiet"}, followed())
		assert.Equal(t, []string{"quiet"}, kept())
		h.leave(c)
		assert.Empty(t, followed())
		assert.Empty(t, kept())
		assert.Equal(t, []RoomInfo{}, h.list())
	})
	t.Run("one with history is kept, unlisted", func(t *testing.T) {
		c, _, err := h.join(bg, "talky", "alice", newFakePeer())
		require.NoError(t, err)
		h.say(c, "remember me")
		h.leave(c)
		assert.Empty(t, followed())
		assert.Equal(t, []string{"talky"}, kept())
		assert.Equal(t, []RoomInfo{}, h.list())
	})
	t.Run("the rooms idle longest are forgotten", func(t *testing.T) {
		require.NoError(t, h.post(bg, "second", "bot", "x"))
		for t0 := time.Now(); !time.Now().After(t0); { // lastUsed must differ
		}
		require.NoError(t, h.post(bg, "third", "bot", "x"))
		assert.ElementsMatch(t, []string{"second", "third"}, kept())
		c, first, err := h.join(bg, "second", "alice", newFakePeer())
		require.NoError(t, err)
		assert.Len(t, decoder(t)(first[1]).Messages, 1)
		h.leave(c)
		assert.ElementsMatch(t, []string{"second", "third"}, kept())
	})
}

func TestHubShutdown(t *testing.T) {
	h := newHub(discard, NewLocalBus())
	peers := []*fakePeer{newFakePeer(), newFakePeer()}
	var clients []*client
	for i, p := range peers {
		c, _, err := h.join(bg, fmt.Sprint("room", i), "alice", p)
		require.NoError(t, err)
		clients = append(clients, c)
	}
	h.shutdown()
	for i, p := range peers {
		assert.Equal(t, closeCall{wsproto.CloseGoingAway, "server shutting down"}, <-p.closed)
		clients[i].bg.Wait()
		assert.True(t, clients[i].stopped)
		h.leave(clients[i])
	}
	_, _, err := h.join(bg, "lobby", "late", newFakePeer())
	assert.ErrorIs(t, err, errShuttingDown)
	assert.ErrorIs(t, h.post(bg, "lobby", "bot", "x"), errShuttingDown)
	assert.Equal(t, []RoomInfo{}, h.list())
}

func TestValidation(t *testing.T) {
	t.Run("rooms", func(t *testing.T) {
		for _, tc := range []struct {
			room string
			ok   bool
		}{
			{"lobby", true}, {"a", true}, {"A-Z_0-9", true}, {strings.Repeat("r", 32), true},
			{"", false}, {strings.Repeat("r", 33), false}, {"a.b", false}, {"a b", false},
			{"a/b", false}, {"é", false}, {"..", false}, {"<b>", false},
		} {
			assert.Equal(t, tc.ok, validRoom(tc.room), "%q", tc.room)
		}
	})
	t.Run("names", func(t *testing.T) {
		for _, tc := range []struct {
			in  string
			err error
		}{
			{"alice", nil},
			{"", nil},
			{"<b>x</b>", nil},
			{"Ünïcødé ✓ 🎉", nil},
			{"mary ann", nil},
			{strings.Repeat("é", 24), nil},
			{strings.Repeat("é", 25), errNameLong},
			{"  alice\t", errNameSpace},
			{"   ", errNameSpace},
			{"alice\u00a0", errNameSpace},
			{"a\x00b", errNameControl},
			{"a\nb", errNameControl},
			{"a\u0085b", errNameControl},
			{"a\x7fb", errNameControl},
			{"a\xffb", errNameUTF8},
			// Format characters (Cf): each makes a name look like another.
			{"alice\u200b", errNameFormat},     // zero-width space
			{"\u202ealice", errNameFormat},     // right-to-left override
			{"ali\u00adce", errNameFormat},     // soft hyphen
			{"al\u200dice", errNameFormat},     // zero-width joiner
			{"alice\u2066", errNameFormat},     // left-to-right isolate
			{"\ufeffalice", errNameFormat},     // byte order mark
			{"alice\U000e0041", errNameFormat}, // tag latin capital A
			// Other characters that show as nothing.
			{"alice\u3164", errNameFormat}, // Hangul filler
			{"alice\u115f", errNameFormat}, // Hangul choseong filler
			{"ali\u034fce", errNameFormat}, // combining grapheme joiner
			{"alice\u2800", errNameFormat}, // braille blank
			{"alice\ufe0f", errNameFormat}, // a variation selector after a letter
			{"\ufe0falice", errNameFormat}, // ... or at the start
			{"I \u2764\ufe0f Go", nil},     // ... but an emoji's is fine
			{"mary\u00a0ann", errNameSpaces},
			{"mary\u2003ann", errNameSpaces},
		} {
			assert.Equal(t, tc.err, checkName(tc.in), "%+q", tc.in)
		}
	})
	t.Run("name keys", func(t *testing.T) {
		assert.Equal(t, nameKey("alice"), nameKey("ALICE"))
		assert.Equal(t, nameKey("alice"), nameKey("Alice"))
		assert.Equal(t, nameKey("strasse"), nameKey("Straße"))
		assert.Equal(t, nameKey("σας"), nameKey("ΣΑΣ"))
		assert.NotEqual(t, nameKey("alice"), nameKey("alice2"))
	})
	t.Run("texts", func(t *testing.T) {
		for _, tc := range []struct {
			in  string
			err error
		}{
			{"hi", nil},
			{" hi\n there ", nil},
			{strings.Repeat("🎉", maxTextRunes), nil},
			{strings.Repeat("🎉", maxTextRunes+1), errTextLong},
			{"", errTextEmpty},
			{" \n\t", errTextEmpty},
			{"a\xff", errTextUTF8},
		} {
			assert.Equal(t, tc.err, checkText(tc.in), "%.20q", tc.in)
		}
	})
	t.Run("client messages", func(t *testing.T) {
		for _, tc := range []struct {
			typ  wsproto.MessageType
			in   string
			text string
			err  error
		}{
			{wsproto.MessageText, `{"type":"message","text":"hi"}`, "hi", nil},
			{wsproto.MessageText, `{"type":"message","text":"hi","extra":1}`, "hi", nil},
			{wsproto.MessageBinary, `{"type":"message","text":"hi"}`, "", errBinary},
			{wsproto.MessageText, `hi`, "", errBadJSON},
			{wsproto.MessageText, `["message"]`, "", errBadJSON},
			{wsproto.MessageText, `{"type":"message","text":5}`, "", errBadJSON},
			{wsproto.MessageText, `null`, "", errBadType},
			{wsproto.MessageText, `{"text":"hi"}`, "", errBadType},
			{wsproto.MessageText, `{"type":"join","text":"hi"}`, "", errBadType},
			{wsproto.MessageText, `{"type":"message"}`, "", errTextEmpty},
		} {
			text, err := parseClientMessage(tc.typ, []byte(tc.in))
			assert.Equal(t, tc.text, text, tc.in)
			assert.Equal(t, tc.err, err, tc.in)
		}
	})
}

// TestHubsShareABus: two hubs on one bus are two servers of one chat:
// names are unique across them, each one's members see the other's
// arrivals, messages and departures, and a newcomer's welcome lists
// everyone.
func TestHubsShareABus(t *testing.T) {
	decode := decoder(t)
	b := NewLocalBus()
	h1, h2 := newHub(discard, b), newHub(discard, b)

	alice, _, err := h1.join(bg, "lobby", "alice", newFakePeer())
	require.NoError(t, err)
	bob, first, err := h2.join(bg, "lobby", "Alice", newFakePeer())
	require.NoError(t, err)
	assert.Equal(t, "Alice-2", bob.name, "names are unique across servers")
	assert.Equal(t, []string{"Alice-2", "alice"}, decode(first[0]).Members)
	assert.Equal(t, event{Type: "join", Name: "Alice-2"}, next(t, decode, alice))
	assertNothingQueued(t, bob)

	h2.say(bob, "hello from h2")
	for _, c := range []*client{alice, bob} {
		assert.Equal(t, "hello from h2", next(t, decode, c).Text)
	}
	require.NoError(t, h1.post(bg, "lobby", "bot", "posted on h1"))
	for _, c := range []*client{alice, bob} {
		assert.Equal(t, "posted on h1", next(t, decode, c).Text)
	}
	assert.ErrorIs(t, h2.post(bg, "lobby", "ALICE", "x"), ErrNameTaken, "a member on the other server has the name")

	_, first, err = h2.join(bg, "lobby", "carol", newFakePeer())
	require.NoError(t, err)
	assert.Equal(t, []string{"Alice-2", "alice", "carol"}, decode(first[0]).Members)
	assert.Len(t, decode(first[1]).Messages, 2)
	assert.Equal(t, "carol", next(t, decode, alice).Name)
	assert.Equal(t, "carol", next(t, decode, bob).Name)

	h1.leave(alice)
	assert.Equal(t, event{Type: "leave", Name: "alice"}, next(t, decode, bob))
	assert.Equal(t, []RoomInfo{{"lobby", 2}}, h2.list())
}

// failingBus is a LocalBus whose Publish fails, as a bus cut off from its
// backbone does.
type failingBus struct {
	*LocalBus
	err error
}

func (b failingBus) Publish(context.Context, string, []byte) error { return b.err }

// TestHubPublishFails: a message the bus did not take, or did not confirm
// in time, is not lost in silence: its sender is told which.
func TestHubPublishFails(t *testing.T) {
	decode := decoder(t)
	for _, tc := range []struct {
		err  error
		told string
	}{
		{errors.New("backbone unreachable"), errNotSent},
		{fmt.Errorf("publish: %w", context.DeadlineExceeded), errNotConfirmed},
	} {
		h := newHub(discard, failingBus{NewLocalBus(), tc.err})
		alice, _, err := h.join(bg, "lobby", "alice", newFakePeer())
		require.NoError(t, err)
		h.say(alice, "into the void")
		assert.Equal(t, event{Type: "error", Text: tc.told}, next(t, decode, alice))
		assert.ErrorIs(t, h.post(bg, "lobby", "bot", "x"), tc.err)
	}
}

// TestHubBusDeliversGarbage: what comes from the bus is checked like
// anything from the network; what is not a chat message is dropped.
func TestHubBusDeliversGarbage(t *testing.T) {
	decode := decoder(t)
	b := NewLocalBus()
	h := newHub(discard, b)
	alice, _, err := h.join(bg, "lobby", "alice", newFakePeer())
	require.NoError(t, err)
	for _, msg := range []string{
		"\xff\xfe",
		"not json",
		`{"type":"join","name":"x"}`,
		`{"type":"message","name":"x","text":"","time":"2025-01-02T15:04:05Z"}`,
		`{"type":"message","text":"no name","time":"2025-01-02T15:04:05Z"}`,
		`{"type":"message","name":"x\u200by","text":"an invisible name","time":"2025-01-02T15:04:05Z"}`,
		`{"type":"message","name":"x","text":"no time"}`,
		`{"type":"message","name":"x","text":"via what?","time":"2025-01-02T15:04:05Z","via":"admin"}`,
	} {
		require.NoError(t, b.Publish(bg, "lobby", []byte(msg)))
	}
	require.NoError(t, b.Publish(bg, "lobby", bytes.Repeat([]byte(" "), maxEvent+1)))
	assertNothingQueued(t, alice)
	require.NoError(t, b.Publish(bg, "lobby", []byte(`{"type":"message","name":"x","text":"fine","time":"2025-01-02T15:04:05Z"}`)))
	assert.Equal(t, "fine", next(t, decode, alice).Text)

	// encoding/json matches keys in any case and keeps the last: a page
	// reading the first "type" would take this for a welcome. What goes
	// on is the message as understood, encoded again.
	require.NoError(t, b.Publish(bg, "lobby", []byte(`{"type":"welcome","name":"mallory","members":["nobody"],"Type":"message","text":"x","time":"2025-01-02T15:04:05Z"}`)))
	assert.Equal(t, event{Type: "message", Name: "mallory", Text: "x", Time: "2025-01-02T15:04:05Z"}, next(t, decode, alice))

	// Presence is checked too: a name that is not valid, or not the one
	// its key says, is not announced.
	_, err = b.Claim(bg, "lobby", "x\u200by", "x\u200by")
	require.NoError(t, err)
	_, err = b.Claim(bg, "lobby", "someone", "mallory")
	require.NoError(t, err)
	assertNothingQueued(t, alice)
}

// lostBus is a LocalBus on which every claim expires before its refresh,
// as happens to a server cut off from its backbone for longer than the
// claims' TTL.
type lostBus struct {
	*LocalBus
	thief string // who takes an expired name, if anyone
}

func (b *lostBus) Refresh(ctx context.Context, room, key, _ string, rev uint64) (uint64, error) {
	_ = b.LocalBus.Release(ctx, room, key, rev) // it expired
	if b.thief != "" {
		if _, err := b.LocalBus.Claim(ctx, room, key, b.thief); err != nil {
			return 0, err
		}
	}
	return 0, ErrClaimLost
}

// TestHubClaimLost: a member whose claim expired claims its name again; if
// another took it meanwhile, the member is closed with 1013 and its
// roommates here told it left.
func TestHubClaimLost(t *testing.T) {
	decode := decoder(t)
	b := &lostBus{LocalBus: NewLocalBus()}
	h := newHub(discard, b)
	alice, _, err := h.join(bg, "lobby", "alice", newFakePeer())
	require.NoError(t, err)
	p := newFakePeer()
	bob, _, err := h.join(bg, "lobby", "bob", p)
	require.NoError(t, err)
	assert.Equal(t, "bob", next(t, decode, alice).Name)

	h.refresh(bg, bob)
	assert.False(t, bob.stopped, "claimed again")
	assert.Equal(t, event{Type: "leave", Name: "bob"}, next(t, decode, alice), "the others saw the claim expire")
	assert.Equal(t, event{Type: "join", Name: "bob"}, next(t, decode, alice), "and bob claim his name again")
	assertNothingQueued(t, bob) // of his own leaving and coming back

	// Now the claim expires and another server's member takes the name
	// before bob can claim it again.
	b.thief = "BOB"
	h.refresh(bg, bob)
	assert.Equal(t, closeCall{wsproto.CloseTryAgainLater, "name lost while the server was cut off; join again"}, <-p.closed)
	assert.True(t, bob.stopped)
	assert.Equal(t, event{Type: "leave", Name: "bob"}, next(t, decode, alice))
	assert.Equal(t, event{Type: "join", Name: "BOB"}, next(t, decode, alice))
	bob.bg.Wait()
	h.leave(bob) // its name is another's: nothing is released
	assertNothingQueued(t, alice)
	present, err := b.Present(bg, "lobby", "bob")
	require.NoError(t, err)
	assert.True(t, present, "the new holder keeps the name")
	_, first, err := h.join(bg, "lobby", "carol", newFakePeer())
	require.NoError(t, err)
	assert.Equal(t, []string{"BOB", "alice", "carol"}, decode(first[0]).Members)
}
