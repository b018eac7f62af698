// Package synth makes synthetic people and their biometrics, so that ebsp can
// be developed, tested and demonstrated without anyone's real data.
//
// Fingerprints follow the SFinGe method of Cappelli, Maio and Maltoni
// (Handbook of Fingerprint Recognition, 2nd ed., ch. 7): a master
// fingerprint per finger (pattern class, singular points, an orientation field
// from the zero-pole model of Sherlock and Monro, a ridge-frequency map, a
// ridge pattern grown from random seeds by iterative contextual Gabor
// filtering) and impressions of it (displacement, rotation, Cappelli's
// non-linear skin distortion, partial contact, pressure and dryness, sensor
// noise and background). A template-level mode draws minutiae directly from the
// same master model for galleries of millions. Face vectors, iris codes, STR
// profiles and whole populations with encounters and flags complete the set.
//
// Every generator is deterministic for a seed: randomness comes only from
// math/rand/v2 PCG sources derived from the seed and a label (see newRand), never
// from the global source, and no output depends on map iteration order.
package synth
