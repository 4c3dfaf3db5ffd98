// Package browser starts headless Chromium and drives it through the Chrome
// DevTools Protocol, for the examples' tests in a real browser.
//
// The DevTools endpoint is a WebSocket server, so every test that uses this
// package is also an interop test of our client against Chromium's server:
// commands go out with wsproto.Conn.WriteMessage, answers and events come
// back through ReadMessage. Only the few commands the tests need are
// wrapped (Target, Runtime.evaluate, Input.insertText,
// Page.captureScreenshot).
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/wsproto"
)

// ErrNotFound is returned by Start when no Chromium binary can be found.
var ErrNotFound = errors.New("browser: no chromium binary (set CHROMIUM, or install Debian's chromium)")

// Binary returns the path of the Chromium to use: $CHROMIUM if set, else
// the first of chromium, chromium-browser, google-chrome on PATH.
func Binary() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Browser is a running headless Chromium with a DevTools connection.
type Browser struct {
	cmd    *exec.Cmd
	dir    string        // the profile directory, removed by Close
	stderr *bytes.Buffer // Chromium's log, for failure messages
	conn   *wsproto.Conn
	done   chan struct{} // closed when the reader ends
	exited chan struct{} // closed when the process has exited

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan response
	readErr error
}

type response struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Start launches Chromium headless with a fresh temporary profile and a
// DevTools port the kernel picks, and connects to it. The flags keep it off
// the network (no background requests, updates or sync) and work as root
// in a container (--no-sandbox).
func Start(ctx context.Context) (*Browser, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ws-chromium-")
	if err != nil {
		return nil, err
	}
	b := &Browser{dir: dir, stderr: &bytes.Buffer{}, pending: map[int64]chan response{}, done: make(chan struct{}), exited: make(chan struct{})}
	b.cmd = exec.Command(bin,
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--hide-scrollbars", "--mute-audio",
		"--window-size=800,600",
		"--user-data-dir="+dir, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"about:blank")
	b.cmd.Stderr = &lockedWriter{w: b.stderr}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("browser: start %s: %w", bin, err)
	}
	go func() {
		_ = b.cmd.Wait()
		close(b.exited)
	}()
	url, err := b.endpoint(ctx)
	if err == nil {
		b.conn, _, err = wsproto.Dial(ctx, url, nil)
	}
	if err != nil {
		b.kill()
		return nil, fmt.Errorf("browser: %w; chromium said:\n%s", err, b.Log())
	}
	go b.read()
	return b, nil
}

// endpoint waits for Chromium to write the DevTools port and path into the
// profile directory and returns the browser's WebSocket URL.
func (b *Browser) endpoint(ctx context.Context) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		data, err := os.ReadFile(filepath.Join(b.dir, "DevToolsActivePort"))
		if err == nil {
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) == 2 {
				return "ws://127.0.0.1:" + lines[0] + lines[1], nil
			}
		}
		select {
		case <-b.exited:
			return "", errors.New("chromium exited before DevTools was ready")
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for DevTools: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// read dispatches answers to the calls waiting for them; events are
// dropped.
func (b *Browser) read() {
	defer close(b.done)
	var buf []byte
	for {
		_, msg, err := b.conn.ReadMessage(context.Background(), buf)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		buf = msg
		var m struct {
			ID *int64 `json:"id"`
			response
		}
		if json.Unmarshal(msg, &m) != nil || m.ID == nil {
			continue
		}
		b.mu.Lock()
		ch := b.pending[*m.ID]
		delete(b.pending, *m.ID)
		b.mu.Unlock()
		if ch != nil {
			// The raw result aliases buf, which the next read reuses.
			m.Result = bytes.Clone(m.Result)
			ch <- m.response
		}
	}
}

// Call sends a DevTools command, to the browser if session is "" or to the
// page attached as session, and decodes its result into result (if not
// nil).
func (b *Browser) Call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	if b.readErr != nil {
		err := b.readErr
		b.mu.Unlock()
		return fmt.Errorf("browser: %s: connection lost: %w", method, err)
	}
	b.nextID++
	id := b.nextID
	ch := make(chan response, 1)
	b.pending[id] = ch
	b.mu.Unlock()

	cmd := struct {
		ID        int64  `json:"id"`
		SessionID string `json:"sessionId,omitempty"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
	}{id, session, method, params}
	msg, err := json.Marshal(cmd)
	if err == nil {
		err = b.conn.WriteMessage(ctx, wsproto.MessageText, msg)
	}
	if err != nil {
		b.forget(id)
		return fmt.Errorf("browser: %s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("browser: %s: connection lost", method)
		}
		if r.Error != nil {
			return fmt.Errorf("browser: %s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-ctx.Done():
		b.forget(id)
		return fmt.Errorf("browser: %s: %w", method, ctx.Err())
	}
}

func (b *Browser) forget(id int64) {
	b.mu.Lock()
	delete(b.pending, id)
	b.mu.Unlock()
}

// Log returns what Chromium wrote to its standard error so far, but for
// its complaints that there is no D-Bus, which a container never has.
func (b *Browser) Log() string {
	w := b.cmd.Stderr.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	var kept []string
	for _, line := range strings.Split(b.stderr.String(), "\n") {
		if !strings.Contains(line, "dbus") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// Close asks Chromium to quit, closes the DevTools connection, waits for the
// process (killing it if it lingers) and removes the profile.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.Call(ctx, "", "Browser.close", nil, nil)
	_ = b.conn.Close(frame.CloseNormalClosure, "")
	<-b.done
	b.kill()
	return nil
}

// kill ends the process we started, by its PID, if it has not exited, and
// removes the profile directory.
func (b *Browser) kill() {
	select {
	case <-b.exited:
	case <-time.After(3 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	os.RemoveAll(b.dir)
}

// lockedWriter lets Log read Chromium's stderr while it is being written.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
