//go:build !js

package wsproto

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// The idle-connection benchmark runs its clients in a child process (this
// test binary, re-executed with idleClientEnv set), so that only the
// server's memory is measured.
const idleClientEnv = "WSPROTO_IDLE_CLIENT"

func TestMain(m *testing.M) {
	if spec := os.Getenv(idleClientEnv); spec != "" {
		os.Exit(idleClients(spec))
	}
	code := m.Run()
	if code == 0 {
		code = checkNoConnGoroutines()
	}
	os.Exit(code)
}

// checkNoConnGoroutines fails the run if, once every test has ended, a
// goroutine is still running the package's code: a leak check that holds
// however the tests ran, in parallel too, where counting goroutines around
// one test cannot.
func checkNoConnGoroutines() int {
	var stacks string
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); <-tick.C {
		buf := make([]byte, 1<<20)
		stacks = ""
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "ws/wsproto.(*") && !strings.Contains(g, "wsproto.checkNoConnGoroutines") {
				stacks += g + "\n\n"
			}
		}
		if stacks == "" {
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "goroutines left running the package's code:\n%s", stacks)
	return 1
}

// idleClients dials "ws|tcp,addr,n": n connections, upgraded for ws, and
// holds them open until stdin closes.
func idleClients(spec string) int {
	var kind, addr string
	var n int
	parts := bytes.Split([]byte(spec), []byte(","))
	if len(parts) != 3 {
		return 2
	}
	kind, addr = string(parts[0]), string(parts[1])
	n, _ = strconv.Atoi(string(parts[2]))
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = nc
			if kind == "tcp" {
				return
			}
			ext := ""
			switch kind {
			case "deflate":
				ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
			case "deflate-nocontext":
				ext = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
			}
			_, err = io.WriteString(nc, "GET / HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+ext+"\r\n")
			if err == nil {
				var resp *http.Response
				resp, err = http.ReadResponse(bufio.NewReader(nc), nil)
				if err == nil && resp.StatusCode != http.StatusSwitchingProtocols {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			if err == nil && kind == "ws-echoed" {
				// One masked "hi" and its echo, read whole (4 bytes).
				_, err = nc.Write([]byte{0x81, 0x82, 0, 0, 0, 0, 'h', 'i'})
				if err == nil {
					_, err = io.ReadFull(nc, make([]byte, 4))
				}
			}
			if err == nil && strings.HasPrefix(kind, "deflate") {
				// "Hello" compressed (RFC 7692 §7.2.3.1), under a zero
				// mask, and its echo, whatever its compressed length.
				_, err = nc.Write([]byte{0xc1, 0x87, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})
				head := make([]byte, 2)
				if err == nil {
					_, err = io.ReadFull(nc, head)
				}
				if err == nil {
					_, err = io.ReadFull(nc, make([]byte, head[1]&0x7f))
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "idle client:", err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

func idleConns() int {
	if n, err := strconv.Atoi(os.Getenv("IDLE_CONNS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

func serverMemory() (heapAndStacks uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if os.Getenv("IDLE_DEBUG") != "" {
		fmt.Println("heap", ms.HeapInuse, "stack", ms.StackInuse)
	}
	return ms.HeapInuse + ms.StackInuse
}

// BenchmarkIdleConn measures the server's memory per idle connection
// (heap in use plus goroutine stacks, after GC) with IDLE_CONNS (default
// 10,000) clients connected from a child process and each server goroutine
// blocked in a read: a plain TCP server whose goroutine blocks in Read with a
// 256-byte buffer (the size of a Conn's own read buffer), wsproto
// (UpgradeConn, then ReadMessage), the same with the heartbeat on
// (PingInterval), wsproto after one message echoed on
// each connection, and the same with permessage-deflate, with context
// takeover both ways and without; and behind net/http, served in the
// handler after Upgrade ("http", as most servers are written) or through
// Handler ("http-handler"). Run each kind in a process of its own, where memory
// freed by an earlier kind cannot flatter a later one:
//
//	go test -c -o idle.test ./wsproto
//	./idle.test -test.run='^$' -test.bench='IdleConn/ws$' -test.benchtime=1x
func BenchmarkIdleConn(b *testing.B) {
	for _, kind := range []string{"tcp", "ws", "ws-heartbeat", "ws-echoed", "deflate", "deflate-nocontext", "http", "http-handler"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				b.ReportMetric(measureIdle(b, kind, idleConns()), "B/conn")
			}
		})
	}
}

// idleServe is a connection's handler: it echoes one message if asked to,
// then waits in a read. It is kept small, like the frames of a lean
// handler, because the whole call depth decides the goroutine's stack.
func idleServe(c *Conn, echo bool, ready *sync.WaitGroup, failed *atomic.Int64) {
	ctx := context.Background()
	if echo {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err == nil {
			err = c.WriteMessage(ctx, typ, msg)
		}
		if err != nil {
			failed.Add(1)
		}
	}
	ready.Done()
	_, _, _ = c.ReadMessage(ctx, nil)
}

func measureIdle(b *testing.B, kind string, n int) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()

	var mu sync.Mutex
	var closers []func()
	var failed atomic.Int64
	var blocked sync.WaitGroup
	blocked.Add(n)
	track := func(c *Conn) {
		mu.Lock()
		closers = append(closers, func() { c.CloseNow() })
		mu.Unlock()
	}
	if strings.HasPrefix(kind, "http") {
		h := Handler(nil, func(c *Conn, _ *http.Request) {
			track(c)
			idleServe(c, false, &blocked, &failed)
		})
		if kind == "http" {
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := Upgrade(w, r, nil)
				if err != nil {
					failed.Add(1)
					blocked.Done()
					return
				}
				track(c)
				idleServe(c, false, &blocked, &failed)
			})
		}
		srv := &http.Server{Handler: h}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	}
	go func() {
		if strings.HasPrefix(kind, "http") {
			return
		}
		for range n {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			switch kind {
			case "tcp":
				mu.Lock()
				closers = append(closers, func() { nc.Close() })
				mu.Unlock()
				go func() {
					buf := make([]byte, 256)
					blocked.Done()
					_, _ = nc.Read(buf)
				}()
			default:
				var opts *UpgradeOptions
				switch {
				case strings.HasPrefix(kind, "deflate"):
					opts = &UpgradeOptions{Compression: &CompressionOptions{Threshold: -1}}
				case kind == "ws-heartbeat":
					// Its timer armed, not due during the measurement.
					opts = &UpgradeOptions{PingInterval: time.Hour}
				}
				go func() {
					c, err := UpgradeConn(nc, opts)
					if err != nil {
						failed.Add(1)
						blocked.Done()
						return
					}
					mu.Lock()
					closers = append(closers, func() { c.CloseNow() })
					mu.Unlock()
					idleServe(c, kind != "ws" && kind != "ws-heartbeat", &blocked, &failed)
				}()
			}
		}
	}()

	before := serverMemory()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), idleClientEnv+"="+kind+","+ln.Addr().String()+","+strconv.Itoa(n))
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = child.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("idle clients failed: %q %v", line, err)
	}
	blocked.Wait()
	waitParked(n) // every goroutine reaches its read
	after := serverMemory()
	if failed.Load() > 0 {
		b.Errorf("%d connections failed", failed.Load())
	}

	mu.Lock()
	for _, c := range closers {
		c()
	}
	mu.Unlock()
	return float64(after-before) / float64(n)
}

// TestConnSize guards the size of a Conn, which every connection holds
// while idle, with room: BenchmarkUpgradeConn reports the exact figure
// (632 bytes on Go 1.26 with its 8-byte header fill the 640-byte size
// class; one field more moves it to 704), and BenchmarkIdleConn what a
// connection costs in all.
func TestConnSize(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(Conn{}), uintptr(768))
}

// waitParked waits, up to 10 s, until n goroutines are parked waiting on
// the network: the servers' reads, which begin just after they say they
// are ready.
func waitParked(n int) {
	buf := make([]byte, 64<<20)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); <-tick.C {
		if strings.Count(string(buf[:runtime.Stack(buf, true)]), "[IO wait") >= n {
			return
		}
	}
}
