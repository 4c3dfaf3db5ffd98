// Command harness runs every benchmark scenario against every echo server
// and reports medians, ratios and charts:
//
//	cd bench && go run ./cmd/harness                 # the full run
//	go run ./cmd/harness -scenarios 1x64B-w1,idle -servers ours,tcp -rounds 1 -d 2s -idle-conns 100
//
// It builds cmd/server and cmd/load, then for each round, each scenario and
// each server (in an order that turns by one place each round) starts a
// fresh server pinned to CPU 0 with GOMAXPROCS=1 and the load generator
// pinned to CPU 1 (taskset), so that the two never compete for a core and a
// saturated load generator shows in its CPU column. Every run is appended
// to results/results.csv; at the end it prints a table of medians over the
// rounds and draws results/throughput.svg and results/idle.svg.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/db7c6739/ws/bench/internal/results"
	"github.com/db7c6739/ws/bench/internal/servers"
)

// scenario is one load pattern.
type scenario struct {
	name     string
	mode     string // echo, idle, upgrades
	conns    int
	inFlight int
	size     int
	text     bool // mixed-script UTF-8 text, which a validating server checks
	deflate  bool
}

func scenarios(idleConns, deflateConns, upgradeConns int) []scenario {
	return []scenario{
		{name: "1x64B-w1", mode: "echo", conns: 1, inFlight: 1, size: 64},
		{name: "1x64B-w64", mode: "echo", conns: 1, inFlight: 64, size: 64},
		{name: "64x1KiB-w8", mode: "echo", conns: 64, inFlight: 8, size: 1 << 10},
		{name: "64x1KiB-text-w8", mode: "echo", conns: 64, inFlight: 8, size: 1 << 10, text: true},
		{name: "4x64KiB-w4", mode: "echo", conns: 4, inFlight: 4, size: 64 << 10},
		{name: "1x1MiB-w2", mode: "echo", conns: 1, inFlight: 2, size: 1 << 20},
		{name: "idle", mode: "idle", conns: idleConns},
		{name: "deflate-1KiB", mode: "echo", conns: deflateConns, inFlight: 1, size: 1 << 10, deflate: true},
		{name: "upgrades", mode: "upgrades", conns: upgradeConns, size: 64},
	}
}

type options struct {
	rounds   int
	duration time.Duration
	warmup   time.Duration
	settle   time.Duration
	text     bool
	pin      bool
	out      string
	bin      string
	variants []variant
}

// variant is another checkout of the library, served by cmd/server's
// "ours" built against it: -variant nopool=/tmp/ws-nopool compares a
// change with the current tree, round by round, in the pairs table.
type variant struct{ name, dir string }

func (o options) variant(lib string) (variant, bool) {
	i := slices.IndexFunc(o.variants, func(v variant) bool { return v.name == lib })
	if i < 0 {
		return variant{}, false
	}
	return o.variants[i], true
}

func main() {
	var o options
	scenarioList := flag.String("scenarios", "all", "comma-separated scenarios, or all")
	serverList := flag.String("servers", "all", fmt.Sprintf("comma-separated servers, or all (%s)", strings.Join(servers.Libs, ",")))
	flag.IntVar(&o.rounds, "rounds", 6, "rounds; each runs every scenario against every server (a multiple of the number of servers puts each first in a scenario equally often)")
	flag.DurationVar(&o.duration, "d", 6*time.Second, "measured duration of each echo and upgrade run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warmup before each measured window")
	flag.DurationVar(&o.settle, "settle", 2*time.Second, "idle: wait after the last handshake before reading the server's RSS")
	idleConns := flag.Int("idle-conns", 10_000, "connections in the idle scenario")
	deflateConns := flag.Int("deflate-conns", 1000, "connections in the deflate scenario")
	upgradeConns := flag.Int("upgrade-conns", 4, "concurrent dialers in the upgrade scenario")
	flag.BoolVar(&o.text, "text", false, "send text rather than binary in the echo scenarios")
	_, tasksetErr := exec.LookPath("taskset")
	flag.BoolVar(&o.pin, "pin", tasksetErr == nil, "pin the server to CPU 0 and the load to CPU 1 with taskset")
	flag.StringVar(&o.out, "out", "results", "directory for results.csv and the charts")
	replot := flag.Bool("replot", false, "run nothing: read results.csv from -out, print the table and redraw the charts")
	soakConns := flag.Int("soak", 0, "run the soak test instead, with this many echo connections (see soak.go)")
	soakFor := flag.Duration("soak-d", 30*time.Second, "measured duration of the soak test")
	soakRounds := flag.Int("soak-rounds", 1, "soak rounds against the same server")
	flag.Func("variant", "NAME=DIR: also run cmd/server's ours built against the library checkout in DIR, as server NAME (repeatable)", func(arg string) error {
		name, dir, ok := strings.Cut(arg, "=")
		if !ok || name == "" || dir == "" || slices.Contains(servers.Libs, name) {
			return errors.New("want NAME=DIR, with a NAME that is not a server's")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		o.variants = append(o.variants, variant{name, abs})
		return nil
	})
	flag.Parse()

	if *soakConns > 0 {
		if err := soak(o, *serverList, *soakConns, *soakFor, *soakRounds); err != nil {
			fmt.Fprintln(os.Stderr, "harness:", err)
			os.Exit(1)
		}
		return
	}

	if *replot {
		if err := replotFrom(o, *scenarioList, *serverList, *idleConns, *deflateConns, *upgradeConns); err != nil {
			fmt.Fprintln(os.Stderr, "harness:", err)
			os.Exit(1)
		}
		return
	}

	if err := run(o, *scenarioList, *serverList, *idleConns, *deflateConns, *upgradeConns); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func pick[T any](list string, all []T, name func(T) string) ([]T, error) {
	if list == "all" {
		return all, nil
	}
	var out []T
	for _, want := range strings.Split(list, ",") {
		i := slices.IndexFunc(all, func(x T) bool { return name(x) == strings.TrimSpace(want) })
		if i < 0 {
			names := make([]string, len(all))
			for j, x := range all {
				names[j] = name(x)
			}
			return nil, fmt.Errorf("unknown %q, want one of %s", want, strings.Join(names, ","))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func run(o options, scenarioList, serverList string, idleConns, deflateConns, upgradeConns int) error {
	scs, err := pick(scenarioList, scenarios(idleConns, deflateConns, upgradeConns), func(s scenario) string { return s.name })
	if err != nil {
		return err
	}
	libs, err := pick(serverList, servers.Libs, func(s string) string { return s })
	if err != nil {
		return err
	}
	for _, v := range o.variants {
		libs = append(libs, v.name)
	}
	if o.rounds < 1 || o.rounds > 100 {
		return errors.New("-rounds must be 1..100")
	}
	raiseNoFile(idleConns)
	cleanup, err := build(&o)
	if err != nil {
		return err
	}
	defer cleanup()

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	csvPath := filepath.Join(o.out, "results.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	w := results.NewWriter(f, true)

	if !o.pin {
		fmt.Fprintln(os.Stderr, "warning: not pinning to CPUs (no taskset or -pin=false); numbers will be noisier")
	}
	var recs []results.Record
	for round := 1; round <= o.rounds; round++ {
		for _, sc := range scs {
			for _, lib := range rotate(libs, round-1) {
				rec, err := runOne(o, sc, lib)
				if err != nil {
					fmt.Fprintf(os.Stderr, "round %d %s %s: %v\n", round, sc.name, lib, err)
					continue
				}
				rec.Round, rec.Scenario, rec.Lib = round, sc.name, lib
				recs = append(recs, rec)
				if err := w.Write(rec); err != nil {
					return err
				}
			}
		}
	}
	fmt.Fprintln(os.Stderr, "wrote", csvPath)

	rows := summarize(recs, scs, libs)
	printTable(os.Stdout, rows)
	printPairs(os.Stdout, pairs(recs, scs, libs))
	return drawCharts(o.out, rows, scs, libs)
}

// rotate returns libs turned left by k places: each round starts with a
// different server, so that none always runs first (after the build, or
// after another scenario) or last.
func rotate(libs []string, k int) []string {
	k %= len(libs)
	return append(slices.Clone(libs[k:]), libs[:k]...)
}

func replotFrom(o options, scenarioList, serverList string, idleConns, deflateConns, upgradeConns int) error {
	dir := o.out
	scs, err := pick(scenarioList, scenarios(idleConns, deflateConns, upgradeConns), func(s scenario) string { return s.name })
	if err != nil {
		return err
	}
	libs, err := pick(serverList, servers.Libs, func(s string) string { return s })
	if err != nil {
		return err
	}
	for _, v := range o.variants {
		libs = append(libs, v.name)
	}
	f, err := os.Open(filepath.Join(dir, "results.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := results.Read(f)
	if err != nil {
		return err
	}
	// The connection counts come from the records, not from the flags.
	for i := range scs {
		for _, r := range recs {
			if r.Scenario == scs[i].name {
				scs[i].conns = r.Conns
			}
		}
	}
	rows := summarize(recs, scs, libs)
	printTable(os.Stdout, rows)
	printPairs(os.Stdout, pairs(recs, scs, libs))
	return drawCharts(dir, rows, scs, libs)
}

// goTool finds the go command that runs this harness.
// build compiles cmd/server and cmd/load into a temporary directory, o.bin.
func build(o *options) (cleanup func(), err error) {
	if _, err := os.Stat(filepath.Join("cmd", "server", "main.go")); err != nil {
		return nil, errors.New("run the harness from the bench directory (cd bench && go run ./cmd/harness)")
	}
	tmp, err := os.MkdirTemp("", "wsbench-")
	if err != nil {
		return nil, err
	}
	o.bin = tmp
	fmt.Fprintln(os.Stderr, "building cmd/server and cmd/load ...")
	cmd := exec.Command(goTool(), "build", "-o", tmp+string(filepath.Separator), "./cmd/server", "./cmd/load")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("build: %w", err)
	}
	for _, v := range o.variants {
		if err := buildVariant(tmp, v); err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("build %s: %w", v.name, err)
		}
	}
	return func() { os.RemoveAll(tmp) }, nil
}

// buildVariant builds cmd/server as tmp/server-NAME with the library
// replaced by v.dir, through a copy of go.mod given to -modfile.
func buildVariant(tmp string, v variant) error {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		return err
	}
	const from = "replace github.com/db7c6739/ws => ../"
	if !bytes.Contains(mod, []byte(from)) {
		return fmt.Errorf("go.mod has no line %q", from)
	}
	mod = bytes.Replace(mod, []byte(from), []byte("replace github.com/db7c6739/ws => "+v.dir), 1)
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		return err
	}
	modfile := filepath.Join(tmp, v.name+".mod")
	if err := os.WriteFile(modfile, mod, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, v.name+".sum"), sum, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(goTool(), "build", "-modfile", modfile, "-o", filepath.Join(tmp, "server-"+v.name), "./cmd/server")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// raiseNoFile lifts this process's soft limit on open files to the hard
// limit. Children inherit it: once a Go program calls Setrlimit itself,
// os/exec no longer restores the limit it started with. The idle scenario
// needs two descriptors per connection on one machine, one at each end.
func raiseNoFile(idleConns int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "warning: raising RLIMIT_NOFILE:", err)
		}
	}
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if need := uint64(idleConns) + 1000; lim.Cur < need {
		fmt.Fprintf(os.Stderr, "warning: RLIMIT_NOFILE is %d; the idle scenario's %d connections need about %d per process\n", lim.Cur, idleConns, need)
	}
}

func pinned(o options, cpu int, name string, args ...string) *exec.Cmd {
	if o.pin {
		return exec.Command("taskset", append([]string{"-c", strconv.Itoa(cpu), name}, args...)...)
	}
	return exec.Command(name, args...)
}

// runOne starts a fresh server, runs the load generator against it once,
// stops the server and returns the load generator's record.
func runOne(o options, sc scenario, lib string) (results.Record, error) {
	srv, addr, _, err := startServer(o, lib, sc.deflate)
	if err != nil {
		return results.Record{}, err
	}
	defer stopServer(srv)

	args := []string{"-addr", addr, "-server-pid", strconv.Itoa(srv.Process.Pid), "-label", lib}
	if lib == "tcp" {
		args = append(args, "-tcp")
	}
	timeout := o.warmup + o.duration + time.Minute
	switch sc.mode {
	case "idle":
		args = append(args, "-idle", strconv.Itoa(sc.conns), "-settle", o.settle.String())
		timeout = o.settle + 5*time.Minute
	case "upgrades":
		args = append(args, "-upgrades", "-c", strconv.Itoa(sc.conns), "-size", strconv.Itoa(sc.size),
			"-d", o.duration.String(), "-warmup", o.warmup.String())
	default:
		args = append(args, "-c", strconv.Itoa(sc.conns), "-w", strconv.Itoa(sc.inFlight), "-size", strconv.Itoa(sc.size),
			"-d", o.duration.String(), "-warmup", o.warmup.String())
		if sc.deflate {
			args = append(args, "-deflate")
		} else if o.text || sc.text {
			args = append(args, "-text")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ld := pinned(o, 1, filepath.Join(o.bin, "load"), args...)
	ld = exec.CommandContext(ctx, ld.Path, ld.Args[1:]...)
	var out bytes.Buffer
	ld.Stdout, ld.Stderr = &out, os.Stderr
	if err := ld.Run(); err != nil {
		return results.Record{}, fmt.Errorf("load: %w", err)
	}
	fields, err := csv.NewReader(&out).Read()
	if err != nil {
		return results.Record{}, fmt.Errorf("load output: %w", err)
	}
	return results.Parse(fields)
}

// startServer starts a server pinned to CPU 0 with GOMAXPROCS=1 and returns
// its address and the lines it prints after that.
func startServer(o options, lib string, deflate bool) (*exec.Cmd, string, <-chan string, error) {
	bin := filepath.Join(o.bin, "server")
	if v, ok := o.variant(lib); ok {
		bin, lib = filepath.Join(o.bin, "server-"+v.name), "ours"
	}
	srvArgs := []string{"-lib", lib, "-addr", "127.0.0.1:0"}
	if deflate {
		srvArgs = append(srvArgs, "-deflate")
	}
	srv := pinned(o, 0, bin, srvArgs...)
	srv.Env = append(os.Environ(), "GOMAXPROCS=1")
	srv.Stderr = os.Stderr
	stdout, err := srv.StdoutPipe()
	if err != nil {
		return nil, "", nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, "", nil, err
	}
	// taskset execs the server, so the PID is the server's own.
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody asked for it
			}
		}
		close(lines)
	}()
	var addr string
	select {
	case addr = <-lines:
	case <-time.After(10 * time.Second):
	}
	if addr == "" {
		stopServer(srv)
		return nil, "", nil, errors.New("the server did not print its address")
	}
	return srv, addr, lines, nil
}

// stopServer ends the server with SIGTERM, and kills it if it lingers.
func stopServer(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
