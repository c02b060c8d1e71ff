package family

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// Access and refresh tokens carry what the store needs to know of them in
// the token itself: their family, when they were issued, an access token's
// expiry and scope, a refresh token's place in its family. The simulator's
// token strategy wraps these claims into fosite's HMAC token format and
// hands the store a key that holds them, once the HMAC shows the simulator
// minted the token. So the store keeps nothing per access token and nothing
// per superseded refresh token, yet answers for any of them as it did when
// it kept a record of each: a provider refreshed thousands of times a second
// stays the same size.
type claims struct {
	kind   fosite.TokenType
	family string
	// serial numbers a family's refresh tokens in the order they were minted, from 1.
	serial uint64
	issued time.Time
	// expires is an access token's expiry; zero for never, and for refresh
	// tokens, whose deadlines the store computes.
	expires time.Time
	// scopes are the scopes an access token grants.
	scopes []string
}

// Marks that open encoded claims, one per kind.
const (
	accessMark  = 'A'
	refreshMark = 'R'
)

var b64 = base64.RawURLEncoding

// encode writes c in a compact binary form.
func (c claims) encode() []byte {
	b := []byte{accessMark}
	if c.kind == fosite.RefreshToken {
		b[0] = refreshMark
	}
	b = appendString(b, c.family)
	b = binary.AppendUvarint(b, c.serial)
	b = binary.AppendVarint(b, c.issued.UnixNano())
	var exp int64
	if !c.expires.IsZero() {
		exp = c.expires.UnixNano()
	}
	b = binary.AppendVarint(b, exp)
	return appendString(b, strings.Join(c.scopes, " "))
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errClaims = errors.New("not an oauthsim token's claims")

// decodeClaims reads what encode wrote.
func decodeClaims(b []byte) (claims, error) {
	var c claims
	if len(b) == 0 {
		return c, errClaims
	}
	switch b[0] {
	case accessMark:
		c.kind = fosite.AccessToken
	case refreshMark:
		c.kind = fosite.RefreshToken
	default:
		return c, errClaims
	}
	r := reader{b: b[1:]}
	c.family = r.string()
	c.serial = r.uvarint()
	c.issued = time.Unix(0, r.varint()).UTC()
	if exp := r.varint(); exp != 0 {
		c.expires = time.Unix(0, exp).UTC()
	}
	if scopes := r.string(); scopes != "" {
		c.scopes = strings.Split(scopes, " ")
	}
	if r.bad || len(r.b) != 0 || c.family == "" {
		return claims{}, errClaims
	}
	return c, nil
}

// reader reads varints and strings until one does not parse.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 { return next(r, binary.Uvarint) }

func (r *reader) varint() int64 { return next(r, binary.Varint) }

// next reads one number with decode, binary.Uvarint or binary.Varint.
func next[T uint64 | int64](r *reader, decode func([]byte) (T, int)) T {
	v, n := decode(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// Key is the store key of a token whose claims are claims and whose HMAC
// signature is sig. The token strategy calls it only for tokens whose
// signature it verified: the store trusts the claims a key holds.
func Key(claims []byte, sig string) string { return b64.EncodeToString(claims) + "." + sig }

// parseKey reads the claims of a key made by Key; ok is false for any other
// key (a code's signature, a token the simulator did not mint).
func parseKey(key string) (c claims, ok bool) {
	enc, _, found := strings.Cut(key, ".")
	if !found {
		return claims{}, false
	}
	raw, err := b64.DecodeString(enc)
	if err != nil {
		return claims{}, false
	}
	c, err = decodeClaims(raw)
	return c, err == nil
}
