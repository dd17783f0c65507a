// Package payload validates what a room type receives from outside: a
// member's input, a flat MessagePack map (Decode, then Map's getters), and a
// creator's options, a decoded JSON object (ParseOptions).
//
// Both accept numbers as integers or floats, since JavaScript encodes 3 as an
// integer and 3.5 as a float, and check them where they are read: finite,
// whole where a whole number is wanted, inside a range where one is given.
// Every refusal is an error naming the key, what it held and what was
// wanted, so that the member (bad_input) or the creator (bad_options) can
// see what to fix. A room type keeps only its own rules: which keys it
// takes, their ranges, and what the values mean.
package payload
