package handshake

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExtensions(t *testing.T) {
	pmd := "permessage-deflate"
	tests := []struct {
		name      string
		in        string
		want      []Extension
		canonical string // AppendExtensions of want; in if empty
	}{
		{name: "empty", in: ""},
		{name: "only commas", in: " , ,", canonical: ""},
		{name: "one", in: pmd, want: []Extension{{Name: pmd}}},
		{
			name: "param without value", in: pmd + "; client_max_window_bits",
			want: []Extension{{Name: pmd, Params: []Param{{Name: "client_max_window_bits"}}}},
		},
		{
			name: "params with and without values",
			in:   pmd + "; client_max_window_bits=10; server_no_context_takeover",
			want: []Extension{{Name: pmd, Params: []Param{
				{Name: "client_max_window_bits", Value: "10", HasValue: true},
				{Name: "server_no_context_takeover"},
			}}},
		},
		{
			name: "several offers, repeated extension kept in order",
			in:   pmd + "; client_max_window_bits=10, x-foo, " + pmd,
			want: []Extension{
				{Name: pmd, Params: []Param{{Name: "client_max_window_bits", Value: "10", HasValue: true}}},
				{Name: "x-foo"},
				{Name: pmd},
			},
		},
		{
			name: "quoted value", in: `foo; bar="baz"`,
			want:      []Extension{{Name: "foo", Params: []Param{{Name: "bar", Value: "baz", HasValue: true}}}},
			canonical: "foo; bar=baz",
		},
		{
			name: "quoted value with escapes", in: `foo; bar="b\a\z"; n="1\0"`,
			want: []Extension{{Name: "foo", Params: []Param{
				{Name: "bar", Value: "baz", HasValue: true},
				{Name: "n", Value: "10", HasValue: true},
			}}},
			canonical: "foo; bar=baz; n=10",
		},
		{
			name: "whitespace everywhere allowed",
			in:   " foo ;\tbar = 1 ; baz\t,qux ",
			want: []Extension{
				{Name: "foo", Params: []Param{{Name: "bar", Value: "1", HasValue: true}, {Name: "baz"}}},
				{Name: "qux"},
			},
			canonical: "foo; bar=1; baz, qux",
		},
		{
			name: "empty elements", in: ", foo,, bar ,",
			want:      []Extension{{Name: "foo"}, {Name: "bar"}},
			canonical: "foo, bar",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			require.NoError(t, scanExtensions([]byte(tt.in), nil))

			canonical := tt.in
			if tt.canonical != "" || tt.want == nil {
				canonical = tt.canonical
			}
			out := AppendExtensions(nil, got)
			assert.Equal(t, canonical, string(out))
			again, err := ParseExtensions(out)
			require.NoError(t, err)
			assert.Equal(t, got, again, "round trip")
		})
	}
}

func TestParseExtensionsMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"two names", "foo bar"},
		{"bad token in name", "fo@o"},
		{"bad token in name, quoted", `"foo"`},
		{"leading ';'", "; foo"},
		{"trailing ';'", "foo;"},
		{"trailing '; '", "foo; "},
		{"empty param", "foo;;bar"},
		{"param without name", "foo; =1"},
		{"'=' without value", "foo; bar="},
		{"'=' without value before ','", "foo; bar=, baz"},
		{"value with space", "foo; bar=a b"},
		{"bad token in value", "foo; bar=a/b"},
		{"unterminated quote", `foo; bar="baz`},
		{"unterminated after escape", `foo; bar="baz\`},
		{"escaped closing quote", `foo; bar="baz\"`},
		{"quoted value not a token", `foo; bar="b z"`},
		{"quoted value with escaped separator", `foo; bar="a\,b"`},
		{"empty quoted value", `foo; bar=""`},
		{"text after quoted value", `foo; bar="x"y`},
		{"bad param token", "foo; b(r"},
		{"control character", "foo;\x01bar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions([]byte(tt.in))
			require.Error(t, err)
			assert.Nil(t, got)
			var e *Error
			require.True(t, errors.As(err, &e))
			assert.Equal(t, 400, e.Status)
			assert.Equal(t, "Sec-WebSocket-Extensions", e.Header)
			assert.Error(t, scanExtensions([]byte(tt.in), nil), "validation alone must agree")
		})
	}
}

func TestExtensionString(t *testing.T) {
	e := Extension{Name: "permessage-deflate", Params: []Param{
		{Name: "client_max_window_bits"},
		{Name: "server_max_window_bits", Value: "10", HasValue: true},
	}}
	assert.Equal(t, "permessage-deflate; client_max_window_bits; server_max_window_bits=10", e.String())
}

func TestAppendExtensions(t *testing.T) {
	exts := []Extension{
		{Name: "a", Params: []Param{{Name: "p"}, {Name: "q", Value: "v", HasValue: true}}},
		{Name: "other"},
	}
	assert.Equal(t, "prefix: a; p; q=v, other", string(AppendExtensions([]byte("prefix: "), exts)))
	assert.Empty(t, AppendExtensions(nil, nil))
}
