package iris

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func randomCode(r *rand.Rand) *Code {
	c := new(Code)
	for w := range c.Bits {
		c.Bits[w] = r.Uint64()
		c.Mask[w] = ^uint64(0)
	}
	return c
}

func TestRotateIsAngularShift(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := randomCode(r)
	for _, s := range []int{1, -1, 3, 31, -64, 100} {
		var d Code
		rotate(&d, c, s)
		for ring := range Rings {
			for a := range Angles {
				src := ((a-s)%Angles + Angles) % Angles
				for comp := range 2 {
					got, _ := d.Bit((ring*Angles+a)*2 + comp)
					want, _ := c.Bit((ring*Angles+src)*2 + comp)
					if got != want {
						t.Fatalf("shift %d ring %d angle %d comp %d: got %v want %v", s, ring, a, comp, got, want)
					}
				}
			}
		}
	}
}

func TestCompareFindsRotation(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := randomCode(r)
	var b Code
	rotate(&b, a, 5) // b is a with the eye turned by 5 steps
	res := Compare(a, &b, 8)
	if res.HD != 0 || res.Shift != -5 {
		t.Fatalf("got HD %.3f at shift %d, want 0 at -5", res.HD, res.Shift)
	}
	if res := Compare(a, &b, 2); res.HD < 0.4 {
		t.Fatalf("HD %.3f found without reaching the rotation", res.HD)
	}
}

func TestMaskExcludesBits(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a := randomCode(r)
	b := *a
	for i := range 512 { // flip the first two rings and mask them out in b
		bit, _ := b.Bit(i)
		b.Set(i, !bit, false)
	}
	res := Compare(a, &b, 0)
	if res.HD != 0 || res.Valid != Bits-512 {
		t.Fatalf("got HD %.3f over %d bits, want 0 over %d", res.HD, res.Valid, Bits-512)
	}
}

func TestNoValidBits(t *testing.T) {
	var a, b Code
	if res := Compare(&a, &b, 3); res.HD != 1 || res.Valid != 0 {
		t.Fatalf("empty masks gave %+v", res)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	a := randomCode(rand.New(rand.NewPCG(7, 8)))
	a.Mask[3] = 0x0f0f
	b, _ := a.MarshalBinary()
	var back Code
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back != *a {
		t.Fatal("round trip changed the code")
	}
}

func FuzzUnmarshal(f *testing.F) {
	a := randomCode(rand.New(rand.NewPCG(9, 10)))
	b, _ := a.MarshalBinary()
	f.Add(b)
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var c Code
		if err := c.UnmarshalBinary(in); err != nil {
			return
		}
		out, _ := c.MarshalBinary()
		if !bytes.Equal(in, out) {
			t.Fatal("not a round trip")
		}
		if res := Compare(&c, &c, 2); res.Valid >= minValid && res.HD != 0 {
			t.Fatalf("self distance %v", res.HD)
		}
	})
}
