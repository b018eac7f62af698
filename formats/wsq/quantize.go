package wsq

// This file is the scalar quantiser of IAFIS-IC-0110 Annex A.3: a
// coefficient in the zero bin [-Z/2, Z/2] becomes 0, others the index of
// their bin of width Q; the decoder puts a non-zero index p back at
// Q(p - C) + Z/2 (p > 0) or Q(p + C) - Z/2 (p < 0), C the bin centre.

// unquantize places the coefficients (in subband order, uncoded subbands
// skipped) into the plane, in the reference decoder's single precision.
func unquantize(plane []float32, width int, coef []float32, t *quantTable, l *layout) {
	c := t.binCenter
	i := 0
	for k, r := range l.subbands {
		q := t.q[k]
		if q == 0 {
			continue
		}
		hz := t.z[k] / 2
		for y := 0; y < r.h; y++ {
			row := plane[(r.y+y)*width+r.x : (r.y+y)*width+r.x+r.w]
			for x := range row {
				p := coef[i]
				i++
				switch {
				case p > 0:
					row[x] = float32(q*(p-c)) + hz
				case p < 0:
					row[x] = float32(q*(p+c)) - hz
				default:
					row[x] = 0
				}
			}
		}
	}
}

// quantize is the encoder's side: it maps the plane's coefficients of the
// coded subbands to bin indices, clamped to the 16 bits the escape
// categories can carry.
func quantize(plane []float32, width int, t *quantTable, l *layout) []int32 {
	var out []int32
	for k, r := range l.subbands {
		q := float64(t.q[k])
		if q == 0 {
			continue
		}
		hz := float64(t.z[k]) / 2
		for y := 0; y < r.h; y++ {
			row := plane[(r.y+y)*width+r.x : (r.y+y)*width+r.x+r.w]
			for _, v := range row {
				f := float64(v)
				var p int64
				switch {
				case f > hz:
					p = int64((f-hz)/q) + 1
				case f < -hz:
					p = int64((f+hz)/q) - 1
				}
				p = max(-0xFFFF, min(0xFFFF, p))
				out = append(out, int32(p))
			}
		}
	}
	return out
}
