package fingerprint

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"image"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestTemplatesPinned holds the templates Extract makes of eight
// impressions of each shared FVC set to what it made when they were
// recorded: one line per image with the minutiae count, the sample quality
// and a hash of the whole template. Speed work on the extractor must keep
// every line (the output is then the same to the bit, and no accuracy
// figure moves); a change that is meant to change the templates rewrites
// the file, and says so in its commit:
//
//	go test -run TestTemplatesPinned ./fingerprint -update-templates
//
// The templates are recorded on amd64; another architecture may fuse a
// multiply-add in the float32 filters and move a pixel, so the test runs
// on amd64 only.
var updateTemplates = flag.Bool("update-templates", false, "rewrite testdata/extract_templates.txt from the current extractor")

func TestTemplatesPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("templates are pinned on amd64")
	}
	const golden = "testdata/extract_templates.txt"
	var got []string
	for _, s := range extractSets {
		for _, name := range []string{"101_1.tif", "102_2.tif", "103_3.tif", "104_4.tif", "105_5.tif", "106_6.tif", "107_7.tif", "108_8.tif"} {
			tpl, err := Extract(extractLoad(t, s.dir, name), s.dpi, nil)
			h := sha256.Sum256(fmt.Appendf(nil, "%v %+v", err, tpl))
			got = append(got, fmt.Sprintf("%s/%s %d %d %x", s.dir, name, len(tpl.Minutiae), tpl.Quality, h[:8]))
		}
	}
	if *updateTemplates {
		out := "# Templates of fixed images, pinned by TestTemplatesPinned (extract_pinned_test.go):\n" +
			"# image, minutiae, quality, hash of the template.\n" +
			"# Rewritten by: go test -run TestTemplatesPinned ./fingerprint -update-templates\n" +
			strings.Join(got, "\n") + "\n"
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (write it with -update-templates)", err)
	}
	var want []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%s holds %d images, the test extracts %d (rewrite it with -update-templates)", golden, len(want), len(got))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("template changed: %s, recorded %s", got[i], want[i])
		}
	}
	if t.Failed() {
		t.Log("if the extractor was meant to change, rewrite the file: go test -run TestTemplatesPinned ./fingerprint -update-templates")
	}
}

// TestExtractConcurrent runs extractions of images of different sizes and
// resolutions at once, in different orders, as a node does: each
// extraction takes its own scratch buffers from the pool (exScratch), so
// every template must be the one a lone extraction makes. Run it with
// -race too.
func TestExtractConcurrent(t *testing.T) {
	type job struct {
		img  *image.Gray
		dpi  int
		want string
	}
	var jobs []job
	for _, s := range extractSets {
		for _, name := range []string{"101_1.tif", "102_2.tif"} {
			img := extractLoad(t, s.dir, name)
			tpl, err := Extract(img, s.dpi, nil)
			jobs = append(jobs, job{img, s.dpi, fmt.Sprintf("%v %+v", err, tpl)})
		}
	}
	const workers = 4
	errs := make(chan string, workers*len(jobs))
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				j := jobs[(k*(g+1)+g)%len(jobs)] // a different order in each worker
				tpl, err := Extract(j.img, j.dpi, nil)
				if got := fmt.Sprintf("%v %+v", err, tpl); got != j.want {
					errs <- fmt.Sprintf("worker %d: template differs from the lone extraction's", g)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
