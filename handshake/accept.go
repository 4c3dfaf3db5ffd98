package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
)

// GUID is the string a server appends to the client's Sec-WebSocket-Key
// before hashing it into Sec-WebSocket-Accept (RFC 6455 §1.3, §4.2.2).
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// keyLen is the length of a base64-encoded 16-byte Sec-WebSocket-Key.
const keyLen = 24

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key:
// the base64 encoding of SHA-1(key + GUID) (RFC 6455 §4.2.2 item 5.4).
// The key is used as sent, without decoding or trimming.
func AcceptKey(key string) string {
	sum := acceptSum(key)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value for key to dst and
// returns the extended slice, like [AcceptKey]. It does not allocate when dst
// has room for the 28 bytes it appends and key is at most 92 bytes long
// (a valid key is 24).
func AppendAcceptKey(dst, key []byte) []byte {
	sum := acceptSum(key)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// acceptSum hashes key+GUID. Keys short enough to fit a stack buffer beside
// the GUID are hashed with sha1.Sum, which does not allocate; only longer
// (invalid, but possible) keys need a heap-allocated hash.Hash.
func acceptSum[T string | []byte](key T) [sha1.Size]byte {
	var buf [128]byte
	if len(key)+len(GUID) <= len(buf) {
		n := copy(buf[:], key)
		n += copy(buf[n:], GUID)
		return sha1.Sum(buf[:n])
	}
	h := sha1.New()
	h.Write([]byte(key))
	io.WriteString(h, GUID)
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
}

// NewKey returns a fresh Sec-WebSocket-Key: 16 bytes from crypto/rand,
// base64-encoded (RFC 6455 §4.1 item 7).
func NewKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("handshake: generating key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// validKey reports whether key is a Sec-WebSocket-Key a server may accept:
// base64 that decodes to exactly 16 bytes (RFC 6455 §4.2.1 item 5, §11.3.1).
func validKey[T string | []byte](key T) bool {
	if len(key) != keyLen {
		return false
	}
	var src [keyLen]byte
	copy(src[:], key)
	var dst [18]byte
	n, err := base64.StdEncoding.Decode(dst[:], src[:])
	return err == nil && n == 16
}
