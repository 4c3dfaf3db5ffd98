package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/db7c6739/ws/bench/internal/chart"
	"github.com/db7c6739/ws/bench/internal/results"
	"github.com/db7c6739/ws/bench/internal/stats"
)

// peers are the libraries ours is compared with; "best peer" is the best
// of these, never ours or raw TCP.
var peers = []string{"gorilla", "coder", "gobwas", "gws"}

// row is the medians of one scenario and server over the rounds.
type row struct {
	scenario, lib string
	mode          string
	conns         int
	runs          int
	metric        float64 // msgs/s, upgrades/s or B/conn
	spread        float64 // (largest - smallest) / median of the metric over the rounds
	cpuPerOp      float64 // server CPU µs per message or handshake
	metricName    string
	higherBetter  bool
	mbps          float64
	p50, p99      float64
	serverCPU     float64
	loadCPU       float64
	rssPerConn    float64
	errors        int64
	vsTCP         float64 // metric / raw TCP's
	vsPeer        float64 // metric / best peer's
}

func summarize(recs []results.Record, scs []scenario, libs []string) []row {
	var rows []row
	for _, sc := range scs {
		var group []row
		for _, lib := range libs {
			var ms, mb, p50, p99, scpu, lcpu, rss, perOp []float64
			r := row{scenario: sc.name, lib: lib, mode: sc.mode, conns: sc.conns}
			for _, rec := range recs {
				if rec.Scenario != sc.name || rec.Lib != lib {
					continue
				}
				v, name, up := rec.Metric()
				r.metricName, r.higherBetter = name, up
				ms = append(ms, v)
				mb = append(mb, rec.MBPerSec)
				p50 = append(p50, rec.P50us)
				p99 = append(p99, rec.P99us)
				scpu = append(scpu, rec.ServerCPU)
				lcpu = append(lcpu, rec.LoadCPU)
				rss = append(rss, rec.RSSPerConnB)
				if v := rec.ServerCPUPerOp(); !math.IsNaN(v) {
					perOp = append(perOp, v)
				}
				r.errors += rec.Errors
				r.runs++
			}
			if r.runs == 0 {
				continue
			}
			r.metric, r.mbps = stats.Median(ms), stats.Median(mb)
			r.spread = (slices.Max(ms) - slices.Min(ms)) / r.metric
			r.cpuPerOp = stats.Median(perOp)
			r.p50, r.p99 = stats.Median(p50), stats.Median(p99)
			r.serverCPU, r.loadCPU, r.rssPerConn = stats.Median(scpu), stats.Median(lcpu), stats.Median(rss)
			group = append(group, r)
		}
		tcp, peer := math.NaN(), math.NaN()
		for _, r := range group {
			if r.lib == "tcp" {
				tcp = r.metric
			}
			if slices.Contains(peers, r.lib) && (math.IsNaN(peer) || r.higherBetter == (r.metric > peer)) {
				peer = r.metric
			}
		}
		for i := range group {
			group[i].vsTCP = group[i].metric / tcp
			group[i].vsPeer = group[i].metric / peer
		}
		rows = append(rows, group...)
	}
	return rows
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// printTable prints the medians. For throughput (msgs/s, upgrades/s)
// higher is better, so a ratio above 1 beats the reference; for idle
// memory (B/conn) lower is better, so a ratio below 1 does. The range
// column is how far apart the rounds were, as a share of the median: two
// medians closer than that are within the machine's noise. The server's
// CPU time per message (or handshake) is the work behind the throughput,
// whatever limited the run.
func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tlib\tconns\truns\tmedian\tunit\trange %\tMB/s\tp50 µs\tp99 µs\tsrv CPU%\tsrv µs/op\tload CPU%\tRSS B/conn\terrors\t× tcp\t× best peer\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n",
			r.scenario, r.lib, r.conns, r.runs, num(r.metric, 0), r.metricName, num(100*r.spread, 0), num(r.mbps, 1),
			num(r.p50, 0), num(r.p99, 0), num(r.serverCPU, 0), num(r.cpuPerOp, 1), num(r.loadCPU, 0), num(r.rssPerConn, 0),
			r.errors, num(r.vsTCP, 2), num(r.vsPeer, 2))
	}
	_ = tw.Flush()
}

// pair compares ours with one other server in one scenario, round by
// round: each round's ratio compares two runs made minutes apart at most,
// so a slow spell of the machine that spans both cancels out of it.
type pair struct {
	scenario, lib string
	ratio         float64 // median over the rounds of ours / lib (lib / ours where lower is better)
	wins, rounds  int     // rounds where ours was ahead or level
}

func pairs(recs []results.Record, scs []scenario, libs []string) []pair {
	type key struct {
		scenario, lib string
		round         int
	}
	metric := map[key]float64{}
	for _, rec := range recs {
		v, _, _ := rec.Metric()
		metric[key{rec.Scenario, rec.Lib, rec.Round}] = v
	}
	var out []pair
	for _, sc := range scs {
		for _, lib := range libs {
			if lib == "ours" {
				continue
			}
			p := pair{scenario: sc.name, lib: lib}
			var ratios []float64
			for _, rec := range recs {
				if rec.Scenario != sc.name || rec.Lib != "ours" {
					continue
				}
				v, ok := metric[key{sc.name, lib, rec.Round}]
				if !ok {
					continue
				}
				o, _, higher := rec.Metric()
				q := o / v
				if !higher {
					q = v / o
				}
				ratios = append(ratios, q)
				p.rounds++
				if q >= 1 {
					p.wins++
				}
			}
			if p.rounds > 0 {
				p.ratio = stats.Median(ratios)
				out = append(out, p)
			}
		}
	}
	return out
}

// printPairs prints ours against every other server, scenario by
// scenario: the median of the per-round ratios (above 1, ours was ahead:
// faster, or smaller per idle connection) and how many rounds ours won.
func printPairs(w io.Writer, ps []pair) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ours against each server, round by round (median ratio, above 1 is ours ahead; rounds ours was ahead or level):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i, p := range ps {
		if i == 0 || ps[i-1].scenario != p.scenario {
			if i > 0 {
				fmt.Fprintln(tw, "\t")
			}
			fmt.Fprintf(tw, "%s\t", p.scenario)
		}
		fmt.Fprintf(tw, "%s %s (%d/%d)\t", p.lib, num(p.ratio, 2), p.wins, p.rounds)
	}
	fmt.Fprintln(tw, "\t")
	_ = tw.Flush()
}

func drawCharts(dir string, rows []row, scs []scenario, libs []string) error {
	find := func(sc, lib string) (row, bool) {
		for _, r := range rows {
			if r.scenario == sc && r.lib == lib {
				return r, true
			}
		}
		return row{}, false
	}

	// Throughput: every echo and upgrade scenario, normalized to raw TCP.
	var series []string
	for _, lib := range libs {
		if lib != "tcp" {
			series = append(series, lib)
		}
	}
	tp := &chart.Bars{
		Title:    "Echo throughput relative to raw TCP (median of rounds; higher is better)",
		YLabel:   "× raw TCP echo (msgs/s; upgrades/s)",
		Series:   series,
		RefLine:  1,
		RefLabel: "raw TCP = 1.0",
		Format:   func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
	}
	for _, sc := range scs {
		if sc.mode == "idle" {
			continue
		}
		vals := make([]float64, len(series))
		for i, lib := range series {
			vals[i] = math.NaN()
			if r, ok := find(sc.name, lib); ok {
				vals[i] = r.vsTCP
			}
		}
		tp.Groups = append(tp.Groups, sc.name)
		tp.Values = append(tp.Values, vals)
	}
	if err := writeChart(filepath.Join(dir, "throughput.svg"), tp); err != nil {
		return err
	}

	// Memory per connection: idle, and busy with permessage-deflate.
	mem := &chart.Bars{
		Title:  "Server memory per connection (VmRSS growth / connections; lower is better)",
		YLabel: "bytes per connection",
		Series: libs,
		Format: func(v float64) string {
			if v >= 1000 {
				return strconv.FormatFloat(v/1000, 'f', 1, 64) + "k"
			}
			return strconv.FormatFloat(v, 'f', 0, 64)
		},
	}
	for _, sc := range scs {
		if sc.mode != "idle" && !sc.deflate {
			continue
		}
		vals := make([]float64, len(libs))
		for i, lib := range libs {
			vals[i] = math.NaN()
			if r, ok := find(sc.name, lib); ok {
				vals[i] = max(r.rssPerConn, 0)
			}
		}
		mem.Groups = append(mem.Groups, fmt.Sprintf("%s (%d conns)", sc.name, sc.conns))
		mem.Values = append(mem.Values, vals)
	}
	return writeChart(filepath.Join(dir, "idle.svg"), mem)
}

func writeChart(path string, c *chart.Bars) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := c.WriteSVG(f); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", path)
	return f.Close()
}
