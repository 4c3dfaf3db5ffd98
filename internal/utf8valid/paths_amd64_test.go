//go:build amd64 && !purego

package utf8valid

// vectorPaths are the vector checks this processor can run, by name, and a
// function that makes validSIMD (and so Stream and Valid) take that path
// until the returned undo is called.
func vectorPaths() []vectorPath {
	var paths []vectorPath
	if haveAVX2 {
		paths = append(paths, vectorPath{"avx2", validAVX2, func() func() { return func() {} }})
	}
	if haveSSSE3 {
		paths = append(paths, vectorPath{"ssse3", validSSSE3, func() func() {
			was := haveAVX2
			haveAVX2 = false
			return func() { haveAVX2 = was }
		}})
	}
	return paths
}
