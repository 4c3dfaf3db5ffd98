package http2test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
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
// WS_BENCH_CPUPROFILE=file and WS_BENCH_MEMPROFILE=file profile the server.
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

// benchServer is the benchmark server process.
type benchServer struct {
	addr string
}

var (
	benchOnce  sync.Once
	bench      benchServer
	benchErr   error
	benchStdin io.WriteCloser
)

// startBenchServer starts the server process once for all benchmarks; it
// ends with the test binary (its stdin closes).
func startBenchServer(b *testing.B) *benchServer {
	benchOnce.Do(func() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "WS_HTTP2TEST_SERVER=bench", "GOMAXPROCS=1")
		// The server runs until this pipe closes, with the test binary.
		if benchStdin, benchErr = cmd.StdinPipe(); benchErr != nil {
			return
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			benchErr = err
			return
		}
		if benchErr = cmd.Start(); benchErr != nil {
			return
		}
		addr, err := bufio.NewReader(stdout).ReadString('\n')
		bench.addr, benchErr = strings.TrimSpace(addr), err
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return &bench
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

// h2cTransport is an HTTP/2 client transport in cleartext.
func h2cTransport() *http2.Transport {
	return &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
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

// open opens l.conns WebSockets to the server.
func (s *benchServer) open(b *testing.B, l layout) []*wsproto.Conn {
	ctx := context.Background()
	var shared *http2.Transport
	if l.share {
		shared = h2cTransport()
		b.Cleanup(shared.CloseIdleConnections)
	}
	conns := make([]*wsproto.Conn, l.conns)
	for i := range conns {
		opts := &wsproto.DialOptions{}
		if l.http2 {
			opts.HTTP2Transport = shared
			if !l.share {
				t := h2cTransport()
				b.Cleanup(t.CloseIdleConnections)
				opts.HTTP2Transport = t
			}
		}
		c, resp, err := wsproto.Dial(ctx, "ws://"+s.addr+"/ws", opts)
		if err != nil {
			b.Fatal(err)
		}
		if want := map[bool]int{false: 1, true: 2}[l.http2]; resp.ProtoMajor != want {
			b.Fatalf("dialed over %s", resp.Proto)
		}
		conns[i] = c
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.CloseNow()
		}
	})
	return conns
}

// BenchmarkEcho measures echo round trips: messages a second, and what the
// server allocates per message.
func BenchmarkEcho(b *testing.B) {
	s := startBenchServer(b)
	for _, size := range []int{64, 1 << 10, 64 << 10} {
		for _, l := range layouts {
			b.Run(fmt.Sprintf("%s/%dB", l.name, size), func(b *testing.B) {
				conns := s.open(b, l)
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
// stacks, with 1,000 of them open.
func BenchmarkIdle(b *testing.B) {
	s := startBenchServer(b)
	const n = 1000
	for _, l := range []layout{
		{"http1", false, n, false},
		{"http2/own-conns", true, n, false},
		{"http2/shared", true, n, true},
	} {
		b.Run(l.name, func(b *testing.B) {
			for range b.N {
				before := s.mem(b)
				conns := s.open(b, l)
				ctx := context.Background()
				for _, c := range conns {
					// One message each, so that every connection has
					// written and read once.
					if err := c.WriteMessage(ctx, wsproto.MessageText, []byte("hello")); err != nil {
						b.Fatal(err)
					}
					if _, _, err := c.ReadMessage(ctx, nil); err != nil {
						b.Fatal(err)
					}
				}
				after := s.mem(b)
				b.ReportMetric(float64(int64(after.HeapInuse+after.StackInuse)-int64(before.HeapInuse+before.StackInuse))/n, "server-B/conn")
				b.ReportMetric(float64(after.Goroutines-before.Goroutines)/n, "server-goroutines/conn")
				for _, c := range conns {
					c.CloseNow()
				}
			}
		})
	}
}
