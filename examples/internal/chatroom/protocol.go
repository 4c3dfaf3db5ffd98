//go:build !js

package chatroom

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/db7c6739/ws/examples/internal/casefold"
	"github.com/db7c6739/ws/wsproto"
)

// Limits of the chat protocol.
const (
	maxRoomLen   = 32   // bytes of [A-Za-z0-9_-]
	maxNameRunes = 24   // after trimming
	maxTextRunes = 2000 // of a chat message
	// maxInbound bounds a client's frame and an API request body. A valid
	// message can be much longer than maxTextRunes bytes once in JSON: 2000
	// runes written as \uXXXX surrogate pairs take 24 000 bytes.
	maxInbound = 32 << 10
)

// Server to client. Each is a JSON object whose "type" says what it is.
type (
	welcomeEvent struct {
		Type    string   `json:"type"` // "welcome"
		Name    string   `json:"name"`
		Room    string   `json:"room"`
		Members []string `json:"members"`
	}
	chatEvent struct {
		Type string `json:"type"` // "message"
		Name string `json:"name"`
		Text string `json:"text"`
		Time string `json:"time"`          // RFC 3339, UTC
		Via  string `json:"via,omitempty"` // "api" for a message posted through the HTTP API
	}
	noticeEvent struct {
		Type string `json:"type"` // "join" or "leave"
		Name string `json:"name"`
	}
	errorEvent struct {
		Type string `json:"type"` // "error"
		Text string `json:"text"`
	}
)

// clientMessage is what a client sends: {"type":"message","text":"..."}.
type clientMessage struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// apiMessage is the body of POST /api/rooms/{room}/messages.
type apiMessage struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

var (
	errNameLong    = errors.New("name: longer than 24 characters")
	errNameControl = errors.New("name: control characters are not allowed")
	errNameFormat  = errors.New("name: invisible characters (zero-width, bidi controls, soft hyphen, fillers) are not allowed")
	errNameSpace   = errors.New("name: leading or trailing space is not allowed")
	errNameSpaces  = errors.New("name: the only space allowed is U+0020")
	errNameUTF8    = errors.New("name: not valid UTF-8")
	errTextEmpty   = errors.New("text: empty")
	errTextLong    = errors.New("text: longer than 2000 characters")
	errTextUTF8    = errors.New("text: not valid UTF-8")
	errBinary      = errors.New("binary messages are not supported")
	errBadJSON     = errors.New("not a JSON object")
	errBadType     = errors.New(`unknown type: only "message" can be sent`)
)

// validRoom reports whether s names a room: 1–32 characters of
// [A-Za-z0-9_-].
func validRoom(s string) bool {
	if len(s) == 0 || len(s) > maxRoomLen {
		return false
	}
	for _, r := range []byte(s) {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// checkName checks s as a user name: at most 24 runes, no space at either
// end and no space but U+0020, no control character, and nothing that
// shows as nothing: format characters (Unicode category Cf: zero-width
// spaces and joiners, bidi controls, the soft hyphen), the other
// default-ignorable code points (the Hangul fillers, U+034F), the braille
// blank, and variation selectors that follow no symbol. Each of those
// would let "alice\u200b" or "\u202ealice" pass for "alice". An empty
// name is valid: the hub then picks one.
func checkName(s string) error {
	switch {
	case !utf8.ValidString(s):
		return errNameUTF8
	case utf8.RuneCountInString(s) > maxNameRunes:
		return errNameLong
	case strings.TrimSpace(s) != s:
		return errNameSpace
	case strings.ContainsFunc(s, unicode.IsControl):
		return errNameControl
	case strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) }):
		return errNameSpaces
	}
	prev := ' '
	for _, r := range s {
		if invisible(prev, r) {
			return errNameFormat
		}
		prev = r
	}
	return nil
}

// invisible reports whether r, after prev, shows as nothing.
func invisible(prev, r rune) bool {
	switch {
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r), r == '\u2800':
		return true
	case unicode.Is(unicode.Variation_Selector, r):
		// An emoji's presentation selector ("❤️") is part of a symbol; after
		// a letter, a digit or a space it only hides.
		return !unicode.IsSymbol(prev)
	}
	return false
}

// nameKey is what names are compared by: two names are the same name if
// they are equal once case-folded ("Alice", "ALICE" and "alice"; "Straße"
// and "STRASSE").
func nameKey(name string) string { return casefold.Fold(name) }

// checkText checks the text of a chat message, which is kept as it is:
// 1–2000 runes, not only white space.
func checkText(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errTextEmpty
	case !utf8.ValidString(s):
		return errTextUTF8
	case utf8.RuneCountInString(s) > maxTextRunes:
		return errTextLong
	}
	return nil
}

// parseClientMessage returns the text of a client's message, or why it is
// not a valid one.
func parseClientMessage(typ wsproto.MessageType, p []byte) (string, error) {
	if typ != wsproto.MessageText {
		return "", errBinary
	}
	var m clientMessage
	if err := json.Unmarshal(p, &m); err != nil {
		return "", errBadJSON
	}
	if m.Type != "message" {
		return "", errBadType
	}
	if err := checkText(m.Text); err != nil {
		return "", err
	}
	return m.Text, nil
}

// parseMessageEvent checks a chat message event from the bus, as the hub
// writes them ({"type":"message"} with a valid name and text, a time,
// "via" empty or "api"), and returns it encoded again: only what was
// understood goes on.
func parseMessageEvent(raw []byte) ([]byte, bool) {
	if len(raw) > maxEvent {
		return nil, false
	}
	var ev chatEvent
	if json.Unmarshal(raw, &ev) != nil || ev.Type != "message" || ev.Name == "" || checkName(ev.Name) != nil || checkText(ev.Text) != nil {
		return nil, false
	}
	if _, err := time.Parse(time.RFC3339, ev.Time); err != nil || len(ev.Time) > 64 || ev.Via != "" && ev.Via != "api" {
		return nil, false
	}
	return encode(ev), true
}

// encode marshals v as JSON without encoding/json's HTML escaping, so that a
// name like <b>x</b> travels as it is: the page shows peer strings with
// textContent, never as markup, and the JSON is valid either way.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// The events are structs of strings: they always marshal.
		panic("chat: encoding an event: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// prepare makes raw JSON into a text message ready for any number of
// connections.
func prepare(raw []byte) *wsproto.PreparedMessage {
	m, err := wsproto.NewPreparedMessage(wsproto.MessageText, raw)
	if err != nil {
		// encoding/json writes valid UTF-8 only.
		panic("chat: preparing an event: " + err.Error())
	}
	return m
}
