// Command cmin keeps, of the recorded seed files in fuzz/testdata/fuzz
// (autobahn-*), those that reach code paths the seeds in code and the other
// kept files do not, and deletes the rest. A path is told apart as Go's
// fuzzer tells it: by the blocks an input runs and how often it runs each,
// in the fuzzer's buckets (1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128+). The
// files are chosen greedily, the one adding the most first. Files the
// fuzzer found (named by their hash) are always kept. Run it from the
// repository's root after recording:
//
//	go run ./fuzz/cmin        # prints what it would delete
//	go run ./fuzz/cmin -w     # deletes it
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var targets = []string{"FuzzServerConn", "FuzzServerConnDeflate", "FuzzClientConn", "FuzzClientConnDeflate"}

type feature struct {
	block  string
	bucket int
}

func main() {
	write := flag.Bool("w", false, "delete the files that add nothing")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "cmin-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "fuzz.test")
	build := exec.Command("go", "test", "-c", "-cover", "-covermode=count",
		"-coverpkg=./frame,./handshake,./wsproto,./internal/deflate", "-o", bin, "./fuzz/")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatal(err)
	}
	dir := filepath.Join("fuzz", "testdata", "fuzz")
	for _, target := range targets {
		seeds, err := seedNames(bin, dir, target)
		if err != nil {
			log.Fatal(err)
		}
		covered := map[feature]bool{}
		for _, s := range seeds {
			fs, err := features(bin, tmp, dir, target, s)
			if err != nil {
				log.Fatal(err)
			}
			for f := range fs {
				covered[f] = true
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, target, "autobahn-*"))
		adds := map[string]map[feature]bool{}
		for _, file := range files {
			fs, err := features(bin, tmp, dir, target, filepath.Base(file))
			if err != nil {
				log.Fatal(err)
			}
			for f := range fs {
				if covered[f] {
					delete(fs, f)
				}
			}
			adds[file] = fs
		}
		var keep []string
		for {
			best, gain := "", 0
			for _, file := range files {
				n := 0
				for f := range adds[file] {
					if !covered[f] {
						n++
					}
				}
				if n > gain || n == gain && n > 0 && file < best {
					best, gain = file, n
				}
			}
			if gain == 0 {
				break
			}
			keep = append(keep, best)
			for f := range adds[best] {
				covered[f] = true
			}
			delete(adds, best)
		}
		kept := map[string]bool{}
		for _, k := range keep {
			kept[k] = true
		}
		fmt.Printf("%s: %d recorded files, %d keep paths the %d seeds in code do not reach\n", target, len(files), len(keep), len(seeds))
		for _, file := range files {
			if kept[file] {
				continue
			}
			if *write {
				if err := os.Remove(file); err != nil {
					log.Fatal(err)
				}
			} else {
				fmt.Println("  would delete", file)
			}
		}
	}
}

var seedLine = regexp.MustCompile(`--- PASS: Fuzz\w+/(seed#\d+)`)

// seedNames lists the seeds a target adds in code.
func seedNames(bin, dir, target string) ([]string, error) {
	out, err := exec.Command(bin, "-test.run", "^"+target+"$", "-test.v", "-test.count=1").Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	var names []string
	for _, m := range seedLine.FindAllStringSubmatch(string(out), -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names, nil
}

// features runs one input of a target and returns the blocks it ran, each
// with the bucket of its count.
func features(bin, tmp, dir, target, input string) (map[feature]bool, error) {
	profile := filepath.Join(tmp, "cover.out")
	cmd := exec.Command(bin, "-test.run", "^"+target+"$/^"+regexp.QuoteMeta(input)+"$", "-test.count=1", "-test.coverprofile", profile)
	cmd.Dir = "fuzz"
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s/%s: %v\n%s", target, input, err, out)
	}
	f, err := os.Open(profile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fs := map[feature]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "mode:") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		n, err := strconv.Atoi(line[i+1:])
		if err != nil || n == 0 {
			continue
		}
		j := strings.LastIndexByte(line[:i], ' ')
		fs[feature{line[:j], bucket(n)}] = true
	}
	return fs, sc.Err()
}

// bucket is the fuzzer's class of a hit count.
func bucket(n int) int {
	switch {
	case n <= 3:
		return n
	case n < 8:
		return 4
	case n < 16:
		return 5
	case n < 32:
		return 6
	case n < 128:
		return 7
	}
	return 8
}
