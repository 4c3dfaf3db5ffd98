package casefold

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ExampleFold() {
	for _, s := range []string{"Straße", "ﬁle", "ΣΑΣ", "İ", "ǅ", "ẞ", "Hello, World"} {
		fmt.Printf("%s → %+q\n", s, Fold(s))
	}
	// Output:
	// Straße → "strasse"
	// ﬁle → "file"
	// ΣΑΣ → "\u03c3\u03b1\u03c3"
	// İ → "i\u0307"
	// ǅ → "\u01c6"
	// ẞ → "ss"
	// Hello, World → "hello, world"
}

func TestFold(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"ascii", "Hello, WORLD! 123", "hello, world! 123"},
		{"sharp s", "ß", "ss"},
		{"capital sharp s", "ẞ", "ss"},
		{"ligature", "ﬁ", "fi"},
		{"sigma", "ΣΑΣ", "σασ"},
		{"final sigma", "σας", "σασ"},
		{"dotted I", "İ", "i\u0307"},
		{"titlecase", "ǅ", "ǆ"},
		{"kelvin", "\u212a", "k"},
		{"micro", "µ", "μ"},
		{"long s", "ſ", "s"},
		{"cherokee folds to upper", "\uab70", "\u13a0"},
		{"three runes", "ΐ", "ι\u0308\u0301"},
		{"deseret", "\U00010400", "\U00010428"},
		{"adlam", "\U0001e900", "\U0001e922"},
		{"already folded", "straße ist schön", "strasse ist schön"},
		{"invalid UTF-8 kept", "A\xffB\xc3", "a\xffb\xc3"},
		{"no case", "日本語", "日本語"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Fold(tc.in))
			assert.Equal(t, "x"+tc.want, string(AppendFold([]byte("x"), []byte(tc.in))))
		})
	}
}

func TestFoldAllocs(t *testing.T) {
	folded := "déjà vu, 日本語"
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = Fold(folded) }))
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = Fold("Hello") }))

	src := []byte("Hello, WORLD, some ASCII text")
	dst := make([]byte, 0, 64)
	assert.Zero(t, testing.AllocsPerRun(100, func() { dst = AppendFold(dst[:0], src) }))
	assert.Equal(t, "hello, world, some ascii text", string(dst))
	src = []byte("Größe ΣΑΣ")
	assert.Zero(t, testing.AllocsPerRun(100, func() { dst = AppendFold(dst[:0], src) }))
}

// pythonFolds runs Python once for chr(cp).casefold() of every code point
// but the surrogates. It returns the foldings that change something, the
// ranges Python's Unicode database holds unassigned (category Cn), and that
// database's version.
func pythonFolds(t *testing.T) (folds map[rune]string, unassigned [][2]rune, version string) {
	const script = `
import sys, unicodedata
w = sys.stdout.write
w("v %s\n" % unicodedata.unidata_version)
start = None
for cp in range(0x110000):
    c = chr(cp)
    cn = unicodedata.category(c) == "Cn"
    if cn and start is None:
        start = cp
    if not cn and start is not None:
        w("n %x %x\n" % (start, cp - 1))
        start = None
    if 0xD800 <= cp <= 0xDFFF:
        continue
    f = c.casefold()
    if f != c:
        w("f %x %s\n" % (cp, " ".join("%x" % ord(x) for x in f)))
if start is not None:
    w("n %x %x\n" % (start, 0x10FFFF))
`
	python, err := exec.LookPath("python3")
	require.NoError(t, err, "this test compares with Python's str.casefold: install python3")
	out, err := exec.Command(python, "-c", script).Output()
	require.NoError(t, err)

	folds = map[rune]string{}
	hex := func(s string) rune {
		v, err := strconv.ParseUint(s, 16, 32)
		require.NoError(t, err)
		return rune(v)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		require.GreaterOrEqual(t, len(f), 2, "line %q", sc.Text())
		switch f[0] {
		case "v":
			version = f[1]
		case "n":
			unassigned = append(unassigned, [2]rune{hex(f[1]), hex(f[2])})
		case "f":
			var s []rune
			for _, h := range f[2:] {
				s = append(s, hex(h))
			}
			folds[hex(f[1])] = string(s)
		}
	}
	require.NotEmpty(t, version)
	require.Greater(t, len(folds), 1000)
	return folds, unassigned, version
}

// TestMatchesPython compares Fold with Python's str.casefold on every code
// point. The two may stand on different versions of Unicode; a difference
// is allowed only where Python's version has no character yet.
func TestMatchesPython(t *testing.T) {
	folds, unassigned, pyVersion := pythonFolds(t)
	t.Logf("Python's Unicode is %s, the tables' %s", pyVersion, UnicodeVersion)
	allowed, failed := compare(Fold, folds, unassigned)
	for i, msg := range failed {
		if i == 20 {
			t.Errorf("and %d more", len(failed)-i)
			break
		}
		t.Error(msg)
	}
	t.Logf("%d differences at code points unassigned in Unicode %s", len(allowed), pyVersion)
	for _, msg := range allowed {
		t.Log(msg)
	}
}

// TestCompare checks that compare forgives unassigned code points only.
func TestCompare(t *testing.T) {
	fold := func(s string) string {
		switch s {
		case "\u0378", "A": // unassigned; assigned
			return "x"
		}
		return Fold(s)
	}
	folds := map[rune]string{}
	for r := rune(0); r <= 0x10FFFF; r++ {
		if f := Fold(string(r)); f != string(r) {
			folds[r] = f
		}
	}
	allowed, failed := compare(fold, folds, [][2]rune{{0x0378, 0x0379}})
	assert.Equal(t, []string{`U+0378: Fold gives "x", Python "\u0378"`}, allowed)
	assert.Equal(t, []string{`U+0041: Fold gives "x", Python "a"`}, failed)
}

// compare runs fold on every code point but the surrogates and returns
// where it differs from want: allowed when the code point lies in one of
// the unassigned ranges, failed otherwise.
func compare(fold func(string) string, want map[rune]string, unassigned [][2]rune) (allowed, failed []string) {
	isUnassigned := func(r rune) bool {
		for _, u := range unassigned {
			if u[0] <= r && r <= u[1] {
				return true
			}
		}
		return false
	}
	for cp := rune(0); cp <= 0x10FFFF; cp++ {
		if 0xD800 <= cp && cp <= 0xDFFF {
			continue
		}
		in := string(cp)
		w, ok := want[cp]
		if !ok {
			w = in
		}
		got := fold(in)
		if got == w {
			continue
		}
		msg := fmt.Sprintf("U+%04X: Fold gives %+q, Python %+q", cp, got, w)
		if isUnassigned(cp) {
			allowed = append(allowed, msg)
		} else {
			failed = append(failed, msg)
		}
	}
	return allowed, failed
}

// TestTableUpToDate regenerates foldtable.go and compares.
func TestTableUpToDate(t *testing.T) {
	const data = "/usr/share/unicode/CaseFolding.txt"
	if _, err := os.Stat(data); err != nil {
		t.Skipf("%s is missing (Debian package unicode-data): %v", data, err)
	}
	out := filepath.Join(t.TempDir(), "foldtable.go")
	cmd := exec.Command("go", "run", "../gencasefold", "-in", data, "-o", out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	have, err := os.ReadFile("foldtable.go")
	require.NoError(t, err)
	assert.True(t, bytes.Equal(got, have), "foldtable.go is stale: run go generate ./examples/casefold/...")
}
