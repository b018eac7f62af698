package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source the test advances.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLinesWithoutTerminal(t *testing.T) {
	var buf bytes.Buffer
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	j := start(&buf, false, "enrolling", 100, 5*time.Second, c.now)
	for range 10 {
		c.t = c.t.Add(time.Second)
		j.Add(5) // one line every 5 s: after 25 and after 50
	}
	j.Done()
	want := "enrolling: started, 100 to do\n" +
		"enrolling: 25/100 (25%), 5s, 5.00/s, about 15s left\n" +
		"enrolling: 50/100 (50%), 10s, 5.00/s, about 10s left\n" +
		"enrolling: done, 50 in 10s (5.00/s)\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestTerminalRedrawsOneLine(t *testing.T) {
	var buf bytes.Buffer
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	j := start(&buf, true, "search", 0, 5*time.Second, c.now)
	for range 5 {
		c.t = c.t.Add(200 * time.Millisecond)
		j.Add(1)
	}
	j.Done()
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "search: done, 5 in 1s (5.00/s)\n") {
		t.Fatalf("terminal output %q", out)
	}
	if strings.Count(out, "\r") != 7 { // start, five redraws, done
		t.Fatalf("want 7 redraws, got %q", out)
	}
}

func TestNilJobAndNilWriter(t *testing.T) {
	j := Start(nil, "x", 3)
	j.Add(1)
	j.Done()
	var buf bytes.Buffer
	j = Start(&buf, "x", 0) // a buffer is not a terminal
	j.Done()
	j.Done()
	if buf.String() != "x: started\nx: done, 0 in "+strings.TrimPrefix(buf.String(), "x: started\nx: done, 0 in ") || strings.Count(buf.String(), "done") != 1 {
		t.Fatalf("got %q", buf.String())
	}
}

func TestConcurrentAdd(t *testing.T) {
	var buf bytes.Buffer
	j := Start(&buf, "x", 8000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				j.Add(1)
			}
		}()
	}
	wg.Wait()
	j.Done()
	if !strings.Contains(buf.String(), "done, 8000 in") {
		t.Fatalf("got %q", buf.String())
	}
}

func TestPhases(t *testing.T) {
	var buf bytes.Buffer
	p := NewPhases(&buf, "bench")
	p.Update("enrol", 1, 2)
	p.Update("enrol", 2, 2)
	p.Update("enrol", 1, 2) // late report of a worker: no step back
	p.Update("search", 5, 10)
	p.Done()
	out := buf.String()
	for _, want := range []string{"bench: enrol: started, 2 to do\n", "bench: enrol: done, 2 in", "bench: search: started, 10 to do\n", "bench: search: done, 5 in"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	NewPhases(nil, "x").Update("a", 1, 1) // nil writer: nothing, no panic
}
