// Package chart draws grouped bar charts as SVG with the standard library
// only: enough for the benchmark's two figures, and nothing more.
package chart

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Bars is a grouped bar chart: one group of bars per entry of Groups, one
// bar per entry of Series within each group. Values[g][s] is the height of
// series s in group g; NaN leaves a gap (no bar is drawn).
type Bars struct {
	Title  string
	YLabel string
	Groups []string
	Series []string
	Values [][]float64
	// RefLine, if positive, draws a dashed horizontal line at that value
	// with RefLabel beside it (for example 1.0 = raw TCP).
	RefLine  float64
	RefLabel string
	// Format formats a value for the label above its bar; nil uses %.3g.
	Format func(float64) string
}

// A palette that stays readable in print and for the common forms of
// colour blindness (Okabe–Ito).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

const (
	marginLeft   = 80
	marginRight  = 20
	marginTop    = 50
	marginBottom = 70
	plotHeight   = 320
	barWidth     = 18
	barGap       = 2
	groupGap     = 28
	legendRow    = 18
)

// WriteSVG writes the chart as a standalone SVG document.
func (c *Bars) WriteSVG(w io.Writer) error {
	if len(c.Values) != len(c.Groups) {
		return errors.New("chart: one row of values per group needed")
	}
	for _, row := range c.Values {
		if len(row) != len(c.Series) {
			return errors.New("chart: one value per series needed in every group")
		}
	}
	format := c.Format
	if format == nil {
		format = func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
	}

	top := c.RefLine
	for _, row := range c.Values {
		for _, v := range row {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = max(top, v)
			}
		}
	}
	top = niceCeil(top)
	groupWidth := len(c.Series)*(barWidth+barGap) + groupGap
	plotWidth := max(len(c.Groups)*groupWidth, 200)
	legendHeight := legendRow * len(c.Series)
	width := max(marginLeft+plotWidth+marginRight+140, marginLeft+9*len(c.Title)+marginRight)
	height := marginTop + plotHeight + marginBottom + max(0, legendHeight-plotHeight)
	y := func(v float64) float64 { return marginTop + plotHeight - v/top*plotHeight }

	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", marginLeft, esc(c.Title))

	// Axis, gridlines and tick labels: five steps from 0 to top.
	for i := 0; i <= 5; i++ {
		v := top * float64(i) / 5
		p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", marginLeft, marginLeft+plotWidth, y(v), y(v))
		p(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", marginLeft-6, y(v), esc(format(v)))
	}
	p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", marginLeft, marginLeft, marginTop, marginTop+plotHeight)
	p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", marginLeft, marginLeft+plotWidth, marginTop+plotHeight, marginTop+plotHeight)
	p(`<text transform="translate(18 %d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", marginTop+plotHeight/2, esc(c.YLabel))

	for g, group := range c.Groups {
		x0 := marginLeft + groupGap/2 + g*groupWidth
		for s := range c.Series {
			v := c.Values[g][s]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			x := x0 + s*(barWidth+barGap)
			p(`<rect class="bar" x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s / %s: %s</title></rect>`+"\n",
				x, y(v), barWidth, y(0)-y(v), palette[s%len(palette)], esc(group), esc(c.Series[s]), esc(format(v)))
			p(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="8">%s</text>`+"\n", float64(x)+barWidth/2.0, y(v)-3, esc(format(v)))
		}
		cx := x0 + (len(c.Series)*(barWidth+barGap))/2
		p(`<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", cx, marginTop+plotHeight+16, esc(group))
	}
	if c.RefLine > 0 {
		p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="black" stroke-dasharray="5,3"/>`+"\n", marginLeft, marginLeft+plotWidth, y(c.RefLine), y(c.RefLine))
		p(`<text x="%d" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", marginLeft+plotWidth+4, y(c.RefLine), esc(c.RefLabel))
	}
	lx := marginLeft + plotWidth + 40
	for s, name := range c.Series {
		ly := marginTop + s*legendRow
		p(`<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`+"\n", lx, ly, palette[s%len(palette)])
		p(`<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", lx+16, ly+6, esc(name))
	}
	p("</svg>\n")
	return bw.Flush()
}

// niceCeil rounds v up to 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten, so that the
// five gridlines fall on round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string {
	var b []byte
	w := byteWriter{&b}
	_ = xml.EscapeText(w, []byte(s))
	return string(b)
}

type byteWriter struct{ b *[]byte }

func (w byteWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}
