package simulate

import (
	"math/rand/v2"
	"strconv"
)

// rnd is the seeded source of every choice. Generation draws from it in a fixed order, so
// a seed always gives the same output.
type rnd struct{ *rand.Rand }

func newRnd(seed, stream uint64) rnd { return rnd{rand.New(rand.NewPCG(seed, stream))} }

// chance reports true with probability p.
func (r rnd) chance(p float64) bool { return r.Float64() < p }

// between returns an int in [lo, hi].
func (r rnd) between(lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// pick returns one element of xs.
func pick[T any](r rnd, xs []T) T { return xs[r.IntN(len(xs))] }

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	keyChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexChars   = "0123456789abcdef"
	lowerChars = "abcdefghijklmnopqrstuvwxyz"
)

// str returns n characters drawn from alphabet.
func (r rnd) str(alphabet string, n int) string {
	return string(r.appendStr(make([]byte, 0, n), alphabet, n))
}

func (r rnd) appendStr(b []byte, alphabet string, n int) []byte {
	for range n {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	return b
}

// key returns an AWS-style identifier: prefix and 16 characters of the key alphabet
// (AKIA…, ASIA…, AIDA…, AROA… IDs are 20 characters long).
func (r rnd) key(prefix string) string {
	b := make([]byte, 0, len(prefix)+16)
	b = append(b, prefix...)
	return string(r.appendStr(b, keyChars, 16))
}

// hexID returns prefix and n lowercase hex digits (sg-…, i-…, subnet-…).
func (r rnd) hexID(prefix string, n int) string {
	b := make([]byte, 0, len(prefix)+n)
	b = append(b, prefix...)
	return string(r.appendStr(b, hexChars, n))
}

// digits returns n decimal digits, the first not zero.
func (r rnd) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	if b[0] == '0' {
		b[0] = byte('1' + r.IntN(9))
	}
	return string(b)
}

// appendUUID appends a random version-4 UUID.
func (r rnd) appendUUID(b []byte) []byte {
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	var u [32]byte
	for i := 15; i >= 0; i-- {
		u[i] = hexChars[hi&0xf]
		hi >>= 4
	}
	for i := 31; i >= 16; i-- {
		u[i] = hexChars[lo&0xf]
		lo >>= 4
	}
	b = append(b, u[0:8]...)
	b = append(b, '-')
	b = append(b, u[8:12]...)
	b = append(b, '-')
	b = append(b, u[12:16]...)
	b = append(b, '-')
	b = append(b, u[16:20]...)
	b = append(b, '-')
	return append(b, u[20:32]...)
}

func (r rnd) uuid() string { return string(r.appendUUID(make([]byte, 0, 36))) }

// ipIn returns an address of a /24 given as its first three octets ("203.0.113").
func (r rnd) ipIn(prefix24 string) string {
	return prefix24 + "." + strconv.Itoa(r.between(2, 254))
}
