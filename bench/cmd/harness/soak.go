package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/db7c6739/ws/bench/internal/results"
	"github.com/db7c6739/ws/bench/internal/servers"
)

// soak holds n echo connections (1 KiB messages, one in flight each) on
// each server for d, then closes them, and reports the load's errors and
// rate and the server's memory: before the load, at its end with every
// connection open, and once its goroutines are back to where they were.
// With rounds > 1 the same server takes the load again, a line per round:
// memory that only a first round adds is a high-water mark (the runtime
// keeps the descriptors of dead goroutines and of closed sockets for
// reuse), memory that every round adds would be a leak.
// Each memory reading follows a GC and debug.FreeOSMemory in the server
// (SIGUSR1, see cmd/server), so that "after" shows what the server keeps,
// not what the runtime has yet to hand back.
//
//	go run ./cmd/harness -soak 10000 -soak-d 30s -servers ours
func soak(o options, serverList string, n int, d time.Duration, rounds int) error {
	libs, err := pick(serverList, servers.Libs, func(s string) string { return s })
	if err != nil {
		return err
	}
	raiseNoFile(n)
	cleanup, err := build(&o)
	if err != nil {
		return err
	}
	defer cleanup()

	fmt.Printf("soak: %d connections × 1 KiB echo, 1 in flight, %v\n", n, d)
	fmt.Printf("%-8s %8s %10s %6s | %22s | %22s | %22s\n", "server", "msgs", "msgs/s", "errors",
		"before: gor heap+stk RSS", "loaded: gor heap+stk RSS", "after: gor heap+stk RSS")
	for _, lib := range libs {
		if err := soakOne(o, lib, n, d, rounds); err != nil {
			fmt.Fprintf(os.Stderr, "soak %s: %v\n", lib, err)
		}
	}
	return nil
}

// memory is one SIGUSR1 line of the server.
type memory struct {
	goroutines, heapKB, stackKB, rssKB int
}

func (m memory) String() string {
	return fmt.Sprintf("%6d %6d %8d", m.goroutines, m.heapKB+m.stackKB, m.rssKB)
}

func soakOne(o options, lib string, n int, d time.Duration, rounds int) error {
	srv, addr, lines, err := startServer(o, lib, false)
	if err != nil {
		return err
	}
	defer stopServer(srv)
	ask := func() (memory, error) {
		if err := srv.Process.Signal(syscall.SIGUSR1); err != nil {
			return memory{}, err
		}
		select {
		case line, ok := <-lines:
			if !ok {
				return memory{}, io.ErrUnexpectedEOF
			}
			return parseMemory(line)
		case <-time.After(10 * time.Second):
			return memory{}, errors.New("no memory line from the server")
		}
	}
	before, err := ask()
	if err != nil {
		return err
	}
	base := before.goroutines
	for round := 1; round <= rounds; round++ {
		after, err := soakRound(o, srv, addr, lib, n, d, base, before, ask)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		before = after
	}
	return nil
}

// soakRound runs the load once and prints its line.
func soakRound(o options, srv *exec.Cmd, addr, lib string, n int, d time.Duration, base int, before memory, ask func() (memory, error)) (memory, error) {
	// The load runs in the background so that the server can be asked
	// for its memory while every connection is still open.
	args := []string{"-addr", addr, "-server-pid", strconv.Itoa(srv.Process.Pid), "-label", lib,
		"-c", strconv.Itoa(n), "-w", "1", "-size", "1024", "-d", d.String(), "-warmup", "2s"}
	if lib == "tcp" {
		args = append(args, "-tcp")
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Minute)
	defer cancel()
	ld := pinned(o, 1, filepath.Join(o.bin, "load"), args...)
	ld = exec.CommandContext(ctx, ld.Path, ld.Args[1:]...)
	var out bytes.Buffer
	ld.Stdout, ld.Stderr = &out, os.Stderr
	if err := ld.Start(); err != nil {
		return memory{}, err
	}
	loadDone := make(chan error, 1)
	go func() { loadDone <- ld.Wait() }()
	// Near the end of the measured window: connections up, load running.
	var loaded memory
	var err error
	select {
	case err := <-loadDone:
		return memory{}, fmt.Errorf("load ended early: %v", err)
	case <-time.After(d):
		if loaded, err = ask(); err != nil {
			return memory{}, err
		}
	}
	if err := <-loadDone; err != nil {
		return memory{}, fmt.Errorf("load: %w", err)
	}
	fields, err := csv.NewReader(&out).Read()
	if err != nil {
		return memory{}, fmt.Errorf("load output: %w", err)
	}
	rec, err := results.Parse(fields)
	if err != nil {
		return memory{}, err
	}

	// The server notices each closed connection in its own time.
	var after memory
	for deadline := time.Now().Add(30 * time.Second); ; {
		if after, err = ask(); err != nil {
			return memory{}, err
		}
		if after.goroutines <= base || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("%-8s %8d %10.0f %6d | %s | %s | %s\n", lib, rec.Msgs, rec.MsgsPerSec, rec.Errors, before, loaded, after)
	return after, nil
}

func parseMemory(line string) (memory, error) {
	var m memory
	var heap, stack int
	_, err := fmt.Sscanf(line, "mem goroutines=%d heap_inuse=%d stack_inuse=%d rss_kb=%d", &m.goroutines, &heap, &stack, &m.rssKB)
	if err != nil {
		return m, fmt.Errorf("server memory line %q: %w", line, err)
	}
	m.heapKB, m.stackKB = heap/1024, stack/1024
	return m, nil
}
