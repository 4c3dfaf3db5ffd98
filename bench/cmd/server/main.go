// Command server is one echo server of the benchmark:
//
//	server -lib ours|gorilla|coder|gobwas|gws|tcp -addr 127.0.0.1:0 [-deflate]
//
// It prints the address it listens on, one line on stdout, and serves until
// SIGINT or SIGTERM. Each library's server is in internal/servers, one file
// per library, with the reasons for its choices.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
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
	fmt.Println(srv.Addr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	_ = srv.Close()
	return 0
}
