package http2test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/db7c6739/ws/wsproto"
	"golang.org/x/net/http2"
)

// The benchmarks compare WebSockets over HTTP/2 (h2c) with the same over
// HTTP/1.1, on one server process of their own (this test binary, run as
// serveForBenchmarks), so that what the server allocates and holds is
// measured apart from the clients:
//
//	cd http2test && go test -run='^$' -bench=. -benchtime=2s
//
// WS_BENCH_CPUPROFILE=file and WS_BENCH_MEMPROFILE=file profile the
// server; WS_BENCH_HEAPPROFILE=prefix saves its heap with the idle
// WebSockets open.
//
// Both are cleartext, so that TLS, the same for both, does not hide the
// difference.

// memStats is what the benchmark server reports of itself at /mem, after
// a collection.
type memStats struct {
	HeapInuse, StackInuse, Mallocs uint64
	Goroutines                     int
}

// serveForBenchmarks serves an echo at /ws over HTTP/1.1 and h2c, and its
// memory at /mem, on a loopback port it prints, until stdin closes.
func serveForBenchmarks() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", echo(nil, nil))
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(memStats{ms.HeapInuse, ms.StackInuse, ms.Mallocs, runtime.NumGoroutine()})
	})
	mux.HandleFunc("/heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		_ = pprof.Lookup("heap").WriteTo(w, 0)
	})
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	hs := &http.Server{Handler: mux, Protocols: &p}
	// WS_BENCH_CPUPROFILE and WS_BENCH_MEMPROFILE name files for the
	// server's profiles, written when it ends.
	if f := os.Getenv("WS_BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			panic(err)
		}
		_ = pprof.StartCPUProfile(out)
		defer pprof.StopCPUProfile()
	}
	go hs.Serve(ln)
	fmt.Println(ln.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	hs.Close()
	if f := os.Getenv("WS_BENCH_MEMPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			panic(err)
		}
		_ = pprof.Lookup("allocs").WriteTo(out, 0)
		out.Close()
	}
}

// benchServer is a benchmark server process.
type benchServer struct {
	addr string
}

// startBenchServer starts a server process, which ends with b.
func startBenchServer(b *testing.B) *benchServer {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WS_HTTP2TEST_SERVER=bench", "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe() // the server runs until it closes
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return &benchServer{addr: strings.TrimSpace(addr)}
}

func (s *benchServer) mem(b *testing.B) memStats {
	resp, err := http.Get("http://" + s.addr + "/mem")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var ms memStats
	if err := json.NewDecoder(resp.Body).Decode(&ms); err != nil {
		b.Fatal(err)
	}
	return ms
}

// saveHeap writes the server's heap profile, with the connections open,
// to file.
func (s *benchServer) saveHeap(b *testing.B, file string) {
	resp, err := http.Get("http://" + s.addr + "/heap")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, resp.Body); err != nil {
		b.Fatal(err)
	}
}

// layout is how a benchmark's WebSockets reach the server.
type layout struct {
	name  string
	http2 bool
	conns int  // WebSockets
	share bool // all on one HTTP/2 connection
}

var layouts = []layout{
	{"http1/1conn", false, 1, false},
	{"http2/1conn", true, 1, false},
	{"http1/64conns", false, 64, false},
	{"http2/64conns", true, 64, false},
	{"http2/64streams", true, 64, true},
}

// open opens l.conns WebSockets to the server; close closes them and the
// HTTP/2 connections under them.
func (s *benchServer) open(b *testing.B, l layout) (conns []*wsproto.Conn, close func()) {
	ctx := context.Background()
	var transports []*http2.Transport
	newTransport := func() *http2.Transport {
		t := h2cTransport()
		transports = append(transports, t)
		return t
	}
	var shared *http2.Transport
	if l.share {
		shared = newTransport()
	}
	close = func() {
		for _, c := range conns {
			c.CloseNow()
		}
		for _, t := range transports {
			t.CloseIdleConnections()
		}
	}
	conns = make([]*wsproto.Conn, l.conns)
	for i := range conns {
		opts := &wsproto.DialOptions{}
		if l.http2 {
			opts.HTTP2Transport = shared
			if !l.share {
				opts.HTTP2Transport = newTransport()
			}
		}
		c, resp, err := wsproto.Dial(ctx, "ws://"+s.addr+"/ws", opts)
		if err != nil {
			close()
			b.Fatal(err)
		}
		if want := map[bool]int{false: 1, true: 2}[l.http2]; resp.ProtoMajor != want {
			close()
			b.Fatalf("dialed over %s", resp.Proto)
		}
		conns[i] = c
	}
	return conns, close
}

// BenchmarkEcho measures echo round trips: messages a second, and what the
// server allocates per message.
func BenchmarkEcho(b *testing.B) {
	s := startBenchServer(b)
	for _, size := range []int{64, 1 << 10, 64 << 10} {
		for _, l := range layouts {
			b.Run(fmt.Sprintf("%s/%dB", l.name, size), func(b *testing.B) {
				conns, closeAll := s.open(b, l)
				defer closeAll()
				msg := bytes.Repeat([]byte("x"), size)
				ctx := context.Background()
				before := s.mem(b)
				b.SetBytes(int64(size))
				b.ResetTimer()
				var left atomic.Int64
				left.Store(int64(b.N))
				var wg sync.WaitGroup
				var failed atomic.Pointer[error]
				for _, c := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var buf []byte
						for left.Add(-1) >= 0 {
							if err := c.WriteMessage(ctx, wsproto.MessageBinary, msg); err != nil {
								failed.Store(&err)
								return
							}
							_, got, err := c.ReadMessage(ctx, buf)
							if err != nil {
								failed.Store(&err)
								return
							}
							buf = got
						}
					}()
				}
				wg.Wait()
				elapsed := b.Elapsed()
				b.StopTimer()
				if err := failed.Load(); err != nil {
					b.Fatal(*err)
				}
				after := s.mem(b)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
				// The /mem request itself allocates a little.
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "server-allocs/msg")
			})
		}
	}
}

// BenchmarkIdle measures what an idle WebSocket costs the server, heap and
// stacks (in use, after a collection), with 1,000 of them open, each
// having echoed one message, in a fresh server process each time: over
// HTTP/1.1; over HTTP/2 with a connection each; and over HTTP/2 sharing
// connections (net/http allows 250 streams on one, so four).
func BenchmarkIdle(b *testing.B) {
	const n = 1000
	for _, l := range []layout{
		{"http1", false, n, false},
		{"http2/own-conns", true, n, false},
		{"http2/shared", true, n, true},
	} {
		b.Run(l.name, func(b *testing.B) {
			for range b.N {
				s := startBenchServer(b) // a fresh process: no memory of an earlier run
				before := s.mem(b)
				conns, closeAll := s.open(b, l)
				ctx := context.Background()
				for _, c := range conns {
					if err := c.WriteMessage(ctx, wsproto.MessageText, []byte("hello")); err != nil {
						b.Fatal(err)
					}
					if _, _, err := c.ReadMessage(ctx, nil); err != nil {
						b.Fatal(err)
					}
				}
				after := s.mem(b)
				if f := os.Getenv("WS_BENCH_HEAPPROFILE"); f != "" {
					s.saveHeap(b, f+"."+strings.ReplaceAll(l.name, "/", "-"))
				}
				closeAll()
				b.ReportMetric(float64(int64(after.HeapInuse+after.StackInuse)-int64(before.HeapInuse+before.StackInuse))/n, "server-B/conn")
				b.ReportMetric(float64(after.Goroutines-before.Goroutines)/n, "server-goroutines/conn")
			}
		})
	}
}
