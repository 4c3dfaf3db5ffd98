// Package load is the load generator: it speaks WebSocket itself over raw
// TCP sockets (handshake from the handshake package, client frames masked
// with frame.Mask under fresh keys), or 4-byte length prefixes for the raw
// TCP baseline, so that it costs as little as possible per message and
// allocates nothing per message.
//
// Three modes: echo (C connections, each keeping W messages in flight),
// idle (N connections held open; the server's memory per connection) and
// upgrades (a new connection per echo; handshakes per second).
package load

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/db7c6739/ws/bench/internal/results"
	"github.com/db7c6739/ws/bench/internal/stats"
	"github.com/db7c6739/ws/frame"
)

// Config describes one run.
type Config struct {
	Addr      string        // host:port of the server
	Proto     string        // "ws", or "tcp" for the length-prefixed baseline
	Mode      string        // "echo", "idle" or "upgrades"
	Conns     int           // connections (echo, idle) or concurrent dialers (upgrades)
	InFlight  int           // messages in flight per connection (echo)
	Size      int           // payload bytes per message
	Duration  time.Duration // measured window (echo, upgrades)
	Warmup    time.Duration // unmeasured time before the window
	Settle    time.Duration // idle: wait after the last handshake before reading RSS
	Text      bool          // send text messages rather than binary
	Deflate   bool          // negotiate permessage-deflate and send compressed frames
	ServerPID int           // the server's process, for CPU and RSS; 0 to skip
	Label     string        // the lib column of the record
}

// Bounds on every run, so that no mistake in the flags runs away.
const (
	MaxDuration = 10 * time.Minute
	MaxConns    = 50_000
	MaxInFlight = 4096
	MaxSize     = 64 << 20
)

func (c *Config) check() error {
	switch {
	case c.Proto != "ws" && c.Proto != "tcp":
		return fmt.Errorf("load: proto %q, want ws or tcp", c.Proto)
	case c.Mode != "echo" && c.Mode != "idle" && c.Mode != "upgrades":
		return fmt.Errorf("load: mode %q, want echo, idle or upgrades", c.Mode)
	case c.Conns < 1 || c.Conns > MaxConns:
		return fmt.Errorf("load: %d connections, want 1..%d", c.Conns, MaxConns)
	case c.Mode == "echo" && (c.InFlight < 1 || c.InFlight > MaxInFlight):
		return fmt.Errorf("load: %d in flight, want 1..%d", c.InFlight, MaxInFlight)
	case c.Mode != "idle" && (c.Size < 0 || c.Size > MaxSize):
		return fmt.Errorf("load: size %d, want 0..%d", c.Size, MaxSize)
	case c.Mode != "idle" && (c.Duration <= 0 || c.Duration > MaxDuration):
		return fmt.Errorf("load: duration %v, want up to %v", c.Duration, MaxDuration)
	case c.Warmup < 0 || c.Warmup > MaxDuration || c.Settle < 0 || c.Settle > MaxDuration:
		return errors.New("load: warmup and settle must be between 0 and 10 minutes")
	case c.Text && c.Deflate:
		return errors.New("load: deflate sends a JSON-like message; -text adds nothing")
	}
	return nil
}

// Run runs one benchmark and returns its record. err is set when the run
// could not be made at all; failures during the run are counted in
// Record.Errors and the first of them is returned as runErr.
func Run(cfg Config) (rec results.Record, runErr, err error) {
	if err := cfg.check(); err != nil {
		return rec, nil, err
	}
	rec = results.Record{
		Lib: cfg.Label, Mode: cfg.Mode, Conns: cfg.Conns, InFlight: cfg.InFlight,
		Size: cfg.Size, Text: cfg.Text, Deflate: cfg.Deflate,
	}
	if cfg.ServerPID > 0 {
		rec.RSSBeforeKB, _ = procRSS(cfg.ServerPID)
	}
	switch cfg.Mode {
	case "idle":
		runErr, err = runIdle(cfg, &rec)
	case "upgrades":
		runErr, err = runUpgrades(cfg, &rec)
	default:
		runErr, err = runEcho(cfg, &rec)
	}
	round(&rec)
	return rec, runErr, err
}

func round(r *results.Record) {
	r3 := func(f *float64) {
		if math.IsNaN(*f) || math.IsInf(*f, 0) {
			*f = 0
		}
		*f = math.Round(*f*1000) / 1000
	}
	for _, f := range []*float64{&r.Seconds, &r.MsgsPerSec, &r.MBPerSec, &r.P50us, &r.P99us,
		&r.ServerCPU, &r.LoadCPU, &r.RSSPerConnB, &r.HandshakesPerSec} {
		r3(f)
	}
}

func opcode(text bool) frame.Opcode {
	if text {
		return frame.OpText
	}
	return frame.OpBinary
}

// newRun builds the message every connection sends.
func newRun(cfg Config) (*run, error) {
	r := &run{
		proto: cfg.Proto, inFlight: max(cfg.InFlight, 1), size: cfg.Size,
		op: opcode(cfg.Text), deflate: cfg.Deflate && cfg.Proto == "ws", base: time.Now(),
	}
	r.original = payload(cfg.Size, cfg.Text, cfg.Deflate)
	wire := r.original
	if r.deflate {
		var err error
		if wire, err = compress(r.original); err != nil {
			return nil, err
		}
	}
	r.tmpl = newTemplate(cfg.Proto, wire, r.op, r.deflate)
	return r, nil
}

func runEcho(cfg Config, rec *results.Record) (runErr, err error) {
	r, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	ncs, rests, failed, firstErr := dialAll(cfg.Conns, cfg.Addr, cfg.Proto, r.deflate)
	if len(ncs) == 0 {
		return nil, fmt.Errorf("load: no connection: %w", firstErr)
	}
	r.errors.Add(int64(failed))
	if firstErr != nil {
		r.firstErr.Store(&firstErr)
	}
	conns := make([]*echoConn, len(ncs))
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i, nc := range ncs {
		c := newEchoConn(r, nc, rests[i])
		conns[i] = c
		wg.Add(2)
		go func() { defer wg.Done(); c.readLoop(len(rests[i])) }()
		go func() { defer wg.Done(); c.writeLoop(done) }()
	}
	received := func() (n uint64) {
		for _, c := range conns {
			n += c.recv.Load()
		}
		return n
	}

	time.Sleep(cfg.Warmup)
	n0 := received()
	meter := startCPU(cfg.ServerPID)
	r.measuring.Store(true)
	time.Sleep(cfg.Duration)
	r.measuring.Store(false)
	n1 := received()
	rec.ServerCPU, rec.LoadCPU, _ = meter.stop()
	window := time.Since(meter.start)
	if cfg.ServerPID > 0 {
		rec.RSSAfterKB, _ = procRSS(cfg.ServerPID)
		rec.RSSPerConnB = float64(rec.RSSAfterKB-rec.RSSBeforeKB) * 1024 / float64(cfg.Conns)
	}

	r.stopping.Store(true)
	close(done)
	for _, c := range conns {
		_ = c.nc.SetDeadline(time.Now())
	}
	wg.Wait()
	for _, c := range conns {
		c.nc.Close()
	}

	var h stats.Histogram
	for _, c := range conns {
		h.Merge(&c.hist)
	}
	rec.Seconds = window.Seconds()
	rec.Msgs = int64(n1 - n0)
	rec.MsgsPerSec = float64(rec.Msgs) / rec.Seconds
	rec.MBPerSec = rec.MsgsPerSec * float64(cfg.Size) / 1e6
	rec.P50us = float64(h.Quantile(0.50)) / 1e3
	rec.P99us = float64(h.Quantile(0.99)) / 1e3
	rec.Errors = r.errors.Load()
	if p := r.firstErr.Load(); p != nil {
		runErr = *p
	}
	return runErr, nil
}

func runIdle(cfg Config, rec *results.Record) (runErr, err error) {
	// One connection first, closed again, so that the code and data the
	// handshake path touches once per process are resident before the
	// baseline is read and do not count against the idle connections.
	if nc, _, err := dial(cfg.Addr, cfg.Proto, cfg.Deflate); err == nil {
		nc.Close()
		time.Sleep(100 * time.Millisecond)
		if cfg.ServerPID > 0 {
			rec.RSSBeforeKB, _ = procRSS(cfg.ServerPID)
		}
	}
	meter := startCPU(cfg.ServerPID)
	start := time.Now()
	ncs, _, failed, firstErr := dialAll(cfg.Conns, cfg.Addr, cfg.Proto, cfg.Deflate)
	rec.Seconds = time.Since(start).Seconds()
	defer func() {
		for _, nc := range ncs {
			nc.Close()
		}
	}()
	rec.Handshakes = int64(len(ncs))
	rec.HandshakesPerSec = float64(len(ncs)) / rec.Seconds
	rec.Errors = int64(failed)
	time.Sleep(cfg.Settle)
	rec.ServerCPU, rec.LoadCPU, _ = meter.stop()
	if cfg.ServerPID > 0 && len(ncs) > 0 {
		rec.RSSAfterKB, _ = procRSS(cfg.ServerPID)
		rec.RSSPerConnB = float64(rec.RSSAfterKB-rec.RSSBeforeKB) * 1024 / float64(len(ncs))
	}
	if len(ncs) == 0 {
		return firstErr, fmt.Errorf("load: no connection: %w", firstErr)
	}
	return firstErr, nil
}

// closeTimeout bounds the wait for the server's side of a close.
const closeTimeout = 2 * time.Second

func runUpgrades(cfg Config, rec *results.Record) (runErr, err error) {
	r, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	type worker struct {
		hist  stats.Histogram
		count int64
		keys  keySource
	}
	workers := make([]*worker, cfg.Conns)
	var wg sync.WaitGroup
	begin := time.Now()
	measureFrom := begin.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	meterCh := make(chan *cpuMeter, 1)
	go func() {
		time.Sleep(time.Until(measureFrom))
		meterCh <- startCPU(cfg.ServerPID)
	}()
	for i := range workers {
		w := &worker{}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, len(r.tmpl.wire)+64)
			rbuf := make([]byte, max(64<<10, 2*len(r.tmpl.wire)))
			for time.Now().Before(end) {
				t0 := time.Now()
				if err := upgradeOnce(cfg, r, &w.keys, buf, rbuf); err != nil {
					r.fail(err)
					time.Sleep(10 * time.Millisecond) // do not spin on a dead server
					continue
				}
				if t0.After(measureFrom) && time.Now().Before(end) {
					w.count++
					w.hist.Record(time.Since(t0))
				}
			}
		}()
	}
	wg.Wait()
	meter := <-meterCh
	rec.ServerCPU, rec.LoadCPU, _ = meter.stop()
	var h stats.Histogram
	for _, w := range workers {
		h.Merge(&w.hist)
		rec.Handshakes += w.count
	}
	rec.Seconds = cfg.Duration.Seconds()
	rec.Msgs = rec.Handshakes
	rec.MsgsPerSec = float64(rec.Msgs) / rec.Seconds
	rec.MBPerSec = rec.MsgsPerSec * float64(cfg.Size) / 1e6
	rec.HandshakesPerSec = rec.MsgsPerSec
	rec.P50us = float64(h.Quantile(0.50)) / 1e3
	rec.P99us = float64(h.Quantile(0.99)) / 1e3
	rec.Errors = r.errors.Load()
	if p := r.firstErr.Load(); p != nil {
		runErr = *p
	}
	return runErr, nil
}

// upgradeOnce opens a connection, echoes one message and closes: for
// WebSocket with a close frame, waiting for the server's close frame and
// its end of the connection, so that the server closes TCP first
// (RFC 6455 §7.1.1) and the client keeps no TIME_WAIT port; for tcp with a
// half-close, the same way round.
func upgradeOnce(cfg Config, r *run, keys *keySource, buf, rbuf []byte) error {
	nc, rest, err := dial(cfg.Addr, cfg.Proto, r.deflate)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	c := &echoConn{r: r, nc: nc, sentAt: make([]atomic.Int64, 1)}
	if _, err := nc.Write(r.tmpl.appendTo(buf[:0], keys)); err != nil {
		return err
	}
	start, end := 0, copy(rbuf, rest)
	for c.recv.Load() == 0 {
		if start, err = c.parse(rbuf[:end], start); err != nil {
			return err
		}
		if c.recv.Load() > 0 {
			break
		}
		if start == end {
			start, end = 0, 0
		} else if len(rbuf)-end < frame.MaxHeaderSize {
			end = copy(rbuf, rbuf[start:end])
			start = 0
		}
		n, err := nc.Read(rbuf[end:])
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		end += n
	}
	_ = nc.SetDeadline(time.Now().Add(closeTimeout))
	if cfg.Proto == "tcp" {
		if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
			return err
		}
	} else {
		payload, _ := frame.AppendClosePayload(nil, frame.CloseNormalClosure, "")
		cl := template{wire: append(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpClose, Masked: true, Length: int64(len(payload))}), payload...)}
		cl.keyAt, cl.payload = len(cl.wire)-len(payload)-4, len(cl.wire)-len(payload)
		if _, err := nc.Write(cl.appendTo(buf[:0], keys)); err != nil {
			return err
		}
	}
	// Drain until the server ends the connection (its close frame first).
	for {
		if _, err := nc.Read(rbuf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return errors.New("server did not close the connection")
			}
			return nil
		}
	}
}
