// Package biometric is the shared vocabulary of ebsp: modalities, finger
// positions, decisions and candidates. It holds no algorithms and no I/O, so
// every other package (modality engines, codecs, the store, the node, the
// exchange) can import it without pulling anything else in.
package biometric

import "fmt"

// Modality is a kind of biometric sample.
type Modality string

// The modalities a node holds. The strings are stable: they appear in the
// store, the API and partnership agreements.
const (
	Finger Modality = "finger"
	Face   Modality = "face"
	Iris   Modality = "iris"
	DNA    Modality = "dna"
)

// Valid reports whether m is one of the known modalities.
func (m Modality) Valid() bool {
	switch m {
	case Finger, Face, Iris, DNA:
		return true
	}
	return false
}

// FingerPosition is a friction-ridge generalized position (FGP) code as
// defined in ANSI/NIST-ITL 1-2011 Table 8: 0 unknown, 1-10 the ten fingers
// (1 right thumb ... 5 right little, 6 left thumb ... 10 left little),
// 11-15 plain impressions of thumbs and four-finger slaps, 19 EJI.
type FingerPosition int

// Finger positions (ANSI/NIST-ITL 1-2011 Table 8).
const (
	UnknownFinger    FingerPosition = 0
	RightThumb       FingerPosition = 1
	RightIndex       FingerPosition = 2
	RightMiddle      FingerPosition = 3
	RightRing        FingerPosition = 4
	RightLittle      FingerPosition = 5
	LeftThumb        FingerPosition = 6
	LeftIndex        FingerPosition = 7
	LeftMiddle       FingerPosition = 8
	LeftRing         FingerPosition = 9
	LeftLittle       FingerPosition = 10
	PlainRightThumb  FingerPosition = 11
	PlainLeftThumb   FingerPosition = 12
	PlainRightFour   FingerPosition = 13
	PlainLeftFour    FingerPosition = 14
	PlainBothThumbs  FingerPosition = 15
	EJIOrTip         FingerPosition = 19
	maxFingerPostion FingerPosition = 19
)

var fingerNames = map[FingerPosition]string{
	UnknownFinger: "unknown", RightThumb: "right thumb", RightIndex: "right index",
	RightMiddle: "right middle", RightRing: "right ring", RightLittle: "right little",
	LeftThumb: "left thumb", LeftIndex: "left index", LeftMiddle: "left middle",
	LeftRing: "left ring", LeftLittle: "left little", PlainRightThumb: "plain right thumb",
	PlainLeftThumb: "plain left thumb", PlainRightFour: "plain right four fingers",
	PlainLeftFour: "plain left four fingers", PlainBothThumbs: "plain thumbs", EJIOrTip: "EJI or tip",
}

// Valid reports whether p is a code this package knows.
func (p FingerPosition) Valid() bool {
	_, ok := fingerNames[p]
	return ok && p <= maxFingerPostion
}

func (p FingerPosition) String() string {
	if n, ok := fingerNames[p]; ok {
		return n
	}
	return fmt.Sprintf("FGP(%d)", int(p))
}

// Decision is the outcome of a 1:N identification. It is never an
// admit/deny decision: a hit only says that a human should look.
type Decision string

// The decisions of an identification.
const (
	Hit    Decision = "hit"
	NoHit  Decision = "no_hit"
	Review Decision = "review"
)

// Candidate is one entry of a candidate list: a gallery identity and the
// fused score of the probe against it.
type Candidate struct {
	IdentityID string  `json:"identity_id"`
	Score      float64 `json:"score"`
}
