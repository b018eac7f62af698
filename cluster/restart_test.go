package cluster

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/synth"
)

var restartFingers = flag.Int("restart-fingers", 10000, "BenchmarkMatcherRestart: fingers in the shard")

// writeSyntheticLog writes a shard log of fingers synthetic fingers (two
// index fingers a person, impression 1) without preparing them, as a
// matcher that enrolled them would have left it.
func writeSyntheticLog(b *testing.B, path string, fingers int) {
	l, err := openShardLog(path, 0, func(logRecord) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	var recs []logRecord
	for p := range fingers / 2 {
		r := logRecord{op: logEnrol, identity: fmt.Sprint("P", p)}
		for f, pos := range []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex} {
			m := synth.NewFingerMaster(5, uint64(2*p+f))
			master := synth.TemplateMaster(m)
			rec, err := iso19794.MinutiaeRecordFromTemplate(synth.TemplateImpression(m, &master, 1), iso19794.ISO19794_2_2005, pos)
			if err != nil {
				b.Fatal(err)
			}
			d, err := rec.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			r.tmpl = append(r.tmpl, Template{ID: fmt.Sprintf("P%d-%d", p, f), Position: pos, Data: d})
		}
		if recs = append(recs, r); len(recs) == 1024 {
			if err := l.append(recs...); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if err := l.append(recs...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMatcherRestart measures how long a matcher of -restart-fingers
// fingers takes to become searchable: "log" replays the shard log,
// preparing every template (no snapshot, or a stale or damaged one);
// "snapshot" loads the snapshot that replay wrote. Reported per start:
// wall seconds, process CPU seconds (all goroutines) and the snapshot's
// bytes per finger.
//
//	go test -run X -bench MatcherRestart -benchtime 1x ./cluster -args -restart-fingers 100000
func BenchmarkMatcherRestart(b *testing.B) {
	nc := embeddedConn(b)
	dir := b.TempDir()
	writeSyntheticLog(b, filepath.Join(dir, "shard-a.log"), *restartFingers)
	cfg := MatcherConfig{Prefix: "rs", Shard: "a", Engine: engine.Finger{}, Dir: dir}
	start := func(b *testing.B, want string) {
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		c0, t0 := fvc.ProcessCPU(), time.Now()
		m, err := NewMatcher(nc, cfg)
		if err != nil {
			b.Fatal(err)
		}
		wall, cpu := time.Since(t0), fvc.ProcessCPU()-c0
		m.Close()
		if n, _ := m.Gallery().Len(); n != *restartFingers || m.SnapshotState[:min(len(m.SnapshotState), len(want))] != want {
			b.Fatalf("%d templates, snapshot %q; want %d, %q", n, m.SnapshotState, *restartFingers, want)
		}
		b.ReportMetric(wall.Seconds(), "wall-s/start")
		b.ReportMetric(cpu.Seconds(), "cpu-s/start")
		if st, err := os.Stat(m.snapshotPath()); err == nil {
			b.ReportMetric(float64(st.Size())/float64(*restartFingers), "snapshot-bytes/finger")
		}
	}
	b.Run("log", func(b *testing.B) {
		for range b.N {
			os.Remove(filepath.Join(dir, "shard-a.snap"))
			start(b, "none")
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		if _, err := os.Stat(filepath.Join(dir, "shard-a.snap")); err != nil {
			m, err := NewMatcher(nc, cfg) // writes the snapshot, untimed
			if err != nil {
				b.Fatal(err)
			}
			m.Close()
		}
		b.ResetTimer()
		for range b.N {
			start(b, "loaded")
		}
	})
}
