package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestPocRealScores reads the genuine scores of `ebsp eval fingerprint
// --scores` files grouped by finger, as `ebsp poc --real-scores` does.
func TestPocRealScores(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.csv")
	b := filepath.Join(dir, "b.csv")
	write := func(path, body string) {
		if err := os.WriteFile(path, []byte("probe,gallery,kind,std,score\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "101_1.tif,101_2.tif,genuine,false,0.5\n101_1.tif,102_1.tif,impostor,false,0.05\n102_1.tif,102_2.tif,genuine,false,0.4\n101_2.tif,101_3.tif,genuine,false,0.6\n")
	write(b, "101_1.tif,101_2.tif,genuine,false,0.7\n")
	got, err := readGenuineByFinger([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	// Finger 101 of a.csv and finger 101 of b.csv are different fingers.
	if want := [][]float64{{0.5, 0.6}, {0.4}, {0.7}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	write(b, "101_1.tif,102_1.tif,impostor,false,0.05\n")
	if _, err := readGenuineByFinger([]string{b}); err == nil {
		t.Error("a file without genuine scores: no error")
	}
	write(b, "101_1.tif,101_2.tif,genuine,false,x\n")
	if _, err := readGenuineByFinger([]string{b}); err == nil {
		t.Error("a score that is no number: no error")
	}
}
