package deflate

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Generators of test and benchmark data. All are deterministic for a seed.

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x5eed))
}

// randomBytes is incompressible data.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// repetitive is highly compressible data: runs of one byte, short periods
// and a long period, in turn.
func repetitive(rng *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		switch rng.IntN(4) {
		case 0:
			b = append(b, bytes.Repeat([]byte{byte(rng.Uint32())}, 1+rng.IntN(2000))...)
		case 1:
			b = append(b, bytes.Repeat([]byte("ab"), 1+rng.IntN(1000))...)
		case 2:
			unit := randomBytes(rng, 1+rng.IntN(300))
			b = append(b, bytes.Repeat(unit, 1+rng.IntN(20))...)
		default:
			b = append(b, bytes.Repeat([]byte("the same line again\n"), 1+rng.IntN(50))...)
		}
	}
	return b[:n]
}

var vocabulary = strings.Fields(`the of and to a in is it you that he was for on are with as I his
they be at one have this from or had by hot word but what some we can out other were all there when
up use your how said an each she which do their time if will way about many then them write would
like so these her long make thing see him two has look more day could go come did number sound no
most people my over know water than call first who may down side been now find any new work part
take get place made live where after back little only round man year came show every good me give
our under name very through just form sentence great think say help low line differ turn cause much
mean before move right boy old too same tell does set three want air well also play small end put
home read hand port large spell add even land here must big high such follow act why ask men change
went light kind off need house picture try us again animal point mother world near build self earth
father head stand own page should country found answer school grow study still learn plant cover
food sun four between state keep eye never last let thought city tree cross farm hard start might
story saw far sea draw left late run don't while press close night real life few north`)

// englishText is text made of common English words, Zipf-distributed, in
// sentences and paragraphs.
func englishText(rng *rand.Rand, n int) []byte {
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocabulary)-1))
	var b []byte
	for len(b) < n {
		words := 4 + rng.IntN(16)
		for i := range words {
			w := vocabulary[zipf.Uint64()]
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			} else {
				b = append(b, ' ')
				if rng.IntN(12) == 0 {
					b = append(b[:len(b)-1], ", "...)
				}
			}
			b = append(b, w...)
		}
		b = append(b, '.')
		if rng.IntN(6) == 0 {
			b = append(b, "\n\n"...)
		} else {
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// jsonText is a stream of JSON records of the kind a WebSocket API sends.
func jsonText(rng *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		name := vocabulary[rng.IntN(len(vocabulary))] + vocabulary[rng.IntN(len(vocabulary))]
		b = fmt.Appendf(b, `{"id":%d,"type":"%s","user":{"name":"%s","email":"%s@example.com","verified":%t},`+
			`"score":%.3f,"tags":["%s","%s"],"created":"2024-%02d-%02dT%02d:%02d:%02dZ"}`+"\n",
			rng.IntN(1_000_000), []string{"update", "insert", "delete", "ping"}[rng.IntN(4)], name, name, rng.IntN(2) == 0,
			rng.Float64()*100, vocabulary[rng.IntN(40)], vocabulary[rng.IntN(40)],
			1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60))
	}
	return b[:n]
}

// repeatAt is random data whose only repeats lie exactly dist bytes back:
// dist random bytes, then the same again, to n bytes.
func repeatAt(rng *rand.Rand, dist, n int) []byte {
	unit := randomBytes(rng, dist)
	b := make([]byte, n)
	for i := range b {
		b[i] = unit[i%dist]
	}
	return b
}
