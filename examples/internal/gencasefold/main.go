// Command gencasefold writes the case folding tables of package casefold
// from Unicode's CaseFolding.txt: the C (common) and F (full) mappings,
// which together are the full case folding that Python's str.casefold
// applies. S (simple) and T (Turkic) lines are left out.
//
//	go run ./examples/internal/gencasefold -in /usr/share/unicode/CaseFolding.txt -o foldtable.go
//
// The default input is Debian's unicode-data package. The output records
// the version line of the input, not its path, so that it depends on the
// data only.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "/usr/share/unicode/CaseFolding.txt", "CaseFolding.txt to read")
	out := flag.String("o", "foldtable.go", "Go file to write")
	pkg := flag.String("pkg", "casefold", "package name of the output")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	if err := run(*in, *out, *pkg); err != nil {
		log.Error("gencasefold", "err", err)
		os.Exit(1)
	}
}

func run(in, out, pkg string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := parse(f)
	if err != nil {
		return fmt.Errorf("gencasefold: %s: %w", in, err)
	}
	src, err := generate(d, pkg)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// data is what CaseFolding.txt says, as far as full case folding goes.
type data struct {
	version string          // "15.0.0", from "# CaseFolding-15.0.0.txt"
	simple  map[rune]rune   // C: one code point to one
	full    map[rune][]rune // F: one code point to several
}

func parse(r io.Reader) (*data, error) {
	d := &data{simple: map[rune]rune{}, full: map[rune][]rune{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			v, ok := strings.CutPrefix(line, "# CaseFolding-")
			v, ok2 := strings.CutSuffix(v, ".txt")
			if !ok || !ok2 || v == "" {
				return nil, fmt.Errorf("line 1: %q is not the version line \"# CaseFolding-X.Y.Z.txt\"", line)
			}
			d.version = v
			continue
		}
		line, _, _ = strings.Cut(line, "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		// <code>; <status>; <mapping>; # <name>
		fields := strings.Split(line, ";")
		if len(fields) != 4 {
			return nil, fmt.Errorf("line %d: want 4 fields, have %d", n, len(fields))
		}
		code, err := parseRunes(fields[0])
		if err != nil || len(code) != 1 {
			return nil, fmt.Errorf("line %d: bad code point %q", n, fields[0])
		}
		to, err := parseRunes(fields[2])
		if err != nil || len(to) == 0 {
			return nil, fmt.Errorf("line %d: bad mapping %q", n, fields[2])
		}
		c := code[0]
		switch status := strings.TrimSpace(fields[1]); status {
		case "C", "F":
			_, dupS := d.simple[c]
			_, dupF := d.full[c]
			if dupS || dupF {
				return nil, fmt.Errorf("line %d: U+%04X mapped twice", n, c)
			}
			if status == "C" {
				if len(to) != 1 {
					return nil, fmt.Errorf("line %d: C mapping of U+%04X is not one code point", n, c)
				}
				d.simple[c] = to[0]
			} else {
				d.full[c] = to
			}
		case "S", "T":
		default:
			return nil, fmt.Errorf("line %d: unknown status %q", n, status)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if d.version == "" {
		return nil, errors.New("empty file")
	}
	return d, nil
}

func parseRunes(s string) ([]rune, error) {
	var rs []rune
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseUint(f, 16, 32)
		if err != nil {
			return nil, err
		}
		if v > 0x10FFFF || v >= 0xD800 && v <= 0xDFFF {
			return nil, fmt.Errorf("U+%X is not a scalar value", v)
		}
		rs = append(rs, rune(v))
	}
	return rs, nil
}

// foldRange is the generator's copy of the type in package casefold.
type foldRange struct {
	lo, hi rune
	stride rune
	delta  rune
}

// ranges packs the mappings into runs of code points stride 1 or 2 apart
// (A–Z, or the alternating upper and lower case of Latin Extended-A) that
// move by the same delta. A full mapping is a run of its own with stride 0
// and the index of its string as delta. Runs follow the code points in
// order, so they never overlap.
func ranges(d *data) ([]foldRange, []string) {
	keys := make([]rune, 0, len(d.simple)+len(d.full))
	for c := range d.simple {
		keys = append(keys, c)
	}
	for c := range d.full {
		keys = append(keys, c)
	}
	slices.Sort(keys)

	var rs []foldRange
	var full []string
	for _, c := range keys {
		if to, ok := d.full[c]; ok {
			rs = append(rs, foldRange{lo: c, hi: c, stride: 0, delta: rune(len(full))})
			full = append(full, string(to))
			continue
		}
		delta := d.simple[c] - c
		if n := len(rs); n > 0 {
			last := &rs[n-1]
			step := c - last.hi
			switch {
			case last.stride == 0:
			case last.delta != delta:
			case last.lo == last.hi && (step == 1 || step == 2):
				last.hi, last.stride = c, step
				continue
			case step == last.stride:
				last.hi = c
				continue
			}
		}
		rs = append(rs, foldRange{lo: c, hi: c, stride: 1, delta: delta})
	}
	return rs, full
}

func generate(d *data, pkg string) ([]byte, error) {
	rs, full := ranges(d)
	if err := check(d, rs, full); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by gencasefold from CaseFolding-%s.txt. DO NOT EDIT.\n\n", d.version)
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	fmt.Fprintf(&b, "// UnicodeVersion is the version of CaseFolding.txt the tables come from.\n")
	fmt.Fprintf(&b, "const UnicodeVersion = %q\n\n", d.version)
	fmt.Fprintf(&b, "// foldRanges holds the %d C and %d F mappings in %d runs, sorted.\n", len(d.simple), len(d.full), len(rs))
	fmt.Fprintf(&b, "var foldRanges = [...]foldRange{\n")
	for _, r := range rs {
		if r.stride == 0 {
			fmt.Fprintf(&b, "{0x%04X, 0x%04X, 0, %d}, // %+q\n", r.lo, r.hi, r.delta, full[r.delta])
			continue
		}
		fmt.Fprintf(&b, "{0x%04X, 0x%04X, %d, %d},\n", r.lo, r.hi, r.stride, r.delta)
	}
	fmt.Fprintf(&b, "}\n\n")
	fmt.Fprintf(&b, "// fullFolds holds the F mappings, indexed by the delta of their runs.\n")
	fmt.Fprintf(&b, "var fullFolds = [...]string{\n")
	for i, s := range full {
		fmt.Fprintf(&b, "%q, // %d\n", s, i)
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}

// check looks every mapping up again in the packed runs, the way package
// casefold does, and every code point in between that must fold to itself.
func check(d *data, rs []foldRange, full []string) error {
	for c := rune(0); c <= 0x10FFFF; c++ {
		want := string(c)
		if to, ok := d.simple[c]; ok {
			want = string(to)
		} else if to, ok := d.full[c]; ok {
			want = string(to)
		}
		got := string(c)
		i, found := slices.BinarySearchFunc(rs, c, func(r foldRange, c rune) int {
			switch {
			case r.hi < c:
				return -1
			case r.lo > c:
				return 1
			}
			return 0
		})
		if found {
			switch r := rs[i]; {
			case r.stride == 0:
				got = full[r.delta]
			case (c-r.lo)%r.stride == 0:
				got = string(c + r.delta)
			}
		}
		if got != want {
			return fmt.Errorf("gencasefold: packed tables fold U+%04X to %+q, want %+q", c, got, want)
		}
	}
	return nil
}
