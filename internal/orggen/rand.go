package orggen

import "math/bits"

// rng is the generator's pseudo-random source: wyrand, a 64-bit
// multiply-mix generator. It is not math/rand/v2 on purpose: the bytes the
// generator writes are a function of the seed, so every algorithm between
// the seed and the output (including how a number in [0,n) is drawn) must
// be the generator's own and never change with a Go release.
//
// An rng is a value, not shared: each delivery file gets its own, seeded
// from the run seed and the file's identity, so files can be generated in
// any order on any number of goroutines and still come out byte-identical.
type rng struct{ s uint64 }

func newRNG(seed uint64) rng { return rng{s: seed} }

// u64 returns 64 random bits.
func (r *rng) u64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a number in [0, n) (Lemire's multiply-shift; the bias for
// the small n used here is far below anything observable). n must be > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// pick returns a random element of s, which must not be empty.
func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }

// splitmix64 is the finaliser used to derive independent seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// seedOf derives a seed from the run seed and the parts that name one
// stream (a file, an account, a scenario), so that every stream is
// independent of how many others there are.
func seedOf(seed uint64, parts ...uint64) uint64 {
	h := splitmix64(seed)
	for _, p := range parts {
		h = splitmix64(h ^ p)
	}
	return h
}

// hashString is 64-bit FNV-1a, used to turn names into seed parts.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
