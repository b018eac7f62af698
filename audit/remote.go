package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ebsp/ebsp/internal/durable"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TileSource is a log as a C2SP tlog-tiles server publishes it: the latest
// signed checkpoint at <prefix>/checkpoint and the hash tiles at
// <prefix>/tile/<L>/<N>[.p/<W>]. The prefix is an http(s) URL (a node
// serves its log at https://NODE/v1/audit) or a directory holding the same
// paths (a mirror). It is a tlog.TileReader: tlog.TileHashReader
// authenticates what it reads against a checkpoint, so nothing it returns
// is trusted on its own.
type TileSource struct {
	Prefix string
	Token  string       // bearer token sent with HTTP requests, if any
	Client *http.Client // nil: a client with a 30 s timeout
	ctx    context.Context
}

// maxCheckpointBytes bounds a fetched checkpoint: a note of three lines,
// a few extension lines and a few signatures.
const maxCheckpointBytes = 16 << 10

// NewTileSource returns the source at prefix; requests end with ctx.
func NewTileSource(ctx context.Context, prefix, token string) *TileSource {
	return &TileSource{Prefix: strings.TrimSuffix(prefix, "/"), Token: token, ctx: ctx}
}

func (s *TileSource) remote() bool {
	return strings.HasPrefix(s.Prefix, "http://") || strings.HasPrefix(s.Prefix, "https://")
}

// get reads the file at path under the prefix, at most limit bytes.
func (s *TileSource) get(path string, limit int64) ([]byte, error) {
	if !s.remote() {
		f, err := os.Open(filepath.Join(s.Prefix, filepath.FromSlash(path)))
		if err != nil {
			return nil, fmt.Errorf("audit: %v", err)
		}
		defer f.Close()
		return readLimited(f, limit, path)
	}
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", s.Prefix+"/"+path, nil)
	if err != nil {
		return nil, fmt.Errorf("audit: %v", err)
	}
	if s.Token != "" {
		if req.URL.Scheme != "https" && !loopbackHost(req.URL.Hostname()) {
			// An auditor's token is a credential: never in the clear
			// across a network.
			return nil, fmt.Errorf("audit: a token is sent only over https (or to this machine), not to %s", req.URL.Redacted())
		}
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("audit: fetching %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("audit: fetching %s: %s: %s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return readLimited(resp.Body, limit, path)
}

// loopbackHost reports whether host names only this machine.
func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("audit: reading %s: %v", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("audit: %s is longer than %d bytes", what, limit)
	}
	return b, nil
}

// Checkpoint returns the signed checkpoint the source publishes.
func (s *TileSource) Checkpoint() ([]byte, error) { return s.get("checkpoint", maxCheckpointBytes) }

// Height is the tile height of C2SP tlog-tiles.
func (s *TileSource) Height() int { return TileHeight }

// ReadTiles fetches tiles; a tile that is not exactly its width of hashes
// is refused.
func (s *TileSource) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != TileHeight || t.L < 0 {
			return nil, fmt.Errorf("audit: tile %s is not a tlog-tiles hash tile", t.Path())
		}
		want := t.W * tlog.HashSize
		b, err := s.get(TilePath(t), int64(want))
		if err != nil {
			return nil, err
		}
		if len(b) != want {
			return nil, fmt.Errorf("audit: tile %s is %d bytes, want %d", TilePath(t), len(b), want)
		}
		out[i] = b
	}
	return out, nil
}

// SaveTiles keeps nothing: every verification fetches afresh.
func (s *TileSource) SaveTiles([]tlog.Tile, [][]byte) {}

// VerifyTiles checks checkpoints a party kept against the log as a tile
// source publishes it now, without the leaves (what a witness or a partner
// can check from the node's API):
//
//   - the published checkpoint's signature and origin;
//   - every kept checkpoint's signature and origin, and that its size is
//     no larger than the published one (else the log rolled back);
//   - that its root equals the tree hash of that size computed from tiles
//     authenticated against the published checkpoint (else the log shown
//     now is not an extension of the one the checkpoint was taken from);
//   - that kept checkpoints of one size have one root.
//
// It reads a few tiles per checkpoint, whatever the log's size. Leaves are
// not checked (they are not published); Verify does that from an export.
func VerifyTiles(src *TileSource, v note.Verifier, kept []SignedCheckpoint) *Report {
	return VerifyTilesKeys(src, []note.Verifier{v}, kept)
}

// VerifyTilesKeys is VerifyTiles with several keys of the log, such as a
// partner holds after a log-key rotation: the old key for the checkpoints
// it kept before, the new one for the published checkpoint. Without the
// leaves the rotation leaves cannot be read, so each key given is trusted
// for any tree size (VerifyKeys, from the leaves, knows where a key
// retired).
func VerifyTilesKeys(src *TileSource, keys []note.Verifier, kept []SignedCheckpoint) *Report {
	r := &Report{}
	ring, err := NewKeyRingOf(keys...)
	if err != nil {
		r.problem("keys: %v", err)
		return r
	}
	r.Origin, r.Keys = ring.Origin(), ring.Keys()
	signed, err := src.Checkpoint()
	if err != nil {
		r.problem("published checkpoint: %v", err)
		return r
	}
	latest, err := ring.Open(signed)
	if err != nil {
		r.problem("published checkpoint: %v", err)
		return r
	}
	r.Leaves, r.Root = latest.Size, latest.Hash.String()
	hashes := tlog.TileHashReader(tlog.Tree{N: latest.Size, Hash: latest.Hash}, src)
	type good struct {
		src string
		c   Checkpoint
	}
	var ok []good
	for _, k := range kept {
		res := CheckpointResult{Source: k.Source}
		c, err := ring.Open(k.Signed)
		res.Size = c.Size
		switch {
		case err != nil:
			res.Error = err.Error()
		case c.Size > latest.Size:
			res.Error = fmt.Sprintf("checkpoint commits to %d leaves but the log now publishes %d: the log was rolled back", c.Size, latest.Size)
		default:
			ok = append(ok, good{k.Source, c})
			h, err := tlog.TreeHash(c.Size, hashes)
			switch {
			case err != nil:
				res.Error = fmt.Sprintf("tree hash at %d from the published tiles: %v", c.Size, err)
			case h != c.Hash:
				res.Error = fmt.Sprintf("the published log's first %d leaves have root %v, checkpoint says %v: the log now shown does not extend the one this checkpoint came from", c.Size, h, c.Hash)
			default:
				res.OK = true
			}
		}
		if !res.OK {
			r.problem("checkpoint %s: %s", k.Source, res.Error)
		}
		r.Checkpoints = append(r.Checkpoints, res)
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].c.Size < ok[j].c.Size })
	for i := 1; i < len(ok); i++ {
		if a, b := ok[i-1], ok[i]; a.c.Size == b.c.Size && a.c.Hash != b.c.Hash {
			r.problem("checkpoints %s and %s: %v", a.src, b.src, errors.New("two roots for one size: the log showed two histories"))
		}
	}
	return r
}

// Publish writes the log's latest checkpoint and its hash tiles under dir
// in the C2SP tlog-tiles layout (dir/checkpoint, dir/tile/<L>/<N>[.p/<W>]),
// for a static web server or a mirror that TileSource reads. from is the
// tree size already published there (0 for none): only the tiles that
// changed since are written (tlog.NewTiles), then the checkpoint.
func (l *Log) Publish(dir string, from int64) error {
	signed, n, err := l.Checkpoint()
	if err != nil {
		return err
	}
	if from < 0 || from > n {
		return fmt.Errorf("audit: Publish from size %d of a log of %d", from, n)
	}
	dirs := map[string]bool{} // directories whose entries changed
	for _, t := range tlog.NewTiles(TileHeight, from, n) {
		b, err := l.ReadTile(t)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(TilePath(t)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
		// Synced, not renamed into place: a tile's path names its
		// width, so a file is never replaced by other contents, and no
		// checkpoint names it until the write is done.
		if err := durable.WriteSynced(p, b, 0o644); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
		for d := filepath.Dir(p); len(d) > len(dir); d = filepath.Dir(d) {
			dirs[filepath.Dir(d)] = true // d's entry in its parent
			dirs[d] = true
		}
	}
	for d := range dirs {
		if err := durable.SyncDir(d); err != nil {
			return fmt.Errorf("audit: %v", err)
		}
	}
	// The checkpoint last, after the tiles are on disk: a reader never
	// sees one whose tiles are missing, even after a crash.
	return writeFileSynced(filepath.Join(dir, "checkpoint"), signed)
}
