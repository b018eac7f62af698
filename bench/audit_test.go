package bench

import (
	"context"
	"testing"
)

// TestRunAudit runs the transparency log benchmark on a small log and checks
// the figures it must print (not their values: a benchmark, not a timed test).
func TestRunAudit(t *testing.T) {
	dir := t.TempDir() + "/log"
	r, err := RunAudit(context.Background(), AuditOptions{Dir: dir, Leaves: 3000, Batch: 100, Proofs: 50, Synced: 5, Rebuild: true, Verify: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkLatency(t, "inclusion", r.Inclusion, 50)
	checkLatency(t, "consistency", r.Consistency, 50)
	checkLatency(t, "synced append", r.SyncedAppend, 5)
	if r.ProofsChecked != 100 || r.VerifySeconds <= 0 || r.OpenLeavesRead != 0 || r.LeavesPerSecond <= 0 || r.InclusionCPUMicros <= 0 {
		t.Errorf("result %+v", r)
	}
	if r.MeanLeafBytes < 100 || r.IndexFileBytes != 8*3005 || r.TileBytes != 11*8192 || r.HeapAtEnd <= 0 {
		t.Errorf("sizes: %+v", r)
	}
	if _, err := RunAudit(context.Background(), AuditOptions{Dir: dir, Leaves: 10}); err == nil {
		t.Error("benchmark appended to an existing log")
	}
}
