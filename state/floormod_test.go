package state

import "testing"

// TestFloorModPowerOfTwo: the mask taken for a power-of-two modulus (the
// angle grid) equals the division's non-negative remainder, negative and
// extreme values included.
func TestFloorModPowerOfTwo(t *testing.T) {
	div := func(a, m int64) int64 {
		r := a % m
		if r < 0 {
			r += m
		}
		return r
	}
	for _, m := range []int64{1, 2, 4096, 1 << 40, 3, 4095, 4097, 1000} {
		for _, a := range []int64{0, 1, -1, 2047, 2048, -2048, -2049, 4095, 4096, -4096, -4097, 123456789, -123456789,
			1<<62 + 5, -(1 << 62) - 5, 9223372036854775807, -9223372036854775808} {
			if got, want := floorMod(a, m), div(a, m); got != want {
				t.Errorf("floorMod(%d, %d) = %d, want %d", a, m, got, want)
			}
		}
	}
}
