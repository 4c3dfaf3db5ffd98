// Command server is one echo server of the benchmark:
//
//	server -lib ours|gorilla|coder|gobwas|gws|tcp -addr 127.0.0.1:0 [-deflate]
//
// It prints the address it listens on, one line on stdout, and serves until
// SIGINT or SIGTERM. On SIGUSR1 it collects garbage, returns free memory to
// the OS and prints one line on stdout:
//
//	mem goroutines=N heap_inuse=B stack_inuse=B rss_kb=K
//
// which the harness's soak run reads before, during and after the load. Each library's server is in internal/servers, one file
// per library, with the reasons for its choices.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/db7c6739/ws/bench/internal/servers"
)

func main() { os.Exit(run()) }

func run() int {
	lib := flag.String("lib", "ours", fmt.Sprintf("library: one of %v", servers.Libs))
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	deflate := flag.Bool("deflate", false, "enable permessage-deflate where the library has it")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	srv, err := servers.Start(*lib, *addr, *deflate)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	fmt.Println(srv.Addr())

	for s := range sig {
		if s == syscall.SIGUSR1 {
			printMemory()
			continue
		}
		break
	}
	_ = srv.Close()
	return 0
}

// printMemory prints the memory line SIGUSR1 asks for.
func printMemory() {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("mem goroutines=%d heap_inuse=%d stack_inuse=%d rss_kb=%d\n",
		runtime.NumGoroutine(), ms.HeapInuse, ms.StackInuse, rssKB())
}

func rssKB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}
