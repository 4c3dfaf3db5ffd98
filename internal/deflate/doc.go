// Package deflate is a small DEFLATE (RFC 1951) compressor for
// permessage-deflate (RFC 7692): bounded window, history kept across
// messages, little memory. Decompression uses compress/flate.
//
// A Writer exists because compress/flate's Writer does not fit a compressor
// that lives as long as a connection: it holds about a megabyte and its LZ77
// window is always 32 KiB, while RFC 7692 §7.1.2 lets a peer limit the window
// to 2^8..2^15 bytes with server_max_window_bits and client_max_window_bits.
//
// # Output
//
// The output is a raw DEFLATE stream (no zlib or gzip framing) made of
// fixed-Huffman blocks (RFC 1951 §3.2.6), stored blocks (§3.2.4) for input
// that fixed codes would grow, and the empty stored blocks of sync flushes;
// it never sets BFINAL. Matching is greedy LZ77 over a hash of four bytes.
// Fixed codes make it fast and keep it small, at a price in ratio: text
// compresses about a quarter worse than with compress/flate's dynamic
// codes, and a Writer without LZ77 matching (huffmanOnly) does not
// compress at all, since no byte has a fixed code shorter than 8 bits. A message of permessage-deflate is a sequence of Append calls, the
// last with flush set; the caller strips the 00 00 ff ff that ends it
// (RFC 7692 §7.2.1) and the peer appends it back before inflating.
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
// A Writer holds a history buffer of 2 * 2^windowBits bytes and a hash table
// of at most 4096 int32 positions (16 KiB), fewer for small windows: about
// 80 KiB for windowBits 15 and under 3 KiB for windowBits 8. After NewWriter,
// Append allocates only when dst lacks capacity, and neither Append nor Reset
// does work proportional to the window or the table: stale table entries are
// recognised by their position and ignored, never cleared.
//
// # Concurrency
//
// A Writer is not safe for concurrent use; one goroutine at a time may call
// its methods.
package deflate
