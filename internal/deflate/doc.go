// Package deflate is a small DEFLATE (RFC 1951) compressor and decompressor
// for permessage-deflate (RFC 7692): bounded window, history kept across
// messages, little memory.
//
// A Writer exists because compress/flate's Writer does not fit a compressor
// that lives as long as a connection: it holds about a megabyte and its LZ77
// window is always 32 KiB, while RFC 7692 §7.1.2 lets a peer limit the window
// to 2^8..2^15 bytes with server_max_window_bits and client_max_window_bits.
//
// # Output
//
// The output is a raw DEFLATE stream (no zlib or gzip framing) of
// fixed-Huffman blocks (RFC 1951 §3.2.6), dynamic-Huffman blocks (§3.2.7),
// stored blocks (§3.2.4) for input that Huffman codes would grow, and the
// empty stored blocks of sync flushes; it never sets BFINAL. Each block
// takes whichever of the three kinds costs the fewest bits. A message of
// permessage-deflate is a sequence of Append calls, the last with flush
// set; the caller strips the 00 00 ff ff that ends it (RFC 7692 §7.2.1)
// and the peer appends it back before inflating.
//
// # Levels
//
// Matching is LZ77 over a hash of four bytes, into a table whose buckets
// keep the latest positions of the bytes that hash to them: one at levels 1
// and 2, up to 32 at level 9, of which the encoder takes the longest match.
// Levels 7 to 9 also match lazily: a match waits a byte in case a longer one
// starts there. Level 1 works out a dynamic code only for blocks of 4 KiB or
// more, so small messages get fixed codes, which are cheap to write; the
// other levels weigh one for every block.
//
// # History
//
// A Writer remembers the last 2^windowBits bytes it compressed and refers back
// into them from later messages ("context takeover", RFC 7692 §7.1.1). Reset
// forgets them, for a connection that negotiated
// server_no_context_takeover or client_no_context_takeover.
//
// # Memory and cost
//
// A Writer holds a history buffer of 2 * 2^windowBits bytes, a hash table
// of at most 4096 int32 positions (16 KiB) at levels 1 and 2, 8192 at level
// 3 and 16384 (64 KiB) from level 4 on, and the matches of the block being
// made (at most 8 KiB); small windows get smaller tables and blocks. That
// is about 89 KiB at level 1 and 137 to 139 KiB from level 4 on for
// windowBits 15, under 6 KiB at any level for windowBits 8. After NewWriter, Append allocates only when dst lacks
// capacity, and neither Append nor Reset does work proportional to the
// window or the table: stale table entries are recognised by their position
// and ignored, never cleared.
//
// # Concurrency
//
// A Writer is not safe for concurrent use; one goroutine at a time may call
// its methods.
//
// # Inflating
//
// Inflater decodes any raw DEFLATE stream, compress/flate's and ours, with
// the same verdicts as compress/flate's reader (FuzzInflater holds them to
// it). It produces no more than each Read asks for, allocates nothing once
// made, and reads its source only as far as the next symbol needs when
// nothing more is buffered. Codes of up to 9 bits decode with one table
// lookup, longer ones bit by bit; while eight input bytes are at hand, the
// decoder keeps its state in registers and takes a literal or a whole
// length/distance pair per step.
package deflate
