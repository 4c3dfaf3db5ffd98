// Command load drives one echo server and prints one CSV line of results
// on stdout (see internal/results for the columns) and a human summary on
// stderr.
//
//	load -addr 127.0.0.1:PORT [-tcp] -c 64 -w 8 -size 1024 -d 10s -warmup 2s [-text] [-deflate] [-server-pid PID]
//	load -addr ... -idle 10000 [-settle 2s]
//	load -addr ... -upgrades -c 4 -d 10s
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/db7c6739/ws/bench/internal/load"
	"github.com/db7c6739/ws/bench/internal/results"
)

func main() {
	var cfg load.Config
	flag.StringVar(&cfg.Addr, "addr", "", "server address, host:port (required)")
	tcp := flag.Bool("tcp", false, "speak the raw TCP baseline (4-byte length prefixes) instead of WebSocket")
	flag.IntVar(&cfg.Conns, "c", 1, "connections (echo), or concurrent dialers (-upgrades)")
	flag.IntVar(&cfg.InFlight, "w", 1, "messages in flight per connection")
	flag.IntVar(&cfg.Size, "size", 64, "payload bytes per message")
	flag.DurationVar(&cfg.Duration, "d", 5*time.Second, fmt.Sprintf("measured duration (at most %v)", load.MaxDuration))
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured warmup before the measured window")
	flag.BoolVar(&cfg.Text, "text", false, "send text messages (binary by default)")
	flag.BoolVar(&cfg.Deflate, "deflate", false, "negotiate permessage-deflate (no context takeover) and send a JSON-like message pre-compressed with compress/flate")
	flag.IntVar(&cfg.ServerPID, "server-pid", 0, "the server's PID, for its CPU use and RSS")
	idle := flag.Int("idle", 0, "idle mode: open this many connections, hold them and report the server's RSS per connection")
	flag.DurationVar(&cfg.Settle, "settle", 2*time.Second, "idle mode: wait this long after the last handshake before reading RSS")
	upgrades := flag.Bool("upgrades", false, "upgrade mode: a new connection per echo; reports handshakes/s")
	flag.StringVar(&cfg.Label, "label", "", "value of the lib column")
	header := flag.Bool("header", false, "print the CSV header line first")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the load generator to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	if cfg.Addr == "" {
		fmt.Fprintln(os.Stderr, "load: -addr is required")
		os.Exit(2)
	}
	cfg.Proto, cfg.Mode = "ws", "echo"
	if *tcp {
		cfg.Proto = "tcp"
	}
	switch {
	case *idle > 0 && *upgrades:
		fmt.Fprintln(os.Stderr, "load: -idle and -upgrades exclude each other")
		os.Exit(2)
	case *idle > 0:
		cfg.Mode, cfg.Conns = "idle", *idle
	case *upgrades:
		cfg.Mode = "upgrades"
	}

	rec, runErr, err := load.Run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if *header {
		fmt.Println(strings.Join(results.Header, ","))
	}
	if err := results.NewWriter(os.Stdout, false).Write(rec); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, Summary(rec))
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "load: first error:", runErr)
	}
}

// Summary is the human line for a record.
func Summary(r results.Record) string {
	switch r.Mode {
	case "idle":
		return fmt.Sprintf("%s idle: %d conns, server RSS %d -> %d KiB = %.0f B/conn, %d errors",
			r.Lib, r.Handshakes, r.RSSBeforeKB, r.RSSAfterKB, r.RSSPerConnB, r.Errors)
	case "upgrades":
		return fmt.Sprintf("%s upgrades: %.0f/s, p50 %.0f µs, p99 %.0f µs, server CPU %.0f%%, load CPU %.0f%%, %d errors",
			r.Lib, r.HandshakesPerSec, r.P50us, r.P99us, r.ServerCPU, r.LoadCPU, r.Errors)
	}
	return fmt.Sprintf("%s echo %dx%dB w%d: %.0f msg/s, %.2f MB/s one way, p50 %.0f µs, p99 %.0f µs, server CPU %.0f%%, load CPU %.0f%%, RSS/conn %.0f B, %d errors",
		r.Lib, r.Conns, r.Size, r.InFlight, r.MsgsPerSec, r.MBPerSec, r.P50us, r.P99us, r.ServerCPU, r.LoadCPU, r.RSSPerConnB, r.Errors)
}
