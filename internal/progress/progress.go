// Package progress reports how far a long job has got, on standard error
// by convention, in the form that suits where it goes: on a terminal one
// line redrawn in place (count, share, rate, time left); anywhere else (a
// pipe, a file, CI) plain lines that a log keeps: one when the job starts,
// one every interval (5 s by default) while it runs, one when it ends.
//
// A nil *Job does nothing, so callers need not check whether progress was
// asked for.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Interval is how often a job writes a line when the writer is not a
// terminal.
const Interval = 5 * time.Second

// redraw is how often a terminal line is redrawn at most.
const redraw = 100 * time.Millisecond

// Job is one job's progress: total steps (0 if not known in advance),
// counted with Add.
type Job struct {
	w     io.Writer
	tty   bool
	what  string
	total int64
	every time.Duration
	start time.Time
	now   func() time.Time

	mu    sync.Mutex
	n     int64
	last  time.Time // when the last line was written
	width int       // of the last terminal line, to blank it
	ended bool
}

// Start begins reporting job what of total steps on w; nil w means no
// report (a nil Job). Whether w is a terminal decides the form.
func Start(w io.Writer, what string, total int) *Job {
	if w == nil {
		return nil
	}
	return start(w, isTerminal(w), what, total, Interval, time.Now)
}

func start(w io.Writer, tty bool, what string, total int, every time.Duration, now func() time.Time) *Job {
	j := &Job{w: w, tty: tty, what: what, total: int64(total), every: every, now: now}
	j.start = now()
	j.last = j.start
	if tty {
		j.draw()
	} else if total > 0 {
		fmt.Fprintf(w, "%s: started, %d to do\n", what, total)
	} else {
		fmt.Fprintf(w, "%s: started\n", what)
	}
	return j
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Add counts n more steps done; safe for concurrent use.
func (j *Job) Add(n int) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.n += int64(n)
	if j.ended {
		return
	}
	t := j.now()
	switch {
	case j.tty && t.Sub(j.last) >= redraw:
		j.last = t
		j.draw()
	case !j.tty && t.Sub(j.last) >= j.every:
		j.last = t
		fmt.Fprintf(j.w, "%s: %s\n", j.what, j.status(t))
	}
}

// Set moves the count to done when that is ahead of it: for work that
// reports how much is done rather than each step (workers finishing out
// of order never move it back).
func (j *Job) Set(done int) {
	if j == nil {
		return
	}
	j.mu.Lock()
	d := int64(done) - j.n
	j.mu.Unlock()
	if d > 0 {
		j.Add(int(d))
	}
}

// Done ends the job with one line: the count and the time taken.
func (j *Job) Done() {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ended {
		return
	}
	j.ended = true
	t := j.now()
	el := t.Sub(j.start)
	line := fmt.Sprintf("%s: done, %d in %s", j.what, j.n, round(el))
	if s := el.Seconds(); s > 0 && j.n > 0 {
		line += fmt.Sprintf(" (%s/s)", rate(float64(j.n)/s))
	}
	if j.tty {
		fmt.Fprintf(j.w, "\r%-*s\n", j.width, line)
		return
	}
	fmt.Fprintln(j.w, line)
}

// status is the part of a line after the job's name.
func (j *Job) status(t time.Time) string {
	el := t.Sub(j.start)
	s := fmt.Sprintf("%d", j.n)
	if j.total > 0 {
		s = fmt.Sprintf("%d/%d (%.0f%%)", j.n, j.total, 100*float64(j.n)/float64(j.total))
	}
	s += ", " + round(el)
	if j.n > 0 && el > 0 {
		r := float64(j.n) / el.Seconds()
		s += fmt.Sprintf(", %s/s", rate(r))
		if j.total > j.n {
			left := time.Duration(float64(j.total-j.n) / r * float64(time.Second))
			s += ", about " + round(left) + " left"
		}
	}
	return s
}

func (j *Job) draw() {
	line := j.what + ": " + j.status(j.now())
	pad := max(j.width-len(line), 0)
	j.width = len(line)
	fmt.Fprintf(j.w, "\r%s%*s", line, pad, "")
}

// round prints a duration to a precision a person reads: 850ms, 12.3s, 4m05s.
func round(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func rate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}

// Phases reports a job of several phases, each a Job of its own, from a
// callback of the form func(phase string, done, total int) that workers may
// call concurrently (bench.Progress, fvc.Options.Progress).
type Phases struct {
	w    io.Writer
	name string
	mu   sync.Mutex
	at   string
	job  *Job
}

// NewPhases reports the phases of job name on w (nil: nothing).
func NewPhases(w io.Writer, name string) *Phases { return &Phases{w: w, name: name} }

// Update says that done of total steps of phase are done; a new phase ends
// the one before.
func (p *Phases) Update(phase string, done, total int) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	if phase != p.at || p.job == nil {
		p.job.Done()
		p.at = phase
		p.job = Start(p.w, p.name+": "+phase, total)
	}
	j := p.job
	p.mu.Unlock()
	j.Set(done)
}

// Done ends the last phase.
func (p *Phases) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.job.Done()
	p.job = nil
}
