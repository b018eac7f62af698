package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ebsp/ebsp/store"
)

// maxBatch bounds how many enrolments share one commit.
const maxBatch = 64

// errClosed is what calls on a closed store return.
var errClosed = errors.New("sqlite: store is closed")

// enrolReq is one Enroll call waiting for the writer.
type enrolReq struct {
	ctx  context.Context
	e    store.Enrolment
	done chan error // buffered: the writer never blocks on it
}

// Enroll writes the enrolment atomically and returns once it is durable.
//
// Group commit: enrolments go to one writer goroutine, which writes all the
// enrolments waiting at that moment (up to maxBatch) in one transaction,
// each inside its own SAVEPOINT, and commits once. The cost of a commit is
// its fsync, so under concurrent load one fsync acknowledges many
// enrolments. Each enrolment stays atomic: a duplicate id or a failed check
// rolls back to its savepoint, failing that enrolment alone, and nobody is
// told "done" before the COMMIT has returned. Any other failure (I/O, disk
// full) fails the whole batch.
//
// Once handed to the writer the enrolment is waited for even if ctx ends:
// it may already be committed, and an error would then be a lie.
func (s *Store) Enroll(ctx context.Context, e store.Enrolment) error {
	if err := ctx.Err(); err != nil {
		return classify("enroll", err)
	}
	e, err := store.PrepareEnrolment(e, time.Now())
	if err != nil {
		return classify("enroll", err)
	}
	req := &enrolReq{ctx: ctx, e: e, done: make(chan error, 1)}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return classify("enroll", ctx.Err())
	case <-s.quit:
		return errClosed
	}
	return <-req.done
}

// writer runs the group commits until the store closes.
func (s *Store) writer() {
	defer close(s.writerDone)
	for {
		var batch []*enrolReq
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-s.quit:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch writes batch in one transaction and tells each caller its
// outcome.
func (s *Store) commitBatch(batch []*enrolReq) {
	// Not any caller's context: one caller giving up must not abort the
	// others' enrolments.
	ctx := context.Background()
	results := make([]error, len(batch))
	failAll := func(op string, err error) {
		for i, r := range batch {
			if results[i] == nil {
				results[i] = classify(op, err)
			}
			r.done <- results[i]
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		failAll("enroll: begin", err)
		return
	}
	defer tx.Rollback() // no-op after Commit
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = classify("enroll", err)
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT enrolment"); err != nil {
			failAll("enroll: savepoint", err)
			return
		}
		err := writeEnrolment(ctx, tx, &r.e)
		if err == nil {
			if _, err := tx.ExecContext(ctx, "RELEASE enrolment"); err != nil {
				failAll("enroll: release", err)
				return
			}
			continue
		}
		err = classify("enroll "+r.e.Encounter.ID, err)
		if !errors.Is(err, store.ErrDuplicate) && !errors.Is(err, store.ErrInvalid) {
			// After some errors SQLite has already rolled the whole
			// transaction back; carrying on would write the next
			// enrolments outside any transaction.
			results[i] = err
			failAll("enroll", fmt.Errorf("another enrolment of the same commit failed: %w", err))
			return
		}
		results[i] = err
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO enrolment"); rerr != nil {
			failAll("enroll: rollback to savepoint", rerr)
			return
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE enrolment"); rerr != nil {
			failAll("enroll: release", rerr)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll("enroll: commit", err)
		return
	}
	s.commits.Add(1)
	for i, r := range batch {
		if results[i] == nil {
			s.enrolments.Add(1)
		}
		r.done <- results[i]
	}
}
