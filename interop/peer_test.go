//go:build !js

package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// requireEnv names the environment variable that turns a missing peer from
// a skip into a failure; CI sets it to "require".
const requireEnv = "WS_INTEROP_TESTS"

// peerDir holds the peer scripts and the npm project, relative to this
// package.
const peerDir = "../testdata/interop"

// peerSpec is one implementation we test against.
type peerSpec struct {
	name string
	// find returns the command line that starts the peer, or why it cannot
	// be started here.
	find func() ([]string, error)
	// reportsPing says whether the peer's API lets it report the pings it
	// receives (websockets answers them without telling).
	reportsPing bool
}

var peerSpecs = []peerSpec{
	{name: "node-ws", find: findNode, reportsPing: true},
	{name: "py-websockets", find: findPython("websockets", "websockets_peer.py")},
	{name: "py-autobahn", find: findPython("autobahn.asyncio.websocket", "autobahn_peer.py"), reportsPing: true},
}

// findNode finds node and checks that the pinned ws is installed.
func findNode() ([]string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("no node on PATH (install Node.js 20 or later)")
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	var installed struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(peerDir, "package.json"), &pkg); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(peerDir, "node_modules", "ws", "package.json"), &installed); err != nil {
		return nil, fmt.Errorf("ws is not installed (run npm ci --prefix testdata/interop): %w", err)
	}
	if want := pkg.Dependencies["ws"]; installed.Version != want {
		return nil, fmt.Errorf("ws %s is installed, package.json pins %s (run npm ci --prefix testdata/interop)", installed.Version, want)
	}
	return []string{node, "ws_peer.js"}, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// findPython returns a finder for a Python peer: the first interpreter that
// can import module. The pyenv python3 often first on PATH cannot import
// Debian's packages, so /usr/bin/python3 comes before it.
func findPython(module, script string) func() ([]string, error) {
	return func() ([]string, error) {
		candidates := []string{os.Getenv("WS_INTEROP_PYTHON"), "/usr/bin/python3"}
		if p, err := exec.LookPath("python3"); err == nil {
			candidates = append(candidates, p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for _, py := range candidates {
			if py == "" {
				continue
			}
			if exec.CommandContext(ctx, py, "-c", "import "+module).Run() == nil {
				return []string{py, script}, nil
			}
		}
		return nil, fmt.Errorf("no python3 can import %s (tried %q; install Debian's python3-websockets python3-autobahn)", module, candidates)
	}
}

// command is one line of the peers' input; see the scripts for its fields.
type command struct {
	Cmd    string    `json:"cmd"`
	ID     string    `json:"id"`
	URL    string    `json:"url,omitempty"`
	Opts   *peerOpts `json:"opts,omitempty"`
	Type   string    `json:"type,omitempty"`
	B64    []byte    `json:"b64"` // encoding/json writes []byte as base64
	Parts  [][]byte  `json:"parts,omitempty"`
	Code   int       `json:"code,omitempty"`
	Reason string    `json:"reason"`
}

// peerOpts configures the peer's end of one connection.
type peerOpts struct {
	Protocols []string       `json:"protocols,omitempty"`
	Deflate   *deflateConfig `json:"deflate,omitempty"`
	MaxSize   int            `json:"maxSize,omitempty"`
}

// deflateConfig is one permessage-deflate setting, given to both ends.
type deflateConfig struct {
	ServerNoContextTakeover bool `json:"serverNoContextTakeover"`
	ClientNoContextTakeover bool `json:"clientNoContextTakeover"`
	ServerMaxWindowBits     int  `json:"serverMaxWindowBits,omitempty"`
	ClientMaxWindowBits     int  `json:"clientMaxWindowBits,omitempty"`
}

// event is one line of the peers' output.
type event struct {
	Ev         string `json:"ev"`
	ID         string `json:"id"`
	Port       int    `json:"port"`
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"`
	Type       string `json:"type"`
	Len        int    `json:"len"`
	B64        []byte `json:"b64"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	Clean      bool   `json:"clean"`
	Sent       int    `json:"sent"`
	Error      string `json:"error"`
}

func (e event) String() string {
	b, _ := json.Marshal(e)
	return string(b)
}

// peerProc is a running peer process. Events are routed to the connection
// they name.
type peerProc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	wmu    sync.Mutex
	stderr lockedBuffer
	done   chan struct{} // closed when stdout ends

	mu     sync.Mutex
	queues map[string]chan event
	nextID int
}

// lockedBuffer collects a process's stderr for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lookupPeer finds spec's peer, or skips t (fails it under
// WS_INTEROP_TESTS=require) if it is not there.
func lookupPeer(t *testing.T, spec peerSpec) []string {
	t.Helper()
	argv, err := spec.find()
	if err != nil {
		if os.Getenv(requireEnv) == "require" {
			t.Fatalf("%s: %v (%s=require)", spec.name, err, requireEnv)
		}
		t.Skipf("%s: %v; set %s=require to make this a failure", spec.name, err, requireEnv)
	}
	return argv
}

// startPeer starts a peer process and waits for it to be ready. It is
// ended, by its PID, when t ends.
func startPeer(t *testing.T, name string, argv []string) *peerProc {
	t.Helper()
	p := &peerProc{name: name, done: make(chan struct{}), queues: map[string]chan event{}}
	ctx, cancel := context.WithCancel(context.Background())
	p.cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	p.cmd.Dir = peerDir
	p.cmd.Stderr = &p.stderr
	p.cmd.WaitDelay = 2 * time.Second
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start(), "start %s", name)
	ready := p.queue("")
	go p.readEvents(t, stdout)
	t.Cleanup(func() {
		// Closing stdin asks the peer to exit; it is killed if it does not.
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			p.kill()
			<-p.done
		}
		_ = p.cmd.Wait()
		cancel()
		if t.Failed() {
			t.Logf("%s (pid %d) stderr:\n%s", name, p.cmd.Process.Pid, p.stderr.String())
		}
	})
	select {
	case ev := <-ready:
		require.Equal(t, "ready", ev.Ev, "%s: first event", name)
	case <-p.done:
		t.Fatalf("%s exited before it was ready:\n%s", name, p.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("%s not ready within 20s:\n%s", name, p.stderr.String())
	}
	return p
}

// kill ends the process at once, by its PID.
func (p *peerProc) kill() {
	_ = p.cmd.Process.Kill()
}

func (p *peerProc) readEvents(t *testing.T, r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			ev = event{Ev: "error", Error: fmt.Sprintf("bad output line %q: %v", sc.Text(), err)}
		}
		q := p.queue(ev.ID)
		select {
		case q <- ev:
		default:
			// Rows produce a handful of events; a full queue means a row
			// stopped listening, and its events no longer matter.
		}
	}
}

// queue returns the event queue of connection id ("" for the process's
// own events), making it if needed.
func (p *peerProc) queue(id string) chan event {
	p.mu.Lock()
	defer p.mu.Unlock()
	q, ok := p.queues[id]
	if !ok {
		q = make(chan event, 256)
		p.queues[id] = q
	}
	return q
}

// send writes one command line.
func (p *peerProc) send(c command) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_, err = p.stdin.Write(append(b, '\n'))
	return err
}

// peerConn is the peer's end of one connection, as the test sees it.
type peerConn struct {
	t       *testing.T
	p       *peerProc
	id      string
	events  chan event
	pending []event // received, not yet asked for
	log     []event // everything received, for failure messages
}

// newConnID names a new connection of p and returns its handle.
func (p *peerProc) newConn(t *testing.T) *peerConn {
	p.mu.Lock()
	p.nextID++
	id := fmt.Sprintf("c%d", p.nextID)
	p.mu.Unlock()
	pc := &peerConn{t: t, p: p, id: id, events: p.queue(id)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s events of %s: %v", p.name, id, pc.log)
		}
	})
	return pc
}

// do sends a command about this connection.
func (pc *peerConn) do(c command) {
	pc.t.Helper()
	c.ID = pc.id
	require.NoError(pc.t, pc.p.send(c), "command %s to %s", c.Cmd, pc.p.name)
}

// await returns the next event named ev, keeping others for later calls.
func (pc *peerConn) await(ctx context.Context, ev string) event {
	pc.t.Helper()
	for i, e := range pc.pending {
		if e.Ev == ev {
			pc.pending = append(pc.pending[:i], pc.pending[i+1:]...)
			return e
		}
	}
	for {
		select {
		case e := <-pc.events:
			pc.log = append(pc.log, e)
			if e.Ev == ev {
				return e
			}
			pc.pending = append(pc.pending, e)
		case <-pc.p.done:
			pc.t.Fatalf("%s exited while we waited for %q on %s", pc.p.name, ev, pc.id)
		case <-ctx.Done():
			pc.t.Fatalf("no %q event from %s on %s: %v (events so far: %v)", ev, pc.p.name, pc.id, ctx.Err(), pc.log)
		}
	}
}
