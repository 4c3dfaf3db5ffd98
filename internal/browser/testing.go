package browser

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RequireEnv names the environment variable that makes a missing Chromium
// a test failure instead of a skip; .ci/run sets it, so CI never skips the
// browser tests.
const RequireEnv = "WS_BROWSER_TESTS"

var updateScreenshots = flag.Bool("update-screenshots", false, "write the browser tests' screenshots into the repository")

// StartForTest starts a browser for t and closes it when t ends. Without a
// Chromium it skips t, or fails it if $WS_BROWSER_TESTS is "require".
func StartForTest(t testing.TB) *Browser {
	t.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv(RequireEnv) == "require" {
			t.Fatalf("%v (%s=require)", err, RequireEnv)
		}
		t.Skipf("%v; set %s=require to make this a failure", err, RequireEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		if t.Failed() {
			t.Logf("chromium's log:\n%s", b.Log())
		}
	})
	return b
}

// CheckScreenshot takes a screenshot of p, checks that it is a PNG with
// something in it, and writes it into t's temporary directory; with
// -update-screenshots it also writes it to path, in the repository.
func CheckScreenshot(t testing.TB, ctx context.Context, p *Page, path string) {
	t.Helper()
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("screenshot is %dx%d", b.Dx(), b.Dy())
	}
	if !varied(img) {
		t.Fatal("screenshot is a single colour: the page shows nothing")
	}
	tmp := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(tmp, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if *updateScreenshots {
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, len(shot))
	}
}

// varied reports whether img has more than one colour.
func varied(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	r0, g0, b0, a0 := first.RGBA()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bl != b0 || a != a0 {
				return true
			}
		}
	}
	return false
}
