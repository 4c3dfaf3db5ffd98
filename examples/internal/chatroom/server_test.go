//go:build !js

package chatroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/fair"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testChat is a chat server on a loopback port, run by serve as main runs
// it.
type testChat struct {
	http, ws string // http://127.0.0.1:port and ws://127.0.0.1:port
	// stop shuts the server down as SIGINT does and waits for serve to
	// return; it runs at the test's end if the test does not call it.
	stop func()
}

// unlimited lifts the budgets of clients and of the API, for tests that
// send more than a person would.
func unlimited(s *Server) {
	s.limits = fair.Limits{}
	s.apiBudget = fair.New(fair.Limits{})
}

func startChat(t *testing.T, tweaks ...func(*Server)) *testChat {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	s := New(Options{Log: discard})
	for _, tweak := range tweaks {
		tweak(s)
	}
	go func() { served <- s.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-served:
				assert.NoError(t, err)
			case <-time.After(15 * time.Second):
				t.Error("the server did not shut down")
			}
		})
	}
	t.Cleanup(stop)
	addr := ln.Addr().String()
	return &testChat{http: "http://" + addr, ws: "ws://" + addr, stop: stop}
}

// dial opens a WebSocket into room as name ("" for none).
func (ts *testChat) dial(t *testing.T, room, name string, opts *wsproto.DialOptions) *wsproto.Conn {
	t.Helper()
	u := ts.ws + "/chats/" + room + "/ws"
	if name != "" {
		u += "?name=" + url.QueryEscape(name)
	}
	c, _, err := wsproto.Dial(context.Background(), u, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// join dials and reads the welcome and the history.
func (ts *testChat) join(t *testing.T, room, name string) (c *wsproto.Conn, welcome, history event) {
	t.Helper()
	c = ts.dial(t, room, name, nil)
	welcome = readEvent(t, c)
	require.Equal(t, "welcome", welcome.Type)
	history = readEvent(t, c)
	require.Equal(t, "history", history.Type)
	return c, welcome, history
}

// readRaw reads one message, which must be a JSON text message.
func readRaw(t *testing.T, c *wsproto.Conn) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, p, err := c.ReadMessage(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, wsproto.MessageText, typ)
	require.True(t, json.Valid(p), "%s", p)
	return p
}

func readEvent(t *testing.T, c *wsproto.Conn) event {
	t.Helper()
	var e event
	require.NoError(t, json.Unmarshal(readRaw(t, c), &e))
	return e
}

// readClose reads until the connection ends and returns how.
func readClose(t *testing.T, c *wsproto.Conn) *wsproto.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.ReadMessage(ctx, nil)
		if err != nil {
			ce, ok := errors.AsType[*wsproto.CloseError](err)
			require.True(t, ok, "%v", err)
			return ce
		}
	}
}

func send(t *testing.T, c *wsproto.Conn, v any) {
	t.Helper()
	p, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, c.WriteMessage(context.Background(), wsproto.MessageText, p))
}

func say(t *testing.T, c *wsproto.Conn, text string) {
	t.Helper()
	send(t, c, map[string]string{"type": "message", "text": text})
}

// expectMessage reads a chat message from name with text, and returns it.
func expectMessage(t *testing.T, c *wsproto.Conn, name, text string) event {
	t.Helper()
	e := readEvent(t, c)
	assert.Equal(t, "message", e.Type)
	assert.Equal(t, name, e.Name)
	assert.Equal(t, text, e.Text)
	_, err := time.Parse(time.RFC3339, e.Time)
	assert.NoError(t, err)
	return e
}

func (ts *testChat) post(t *testing.T, client *http.Client, room, body string) *http.Response {
	t.Helper()
	resp, err := client.Post(ts.http+"/api/rooms/"+room+"/messages", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestChatTwoClients(t *testing.T) {
	ts := startChat(t)
	alice, welcome, history := ts.join(t, "lobby", "alice")
	assert.Equal(t, event{Type: "welcome", Name: "alice", Room: "lobby", Members: []string{"alice"}}, welcome)
	assert.Empty(t, history.Messages)

	// bob takes permessage-deflate: the long messages reach him in the
	// frame compressed once for everyone.
	bob := ts.dial(t, "lobby", "bob", &wsproto.DialOptions{Compression: &wsproto.CompressionOptions{}})
	assert.Equal(t, event{Type: "welcome", Name: "bob", Room: "lobby", Members: []string{"alice", "bob"}}, readEvent(t, bob))
	assert.Equal(t, "history", readEvent(t, bob).Type)
	assert.Equal(t, event{Type: "join", Name: "bob"}, readEvent(t, alice))

	long := strings.Repeat("a long message compresses well. ", 40)
	for _, m := range []struct {
		from *wsproto.Conn
		name string
		text string
	}{
		{alice, "alice", "hi bob"},
		{bob, "bob", "hi alice"},
		{alice, "alice", long},
		{bob, "bob", long + "!"},
	} {
		say(t, m.from, m.text)
		expectMessage(t, alice, m.name, m.text)
		expectMessage(t, bob, m.name, m.text)
	}

	require.NoError(t, bob.Close(wsproto.CloseNormalClosure, "bye"))
	assert.Equal(t, event{Type: "leave", Name: "bob"}, readEvent(t, alice))
}

func TestChatRoomsAreIsolated(t *testing.T) {
	ts := startChat(t)
	a, _, _ := ts.join(t, "room-a", "alice")
	b, _, _ := ts.join(t, "room-b", "bob")
	a2, _, _ := ts.join(t, "room-a", "ann")
	assert.Equal(t, event{Type: "join", Name: "ann"}, readEvent(t, a))

	say(t, a, "for room a")
	expectMessage(t, a, "alice", "for room a")
	expectMessage(t, a2, "alice", "for room a")
	require.NoError(t, a2.Close(wsproto.CloseNormalClosure, ""))
	assert.Equal(t, event{Type: "leave", Name: "ann"}, readEvent(t, a))

	// bob saw none of it: the next thing he reads is his own message.
	say(t, b, "for room b")
	expectMessage(t, b, "bob", "for room b")
	say(t, a, "marker")
	expectMessage(t, a, "alice", "marker")
}

func TestChatHistory(t *testing.T) {
	ts := startChat(t, unlimited)
	check := func(t *testing.T, history event, from string) {
		require.Len(t, history.Messages, historyLen)
		for i, m := range history.Messages {
			assert.Equal(t, "message", m.Type)
			assert.Equal(t, from, m.Name)
			assert.Equal(t, fmt.Sprint("message ", i+10), m.Text)
			_, err := time.Parse(time.RFC3339, m.Time)
			assert.NoError(t, err)
		}
	}
	t.Run("posted into an empty room", func(t *testing.T) {
		client := &http.Client{}
		defer client.CloseIdleConnections()
		for i := range 60 {
			resp := ts.post(t, client, "empty", fmt.Sprintf(`{"name":"bot","text":"message %d"}`, i))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
		}
		_, _, history := ts.join(t, "empty", "newcomer")
		check(t, history, "bot")
	})
	t.Run("said by a member", func(t *testing.T) {
		alice, _, _ := ts.join(t, "busy", "alice")
		for i := range 60 {
			say(t, alice, fmt.Sprint("message ", i))
			expectMessage(t, alice, "alice", fmt.Sprint("message ", i))
		}
		_, _, history := ts.join(t, "busy", "newcomer")
		check(t, history, "alice")
	})
}

func TestChatNames(t *testing.T) {
	ts := startChat(t)
	// In sequence, each staying in the room.
	for _, tc := range []struct{ ask, get string }{
		{"alice", "alice"},
		{"alice", "alice-2"},
		{"ALICE", "ALICE-3"}, // names are unique case-folded
		{"Alice-2", "Alice-2-2"},
		{"Straße", "Straße"},
		{"STRASSE", "STRASSE-2"},
		{"Ünïcødé ✓", "Ünïcødé ✓"},
		{"", `^guest-\d{4}$`},
	} {
		_, welcome, _ := ts.join(t, "names", tc.ask)
		if strings.HasPrefix(tc.get, "^") {
			assert.Regexp(t, regexp.MustCompile(tc.get), welcome.Name, "%q", tc.ask)
		} else {
			assert.Equal(t, tc.get, welcome.Name, "%q", tc.ask)
		}
		assert.Contains(t, welcome.Members, welcome.Name)
	}
	for _, tc := range []struct{ ask, reason string }{
		{strings.Repeat("n", 25), "name: longer than 24 characters"},
		{"bell\a", "name: control characters are not allowed"},
		{"new\nline", "name: control characters are not allowed"},
		{"\xff", "name: not valid UTF-8"},
		{"  alice  ", "name: leading or trailing space is not allowed"},
		{"   ", "name: leading or trailing space is not allowed"},
		// Names that show as "alice", who is in the room.
		{"alice\u200b", errNameFormat.Error()},
		{"\u202ealice", errNameFormat.Error()},
		{"ali\u00adce", errNameFormat.Error()},
	} {
		t.Run(fmt.Sprintf("%q", tc.ask), func(t *testing.T) {
			c := ts.dial(t, "names", tc.ask, nil)
			ce := readClose(t, c)
			assert.Equal(t, wsproto.ClosePolicyViolation, ce.Code)
			assert.Equal(t, tc.reason, ce.Reason)
		})
	}
}

// TestChatHTMLVerbatim: strings with HTML characters travel as they are,
// in valid JSON, for the page to show as text.
func TestChatHTMLVerbatim(t *testing.T) {
	ts := startChat(t)
	const name = `<b>x</b>`
	const text = `<script>alert("&amp;")</script> <img src=x onerror=alert(1)>`
	c := ts.dial(t, "html", name, nil)
	raw := readRaw(t, c)
	assert.Contains(t, string(raw), `"name":"<b>x</b>"`)
	_ = readRaw(t, c) // the history
	say(t, c, text)
	raw = readRaw(t, c)
	assert.Contains(t, string(raw), `"text":"<script>alert(\"&amp;\")</script> <img src=x onerror=alert(1)>"`)
	var e event
	require.NoError(t, json.Unmarshal(raw, &e))
	assert.Equal(t, name, e.Name)
	assert.Equal(t, text, e.Text)
}

func TestChatInvalidInput(t *testing.T) {
	ts := startChat(t)
	c, _, _ := ts.join(t, "strict", "alice")
	for _, tc := range []struct {
		name  string
		typ   wsproto.MessageType
		input string
		error string
	}{
		{"binary", wsproto.MessageBinary, `{"type":"message","text":"hi"}`, "binary messages are not supported"},
		{"not JSON", wsproto.MessageText, `hello`, "not a JSON object"},
		{"other type", wsproto.MessageText, `{"type":"join","text":"hi"}`, `unknown type: only "message" can be sent`},
		{"no text", wsproto.MessageText, `{"type":"message"}`, "text: empty"},
		{"blank text", wsproto.MessageText, `{"type":"message","text":" \n "}`, "text: empty"},
		{"long text", wsproto.MessageText, `{"type":"message","text":"` + strings.Repeat("x", maxTextRunes+1) + `"}`, "text: longer than 2000 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, c.WriteMessage(context.Background(), tc.typ, []byte(tc.input)))
			assert.Equal(t, event{Type: "error", Text: tc.error}, readEvent(t, c))
		})
	}
	// The connection is still open, and nothing went to the room.
	say(t, c, strings.Repeat("x", maxTextRunes))
	expectMessage(t, c, "alice", strings.Repeat("x", maxTextRunes))
	_, _, history := ts.join(t, "strict", "bob")
	assert.Len(t, history.Messages, 1)
}

// TestChatSlowClientDropped: a member that never reads is dropped once its
// queue is full, with close 1008, while another member keeps receiving
// every message without delay.
func TestChatSlowClientDropped(t *testing.T) {
	ts := startChat(t, unlimited)
	alice, _, _ := ts.join(t, "flood", "alice")
	stuck := ts.dial(t, "flood", "stuck", nil) // reads nothing until dropped
	assert.Equal(t, event{Type: "join", Name: "stuck"}, readEvent(t, alice))

	type received struct {
		e  event
		at time.Time
	}
	events := make(chan received, 1<<14)
	go func() {
		defer close(events)
		for {
			_, p, err := alice.ReadMessage(context.Background(), nil)
			if err != nil {
				return
			}
			var e event
			if assert.NoError(t, json.Unmarshal(p, &e)) {
				events <- received{e, time.Now()}
			}
		}
	}()
	defer func() {
		_ = alice.CloseNow()
		for range events {
		}
	}()

	// Large messages fill the socket buffers between the server and stuck,
	// then stuck's queue. Nothing may wait for stuck: not the POST (the
	// broadcast), not alice. promptly is well under the 5 s a closing
	// handshake or the 10 s a write may take, and far over what the work
	// takes.
	const promptly = 3 * time.Second
	const maxPosts = 5000
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	filler := strings.Repeat("𝄞", maxTextRunes-10) // 4 bytes a rune
	deadline := time.Now().Add(30 * time.Second)
	var posted, got int
	dropped := false
	take := func(r received) {
		switch {
		case r.e.Type == "message":
			require.Equal(t, fmt.Sprint(got, " ", filler), r.e.Text, "alice gets every message, in order")
			got++
		case r.e.Type == "leave" && r.e.Name == "stuck":
			dropped = true
		default:
			t.Fatalf("unexpected event %+v", r.e)
		}
	}
	for !dropped {
		require.Less(t, posted, maxPosts, "stuck was never dropped")
		require.True(t, time.Now().Before(deadline), "stuck was not dropped in time (%d posted)", posted)
		start := time.Now()
		resp := ts.post(t, client, "flood", string(encode(apiMessage{Name: "bot", Text: fmt.Sprint(posted, " ", filler)})))
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		require.Less(t, time.Since(start), promptly, "post %d waited", posted)
		posted++
		for more := true; more; {
			select {
			case r := <-events:
				take(r)
			default:
				more = false
			}
		}
	}
	t.Logf("stuck dropped after %d messages of %d bytes", posted, len(filler))

	resp := ts.post(t, client, "flood", string(encode(apiMessage{Name: "bot", Text: fmt.Sprint(posted, " ", filler)})))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	sent := time.Now()
	posted++
	for got < posted {
		select {
		case r, ok := <-events:
			require.True(t, ok, "alice's connection ended")
			take(r)
			if got == posted {
				assert.Less(t, r.at.Sub(sent), promptly)
			}
		case <-time.After(promptly):
			t.Fatalf("alice has %d messages of %d", got, posted)
		}
	}

	// stuck finds what had reached it, then the close.
	ce := readClose(t, stuck)
	assert.Equal(t, wsproto.ClosePolicyViolation, ce.Code)
	assert.Equal(t, "too slow: send queue full", ce.Reason)

	// Its name is released as it is dropped, beside the closing
	// handshake: it may take a moment longer than the close.
	assert.Eventually(t, func() bool {
		var rooms []RoomInfo
		getJSON(t, ts.http+"/api/rooms", &rooms)
		return assert.ObjectsAreEqual([]RoomInfo{{"flood", 1}}, rooms)
	}, 5*time.Second, 10*time.Millisecond)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func TestChatAPI(t *testing.T) {
	ts := startChat(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()

	var rooms []RoomInfo
	getJSON(t, ts.http+"/api/rooms", &rooms)
	assert.Equal(t, []RoomInfo{}, rooms)

	alice, _, _ := ts.join(t, "b-room", "alice")
	ts.join(t, "b-room", "bob")
	ts.join(t, "a-room", "carol")
	getJSON(t, ts.http+"/api/rooms", &rooms)
	assert.Equal(t, []RoomInfo{{"a-room", 1}, {"b-room", 2}}, rooms)
	assert.Equal(t, "join", readEvent(t, alice).Type)

	t.Run("post", func(t *testing.T) {
		for _, tc := range []struct {
			name, body, from, text string
		}{
			{"named", `{"name":"bot","text":"hi from the API"}`, "bot", "hi from the API"},
			{"unnamed", `{"text":"anonymous"}`, "api", "anonymous"},
			{"html", `{"name":"<i>","text":"<b>&</b>"}`, "<i>", "<b>&</b>"},
			{"a member of another room", `{"name":"carol","text":"not in b-room"}`, "carol", "not in b-room"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := ts.post(t, client, "b-room", tc.body)
				assert.Equal(t, http.StatusAccepted, resp.StatusCode)
				e := expectMessage(t, alice, tc.from, tc.text)
				assert.Equal(t, "api", e.Via, "a message from the API is marked so")
			})
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, room, body string
			status           int
		}{
			{"bad JSON", "b-room", `{"text":`, http.StatusBadRequest},
			{"not an object", "b-room", `["hi"]`, http.StatusBadRequest},
			{"data after it", "b-room", `{"text":"hi"} {}`, http.StatusBadRequest},
			{"wrong field type", "b-room", `{"text":1}`, http.StatusBadRequest},
			{"empty body", "b-room", ``, http.StatusBadRequest},
			{"no text", "b-room", `{"name":"bot"}`, http.StatusBadRequest},
			{"long text", "b-room", `{"text":"` + strings.Repeat("x", maxTextRunes+1) + `"}`, http.StatusBadRequest},
			{"long name", "b-room", `{"name":"` + strings.Repeat("x", maxNameRunes+1) + `","text":"hi"}`, http.StatusBadRequest},
			{"control in name", "b-room", `{"name":"a\u0007","text":"hi"}`, http.StatusBadRequest},
			{"blank name", "b-room", `{"name":"  ","text":"blank"}`, http.StatusBadRequest},
			{"zero-width space in name", "b-room", `{"name":"alice\u200b","text":"hi"}`, http.StatusBadRequest},
			// The API cannot speak as a member who is in the room.
			{"a member's name", "b-room", `{"name":"alice","text":"i am alice"}`, http.StatusConflict},
			{"a member's name in other case", "b-room", `{"name":"BOB","text":"i am bob"}`, http.StatusConflict},
			{"huge body", "b-room", `{"text":"` + strings.Repeat("x", maxInbound) + `"}`, http.StatusRequestEntityTooLarge},
			{"bad room", "b.room", `{"text":"hi"}`, http.StatusNotFound},
			{"long room", strings.Repeat("r", maxRoomLen+1), `{"text":"hi"}`, http.StatusNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				assert.Equal(t, tc.status, ts.post(t, client, tc.room, tc.body).StatusCode)
			})
		}
		resp, err := client.Get(ts.http + "/api/rooms/b-room/messages")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	// Nothing refused reached the room: the next message is this one.
	say(t, alice, "after the refusals")
	e := expectMessage(t, alice, "alice", "after the refusals")
	assert.Empty(t, e.Via, "a member's own message is not marked")

	t.Run("into a room without members", func(t *testing.T) {
		assert.Equal(t, http.StatusAccepted, ts.post(t, client, "later", `{"text":"for whoever comes"}`).StatusCode)
		getJSON(t, ts.http+"/api/rooms", &rooms)
		assert.Equal(t, []RoomInfo{{"a-room", 1}, {"b-room", 2}}, rooms, "only rooms with members are listed")
		_, _, history := ts.join(t, "later", "dave")
		require.Len(t, history.Messages, 1)
		assert.Equal(t, "for whoever comes", history.Messages[0].Text)
	})
}

func TestChatPage(t *testing.T) {
	ts := startChat(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	get := func(path string) (*http.Response, string) {
		resp, err := client.Get(ts.http + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	resp, page := get("/chats/lobby")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, resp.Header.Get("Content-Security-Policy"))
	for _, s := range []string{`<input id="input"`, `<button id="send">Send</button>`, `<ul id="messages">`, `<span id="me">`, `<span id="status">connecting</span>`, `<h1>Room <span id="room">`, `<script src="/chat.js">`} {
		assert.Contains(t, page, s)
	}
	resp, script := get("/chat.js")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, script, `(location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + location.pathname + '/ws' + nameQuery`)
	for _, s := range []string{page, script} {
		assert.NotContains(t, s, "innerHTML")
		assert.NotContains(t, s, "http://")
		assert.NotContains(t, s, "https://")
	}

	for path, location := range map[string]string{"/": "/chats/lobby", "/?name=alice": "/chats/lobby?name=alice"} {
		resp, _ = get(path)
		assert.Equal(t, http.StatusFound, resp.StatusCode, path)
		assert.Equal(t, location, resp.Header.Get("Location"), path)
	}
	for _, path := range []string{"/chats/", "/chats/a.b", "/chats/" + strings.Repeat("r", 33), "/chats/%3Cb%3E", "/chats/a%2Fb", "/chats/lobby/", "/nope", "/chats/a.b/ws"} {
		resp, _ = get(path)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}

	// A page of another site may not connect (same origin by default).
	_, resp, err := wsproto.Dial(context.Background(), ts.ws+"/chats/lobby/ws", &wsproto.DialOptions{Origin: "https://evil.example"})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// TestChatShutdown: shutting down says going away to every client and
// leaves no goroutine behind.
func TestChatShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := startChat(t)
	var conns []*wsproto.Conn
	for _, room := range []string{"one", "one", "two"} {
		c, _, _ := ts.join(t, room, "")
		conns = append(conns, c)
	}
	client := &http.Client{}
	assert.Equal(t, http.StatusAccepted, ts.post(t, client, "three", `{"text":"hi"}`).StatusCode)
	client.CloseIdleConnections()

	// The clients read, as a browser does, so that they answer the close.
	ends := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			for {
				if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
					ends <- err
					return
				}
			}
		}()
	}
	ts.stop()
	for range conns {
		select {
		case err := <-ends:
			ce, ok := errors.AsType[*wsproto.CloseError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, wsproto.CloseGoingAway, ce.Code)
			assert.Equal(t, "server shutting down", ce.Reason)
		case <-time.After(10 * time.Second):
			t.Fatal("a client was not closed")
		}
	}

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; <-tick.C {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	}
}
