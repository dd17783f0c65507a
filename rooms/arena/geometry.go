package arena

import "math"

// Floating-point note: the Go spec lets a compiler fuse x + y*z into one
// FMA instruction on some targets (arm64, or amd64 built with GOAMD64=v3),
// which rounds differently.
// Every product that feeds an addition is wrapped in float64(...), which
// forbids the fusion, so a recording replays to the same state on any CPU.

// slack is how much overlap is left alone: float rounding after a push
// leaves avatars a hair under AvatarSize apart, which is not worth a pass.
const slack = 1e-6

func dist2(ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	return float64(dx*dx) + float64(dy*dy)
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
