package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests run the chat's nodes as processes of their own, built from
// this package, and the NATS server (with JetStream) inside the test
// process, where a test can stop it and start it again.

// nodeBinary is the node command, built once by TestMain.
var nodeBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chatcluster-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nodeBinary = filepath.Join(dir, "chatnode")
	args := []string{"build", "-o", nodeBinary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the node:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// natsServer is a NATS server in the test process, on a loopback port
// that stays the same across restarts, storing in one directory.
type natsServer struct {
	t     testing.TB
	port  int
	store string
	mu    sync.Mutex
	s     *server.Server
}

func startNATS(t testing.TB) *natsServer {
	t.Helper()
	n := &natsServer{t: t, port: -1, store: t.TempDir()}
	n.start()
	n.port = n.s.Addr().(*net.TCPAddr).Port
	t.Cleanup(n.stop)
	return n
}

func (n *natsServer) start() {
	n.t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: n.port, JetStream: true, StoreDir: n.store, NoSigs: true, NoLog: true,
	})
	require.NoError(n.t, err)
	go s.Start()
	require.True(n.t, s.ReadyForConnections(10*time.Second))
	n.mu.Lock()
	n.s = s
	n.mu.Unlock()
}

func (n *natsServer) stop() {
	n.mu.Lock()
	s := n.s
	n.s = nil
	n.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

func (n *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// node is a chat node process.
type node struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string // host:port of its HTTP server
	done chan struct{}

	mu  sync.Mutex
	log []string // its log lines
	// logged is signalled, by closing and replacing it, at each line.
	logged chan struct{}
}

// startNode runs a node with args and waits until it listens; it is
// killed at the test's end if still running.
func startNode(t testing.TB, args ...string) *node {
	t.Helper()
	if !slices.Contains(args, "-addr") {
		args = append(args, "-addr", "127.0.0.1:0")
	}
	n := &node{t: t, done: make(chan struct{}), logged: make(chan struct{})}
	n.cmd = exec.Command(nodeBinary, args...)
	stderr, err := n.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, n.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			n.mu.Lock()
			n.log = append(n.log, sc.Text())
			close(n.logged)
			n.logged = make(chan struct{})
			n.mu.Unlock()
		}
		_ = n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		<-n.done
		for _, l := range n.lines() {
			assert.NotContains(t, l, "DATA RACE", "node %s", n.addr)
		}
		if t.Failed() {
			t.Logf("log of node %s:\n%s", n.addr, strings.Join(n.lines(), "\n"))
		}
	})
	line := n.waitLog(t, regexp.MustCompile(`msg=listening url=http://([0-9.:]+)/`), 30*time.Second)
	n.addr = regexp.MustCompile(`http://([0-9.:]+)/`).FindStringSubmatch(line)[1]
	return n
}

func (n *node) lines() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.log...)
}

// waitLog waits for a log line matching re, from the node's start, and
// returns it.
func (n *node) waitLog(t testing.TB, re *regexp.Regexp, within time.Duration) string {
	t.Helper()
	deadline := time.After(within)
	seen := 0
	for {
		n.mu.Lock()
		lines, logged := n.log[seen:], n.logged
		n.mu.Unlock()
		for _, l := range lines {
			if re.MatchString(l) {
				return l
			}
		}
		seen += len(lines)
		select {
		case <-logged:
		case <-n.done:
			t.Fatalf("node exited without logging %v", re)
		case <-deadline:
			t.Fatalf("no log line %v within %v", re, within)
		}
	}
}

// kill ends the node with SIGKILL: no goodbye to anyone.
func (n *node) kill() {
	require.NoError(n.t, n.cmd.Process.Signal(syscall.SIGKILL))
	<-n.done
}

// terminate ends the node with SIGTERM and waits for it to exit.
func (n *node) terminate() {
	require.NoError(n.t, n.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.t.Fatal("the node did not stop on SIGTERM")
	}
}

// event holds any event the chat sends.
type event struct {
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	Room     string   `json:"room"`
	Text     string   `json:"text"`
	Via      string   `json:"via"`
	Members  []string `json:"members"`
	Messages []event  `json:"messages"`
}

// member is a chat client.
type member struct {
	t    *testing.T
	conn *wsproto.Conn
	name string  // the name the server gave
	seen []event // every event read, in order
}

func (n *node) join(t *testing.T, room, name string) (*member, event) {
	t.Helper()
	m, welcome, history, err := dialMember(t, n.addr, room, name)
	require.NoError(t, err)
	require.Equal(t, "welcome", welcome.Type)
	return m, history
}

func dialMember(t *testing.T, addr, room, name string) (*member, event, event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := wsproto.Dial(ctx, "ws://"+addr+"/chats/"+room+"/ws?name="+url.QueryEscape(name), nil)
	if err != nil {
		return nil, event{}, event{}, err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	m := &member{t: t, conn: conn}
	welcome, err := m.read(ctx)
	if err != nil {
		return nil, event{}, event{}, err
	}
	history, err := m.read(ctx)
	if err != nil {
		return nil, event{}, event{}, err
	}
	m.name = welcome.Name
	return m, welcome, history, nil
}

func (m *member) read(ctx context.Context) (event, error) {
	_, p, err := m.conn.ReadMessage(ctx, nil)
	if err != nil {
		return event{}, err
	}
	var e event
	if err := json.Unmarshal(p, &e); err != nil {
		return event{}, err
	}
	m.seen = append(m.seen, e)
	return e, nil
}

// next reads the next event, within 10 s.
func (m *member) next() event {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := m.read(ctx)
	require.NoError(m.t, err)
	return e
}

// nextOf reads events until one of type typ, within 10 s.
func (m *member) nextOf(typ string) event {
	m.t.Helper()
	for {
		if e := m.next(); e.Type == typ {
			return e
		}
	}
}

func (m *member) say(text string) error {
	p, _ := json.Marshal(map[string]string{"type": "message", "text": text})
	return m.conn.WriteMessage(context.Background(), wsproto.MessageText, p)
}

// texts returns the texts of the chat messages in events, in order.
func texts(events []event) []string {
	var out []string
	for _, e := range events {
		if e.Type == "message" {
			out = append(out, e.Text)
		}
	}
	return out
}

func numbered(who string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s %03d", who, i))
	}
	return out
}

// bySender keeps the texts that start with who.
func bySender(texts []string, who string) []string {
	var out []string
	for _, t := range texts {
		if strings.HasPrefix(t, who+" ") {
			out = append(out, t)
		}
	}
	return out
}

// TestCluster: three nodes on one NATS server are one chat. Members on
// different nodes see each other arrive, leave and speak, each sender's
// messages in the order sent; names are unique across nodes; a newcomer
// on the third node gets the history; the API of any node sees them all.
func TestCluster(t *testing.T) {
	ns := startNATS(t)
	a, b, c := startNode(t, "-nats", ns.url()), startNode(t, "-nats", ns.url()), startNode(t, "-nats", ns.url())

	alice, _ := a.join(t, "lobby", "alice")
	bob, welcome, _, err := dialMember(t, b.addr, "lobby", "bob")
	require.NoError(t, err)
	assert.Equal(t, []string{"alice", "bob"}, welcome.Members, "presence across nodes")
	assert.Equal(t, event{Type: "join", Name: "bob"}, alice.next())
	alias, welcome, _, err := dialMember(t, c.addr, "lobby", "ALICE")
	require.NoError(t, err)
	assert.Equal(t, "ALICE-2", alias.name, "names are unique across nodes")
	assert.Equal(t, []string{"ALICE-2", "alice", "bob"}, welcome.Members)
	assert.Equal(t, event{Type: "join", Name: "ALICE-2"}, alice.next())
	assert.Equal(t, event{Type: "join", Name: "ALICE-2"}, bob.next())

	// alice and bob send 30 messages each, at once.
	const n = 30
	var wg sync.WaitGroup
	for _, m := range []*member{alice, bob} {
		wg.Go(func() {
			for _, text := range numbered(m.name, n) {
				assert.NoError(t, m.say(text))
			}
		})
	}
	got := map[string][]string{}
	for _, m := range []*member{alice, bob, alias} {
		var events []event
		for range 2 * n {
			events = append(events, m.nextOf("message"))
		}
		got[m.name] = texts(events)
		assert.Equal(t, numbered("alice", n), bySender(got[m.name], "alice"), "%s sees alice's in order", m.name)
		assert.Equal(t, numbered("bob", n), bySender(got[m.name], "bob"), "%s sees bob's in order", m.name)
	}
	wg.Wait()
	assert.Equal(t, got["alice"], got["bob"], "one order for all")
	assert.Equal(t, got["alice"], got["ALICE-2"], "one order for all")

	carol, history := startNode(t, "-nats", ns.url()).join(t, "lobby", "carol")
	assert.Equal(t, got["alice"][2*n-50:], texts(history.Messages), "a newcomer on another node gets the last 50")

	resp, err := http.Post("http://"+a.addr+"/api/rooms/lobby/messages", "application/json", strings.NewReader(`{"name":"bot","text":"from the API of a"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	for _, m := range []*member{bob, carol} {
		e := m.nextOf("message")
		assert.Equal(t, event{Type: "message", Name: "bot", Text: "from the API of a", Via: "api"}, event{Type: e.Type, Name: e.Name, Text: e.Text, Via: e.Via})
	}
	resp, err = http.Post("http://"+c.addr+"/api/rooms/lobby/messages", "application/json", strings.NewReader(`{"name":"Bob","text":"x"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "bob is a member, on another node")

	resp, err = http.Get("http://" + b.addr + "/api/rooms")
	require.NoError(t, err)
	var rooms []struct {
		Room    string `json:"room"`
		Members int    `json:"members"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rooms))
	resp.Body.Close()
	assert.Len(t, rooms, 1)
	assert.Equal(t, 4, rooms[0].Members, "members of every node")

	require.NoError(t, bob.conn.Close(wsproto.CloseNormalClosure, ""))
	assert.Equal(t, event{Type: "leave", Name: "bob"}, alice.nextOf("leave"))
	assert.Equal(t, event{Type: "leave", Name: "bob"}, carol.nextOf("leave"))
}

// TestNodeKilled: a node killed with SIGKILL says goodbye to no one. Its
// members leave the presence of the others within the TTL, its clients
// reconnect to another node and carry on, and every message its members
// had seen come back (stored, so acknowledged) is in the history and
// reached the others.
func TestNodeKilled(t *testing.T) {
	const ttl = 2 * time.Second
	ns := startNATS(t)
	flags := []string{"-nats", ns.url(), "-presence-ttl", ttl.String()}
	a, b, c := startNode(t, flags...), startNode(t, flags...), startNode(t, flags...)

	alice, _ := a.join(t, "lobby", "alice")
	bob, _ := b.join(t, "lobby", "bob")
	require.Equal(t, "bob", alice.nextOf("join").Name)

	// bob sends without pause (his budget paces him) and reads his own
	// messages back: those seen are acknowledged. Once 20 are, b is
	// killed.
	go func() {
		for i := 0; ; i++ {
			if bob.say(fmt.Sprintf("bob %03d", i)) != nil {
				return
			}
		}
	}()
	var acked []string
	var readErr error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		e, err := bob.read(ctx)
		cancel()
		if err != nil {
			readErr = err
			break
		}
		if e.Type == "message" {
			if acked = append(acked, e.Text); len(acked) == 20 {
				go func() { _ = b.cmd.Process.Signal(syscall.SIGKILL) }()
			}
		}
	}
	<-b.done
	killed := time.Now()
	ce, isClose := errors.AsType[*wsproto.CloseError](readErr)
	require.True(t, isClose, "bob's connection ended: %v", readErr)
	assert.Equal(t, wsproto.CloseAbnormalClosure, ce.Code, "without a closing handshake")
	t.Logf("bob had %d messages acknowledged when b died", len(acked))
	require.NotEmpty(t, acked)

	// alice sees bob leave once his presence expires.
	leave := alice.nextOf("leave")
	left := time.Since(killed)
	assert.Equal(t, "bob", leave.Name)
	t.Logf("bob left alice's room %v after b was killed (TTL %v)", left.Round(10*time.Millisecond), ttl)
	assert.Less(t, left, 2*ttl, "within the TTL and the expiry's sweep")

	// bob reconnects to c and carries on.
	bob2, history := c.join(t, "lobby", "bob")
	assert.Equal(t, "bob", bob2.name, "his old presence expired: the name is free")
	kept := bySender(texts(history.Messages), "bob")
	if len(acked) <= 50 {
		assert.Subset(t, kept, acked, "no acknowledged message is lost")
	}
	require.NoError(t, bob2.say("bob is back"))
	for alice.nextOf("message").Text != "bob is back" {
	}
	// Every message stored before is delivered before it.
	assert.Subset(t, bySender(texts(alice.seen), "bob"), acked, "alice got every acknowledged message")
	isLeave := func(e event) bool { return e.Type == "leave" && e.Name == "bob" }
	isJoin := func(e event) bool { return e.Type == "join" && e.Name == "bob" }
	if !slices.ContainsFunc(alice.seen[slices.IndexFunc(alice.seen, isLeave):], isJoin) {
		assert.Equal(t, "bob", alice.nextOf("join").Name, "bob joins again")
	}
}

// TestNATSRestart: while NATS is down a member's message gets an error
// event; the nodes log the loss and the reconnection; once NATS is back,
// traffic resumes and the history is intact.
func TestNATSRestart(t *testing.T) {
	ns := startNATS(t)
	a, b := startNode(t, "-nats", ns.url()), startNode(t, "-nats", ns.url())
	alice, _ := a.join(t, "lobby", "alice")
	bob, _ := b.join(t, "lobby", "bob")
	require.NoError(t, alice.say("before"))
	require.Equal(t, "before", bob.nextOf("message").Text)

	ns.stop()
	for _, n := range []*node{a, b} {
		n.waitLog(t, regexp.MustCompile(`NATS disconnected`), 10*time.Second)
	}
	require.NoError(t, alice.say("while NATS is down"))
	e := alice.nextOf("error")
	assert.Contains(t, e.Text, "not sent")

	ns.start()
	restarted := time.Now()
	for _, n := range []*node{a, b} {
		n.waitLog(t, regexp.MustCompile(`NATS reconnected`), 20*time.Second)
	}
	// The first messages after the restart may find the stream not yet
	// ready; alice tries until one goes through, as a person would.
	var delivered string
	for i := 0; delivered == "" && time.Since(restarted) < 30*time.Second; i++ {
		text := fmt.Sprint("after ", i)
		require.NoError(t, alice.say(text))
		if e := alice.next(); e.Type == "message" {
			delivered = e.Text
		}
	}
	require.NotEmpty(t, delivered, "traffic resumes")
	t.Logf("the first message went through %v after NATS restarted", time.Since(restarted).Round(10*time.Millisecond))
	assert.Equal(t, delivered, bob.nextOf("message").Text)

	_, history := startNode(t, "-nats", ns.url()).join(t, "lobby", "carol")
	assert.Equal(t, []string{"before", delivered}, texts(history.Messages), "the history survived the restart")
}

// TestEmbeddedNATS: a node without -nats runs its own NATS server, which a
// second node joins; a restart of the first keeps the history in its data
// directory.
func TestEmbeddedNATS(t *testing.T) {
	data := t.TempDir()
	first := startNode(t, "-nats-listen", "127.0.0.1:0", "-data", data)
	line := first.waitLog(t, regexp.MustCompile(`msg="embedded NATS" url=nats://`), 5*time.Second)
	natsURL := regexp.MustCompile(`url=(nats://[0-9.:]+)`).FindStringSubmatch(line)[1]
	second := startNode(t, "-nats", natsURL)

	alice, _ := first.join(t, "lobby", "alice")
	bob, _ := second.join(t, "lobby", "bob")
	require.NoError(t, bob.say("hi from the second node"))
	assert.Equal(t, "hi from the second node", alice.nextOf("message").Text)

	first.terminate()
	_, err := alice.read(context.Background())
	ce, ok := errors.AsType[*wsproto.CloseError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, wsproto.CloseGoingAway, ce.Code)

	again := startNode(t, "-nats-listen", "127.0.0.1:0", "-data", data)
	_, history := again.join(t, "lobby", "carol")
	assert.Equal(t, []string{"hi from the second node"}, texts(history.Messages), "kept in the data directory")
}
