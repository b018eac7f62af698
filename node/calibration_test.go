package node

import (
	"math"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
)

// TestConfiguredTail gives a node a measured impostor tail: its thresholds
// follow that tail, not the engine's, and a malformed tail is refused with
// the field named.
func TestConfiguredTail(t *testing.T) {
	heavy := engine.Tail{Mean: 0.06, Points: []engine.TailPoint{{Score: 0.074, FMR: 1e-1}, {Score: 0.102, FMR: 1e-2}, {Score: 0.131, FMR: 1e-3}}}
	tn := newTestNode(t, func(c *Config) { c.ImpostorTails = map[biometric.Modality]engine.Tail{biometric.Finger: heavy} })
	enrolPeople(t, tn, 10)
	pol := tn.policy(biometric.Finger)
	want := heavy.ScoreAt(tn.cfg.FPIRHit / 10)
	if math.Abs(pol.Hit-want) > 1e-12 || pol.Mean != heavy.Mean {
		t.Fatalf("hit threshold %v, mean %v; want %v and %v from the configured tail", pol.Hit, pol.Mean, want, heavy.Mean)
	}
	if def := (engine.Finger{}).Tail().ScoreAt(tn.cfg.FPIRHit / 10); pol.Hit <= def {
		t.Fatalf("configured heavier tail gives hit %v, not above the built-in %v", pol.Hit, def)
	}
	for _, bad := range []engine.Tail{
		{},
		{Points: []engine.TailPoint{{Score: 0.1, FMR: 1e-2}, {Score: 0.2, FMR: 1e-1}}},
		{Points: []engine.TailPoint{{Score: 0.2, FMR: 1e-1}, {Score: 0.1, FMR: 1e-2}}},
		{Points: []engine.TailPoint{{Score: math.NaN(), FMR: 1e-1}}},
	} {
		c := &Config{ImpostorTails: map[biometric.Modality]engine.Tail{biometric.Finger: bad}}
		c.Defaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "impostor_tails.finger") {
			t.Errorf("tail %+v: Validate said %v", bad, err)
		}
	}
}
