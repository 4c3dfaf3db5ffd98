// Package results is the record of one benchmark run and its CSV form: the
// load generator prints one record per run, the harness collects them in
// results/results.csv and reads them back for the table and the charts.
package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Record is one run of the load generator against one server.
//
// Throughput counts messages echoed back during the measured window (after
// warmup). MBPerSec is payload bytes echoed back per second, one way (the
// same number of bytes went out), in 10^6 bytes; for deflate runs it counts
// the uncompressed payload. CPU figures are percent of one core over the
// measured window. RSS figures are the server's VmRSS.
type Record struct {
	Round    int    // harness round, 0 for a lone run
	Scenario string // harness scenario name, "" for a lone run
	Lib      string // server label

	Mode     string // echo, idle or upgrades
	Conns    int
	InFlight int
	Size     int // payload bytes per message
	Text     bool
	Deflate  bool

	Seconds    float64 // length of the measured window
	Msgs       int64   // messages echoed in the window
	MsgsPerSec float64
	MBPerSec   float64
	P50us      float64 // round-trip latency; for upgrades, dial to echo
	P99us      float64
	Errors     int64

	ServerCPU float64 // percent of one core
	LoadCPU   float64 // percent of one core

	RSSBeforeKB int64
	RSSAfterKB  int64
	RSSPerConnB float64 // (after-before)/conns, in bytes

	Handshakes       int64
	HandshakesPerSec float64
}

// Header is the CSV header line, in the order of Record's fields.
var Header = []string{
	"round", "scenario", "lib",
	"mode", "conns", "inflight", "size", "text", "deflate",
	"seconds", "msgs", "msgs_per_s", "mb_per_s", "p50_us", "p99_us", "errors",
	"server_cpu_pct", "load_cpu_pct",
	"rss_before_kb", "rss_after_kb", "rss_per_conn_b",
	"handshakes", "handshakes_per_s",
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Fields returns r as CSV fields, in Header order; floats in the shortest
// form that reads back exactly.
func (r Record) Fields() []string {
	r3 := ftoa
	return []string{
		strconv.Itoa(r.Round), r.Scenario, r.Lib,
		r.Mode, strconv.Itoa(r.Conns), strconv.Itoa(r.InFlight), strconv.Itoa(r.Size),
		strconv.FormatBool(r.Text), strconv.FormatBool(r.Deflate),
		r3(r.Seconds), strconv.FormatInt(r.Msgs, 10), r3(r.MsgsPerSec), r3(r.MBPerSec),
		r3(r.P50us), r3(r.P99us), strconv.FormatInt(r.Errors, 10),
		r3(r.ServerCPU), r3(r.LoadCPU),
		strconv.FormatInt(r.RSSBeforeKB, 10), strconv.FormatInt(r.RSSAfterKB, 10), r3(r.RSSPerConnB),
		strconv.FormatInt(r.Handshakes, 10), r3(r.HandshakesPerSec),
	}
}

// Parse turns CSV fields in Header order back into a Record.
func Parse(f []string) (Record, error) {
	if len(f) != len(Header) {
		return Record{}, fmt.Errorf("results: %d fields, want %d", len(f), len(Header))
	}
	var r Record
	var firstErr error
	i := func(k int) int {
		v, err := strconv.Atoi(f[k])
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("results: %s: %w", Header[k], err)
		}
		return v
	}
	i64 := func(k int) int64 {
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("results: %s: %w", Header[k], err)
		}
		return v
	}
	fl := func(k int) float64 {
		v, err := strconv.ParseFloat(f[k], 64)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("results: %s: %w", Header[k], err)
		}
		return v
	}
	b := func(k int) bool {
		v, err := strconv.ParseBool(f[k])
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("results: %s: %w", Header[k], err)
		}
		return v
	}
	r.Round, r.Scenario, r.Lib = i(0), f[1], f[2]
	r.Mode, r.Conns, r.InFlight, r.Size, r.Text, r.Deflate = f[3], i(4), i(5), i(6), b(7), b(8)
	r.Seconds, r.Msgs, r.MsgsPerSec, r.MBPerSec = fl(9), i64(10), fl(11), fl(12)
	r.P50us, r.P99us, r.Errors = fl(13), fl(14), i64(15)
	r.ServerCPU, r.LoadCPU = fl(16), fl(17)
	r.RSSBeforeKB, r.RSSAfterKB, r.RSSPerConnB = i64(18), i64(19), fl(20)
	r.Handshakes, r.HandshakesPerSec = i64(21), fl(22)
	return r, firstErr
}

// Writer writes records as CSV, the header first.
type Writer struct {
	w      *csv.Writer
	header bool
}

// NewWriter returns a Writer that writes the header before the first
// record unless header is false (appending to a file that has one).
func NewWriter(w io.Writer, header bool) *Writer {
	return &Writer{w: csv.NewWriter(w), header: header}
}

// Write writes one record and flushes it, so that a run cut short keeps
// every record written so far.
func (w *Writer) Write(r Record) error {
	if w.header {
		if err := w.w.Write(Header); err != nil {
			return err
		}
		w.header = false
	}
	if err := w.w.Write(r.Fields()); err != nil {
		return err
	}
	w.w.Flush()
	return w.w.Error()
}

// Read reads every record from a CSV stream that starts with Header.
func Read(r io.Reader) ([]Record, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if len(rows[0]) != len(Header) || rows[0][0] != Header[0] {
		return nil, fmt.Errorf("results: first line is not the header")
	}
	out := make([]Record, 0, len(rows)-1)
	for n, row := range rows[1:] {
		rec, err := Parse(row)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+2, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Metric is the number a scenario is judged by: handshakes/s for upgrade
// runs, server bytes per connection for idle runs, messages/s otherwise.
// HigherIsBetter says which way it points.
func (r Record) Metric() (value float64, name string, higherIsBetter bool) {
	switch r.Mode {
	case "idle":
		return r.RSSPerConnB, "B/conn", false
	case "upgrades":
		return r.HandshakesPerSec, "upgrades/s", true
	default:
		return r.MsgsPerSec, "msgs/s", true
	}
}

// ServerCPUPerOp is the server's CPU time per echoed message, or per
// handshake in upgrade runs, in microseconds: the work a server does for
// each, whether or not the run was limited by it. It is NaN for idle runs
// and runs with nothing done.
func (r Record) ServerCPUPerOp() float64 {
	ops := float64(r.Msgs)
	if r.Mode == "upgrades" {
		ops = float64(r.Handshakes)
	}
	if r.Mode == "idle" || ops == 0 {
		return math.NaN()
	}
	return r.ServerCPU / 100 * r.Seconds / ops * 1e6
}
