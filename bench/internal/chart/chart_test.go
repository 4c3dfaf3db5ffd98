package chart

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parse checks that doc is well-formed XML with an <svg> root and returns
// the number of bar rects and every piece of character data.
func parse(t *testing.T, doc []byte) (bars int, texts []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			if tok.Name.Local == "rect" {
				for _, a := range tok.Attr {
					if a.Name.Local == "class" && a.Value == "bar" {
						bars++
					}
				}
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				texts = append(texts, s)
			}
		}
	}
	require.Equal(t, "svg", root)
	return bars, texts
}

func TestOneBarPerValue(t *testing.T) {
	c := &Bars{
		Title: "throughput", YLabel: "x raw TCP",
		Groups:  []string{"1x64B", "64x1KiB", "1x1MiB"},
		Series:  []string{"ours", "gorilla", "tcp"},
		Values:  [][]float64{{0.9, 0.5, 1}, {1.2, 0.7, 1}, {math.NaN(), 0.3, 1}},
		RefLine: 1, RefLabel: "raw TCP",
	}
	var buf bytes.Buffer
	require.NoError(t, c.WriteSVG(&buf))
	bars, texts := parse(t, buf.Bytes())
	assert.Equal(t, 8, bars, "NaN draws no bar")
	for _, want := range []string{"throughput", "x raw TCP", "1x64B", "gorilla", "raw TCP"} {
		assert.Contains(t, texts, want)
	}
}

func TestLabelsEscaped(t *testing.T) {
	c := &Bars{
		Title:  `a <b> & "c"`,
		Groups: []string{"<script>alert(1)</script>"},
		Series: []string{"x&y"},
		Values: [][]float64{{3}},
	}
	var buf bytes.Buffer
	require.NoError(t, c.WriteSVG(&buf))
	assert.NotContains(t, buf.String(), "<script>")
	assert.NotContains(t, buf.String(), "<b>")
	bars, texts := parse(t, buf.Bytes())
	assert.Equal(t, 1, bars)
	assert.Contains(t, texts, `a <b> & "c"`, "escaped text decodes back to the label")
	assert.Contains(t, texts, "<script>alert(1)</script>")
	assert.Contains(t, texts, "x&y")
}

func TestShapeErrors(t *testing.T) {
	var buf bytes.Buffer
	assert.Error(t, (&Bars{Groups: []string{"a"}}).WriteSVG(&buf))
	assert.Error(t, (&Bars{Groups: []string{"a"}, Series: []string{"s"}, Values: [][]float64{{1, 2}}}).WriteSVG(&buf))
}

func TestEmptyAndZero(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, (&Bars{Title: "empty"}).WriteSVG(&buf))
	bars, _ := parse(t, buf.Bytes())
	assert.Zero(t, bars)
	buf.Reset()
	require.NoError(t, (&Bars{Groups: []string{"g"}, Series: []string{"s"}, Values: [][]float64{{0}}}).WriteSVG(&buf))
	bars, _ = parse(t, buf.Bytes())
	assert.Equal(t, 1, bars)
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{0, 1}, {1, 1}, {1.01, 1.5}, {2.2, 2.5}, {3, 3}, {3.5, 4}, {7, 8}, {9, 10}, {0.93, 1}, {12000, 15000}, {265000, 300000},
	} {
		assert.InDelta(t, tt.want, niceCeil(tt.in), 1e-9, "niceCeil(%v)", tt.in)
	}
}
