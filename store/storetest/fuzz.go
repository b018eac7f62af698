package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// FuzzEnroll feeds an engine enrolments whose outside-supplied fields (ids,
// names, modality, position, quality, format, bytes, algorithm) come from
// the fuzzer, and checks that the engine agrees with
// store.PrepareEnrolment: what it accepts the engine stores and returns
// unchanged, what it refuses the engine refuses with ErrInvalid, and no
// other error appears (a database refusing what the checks let through
// would surface as a server error in the node).
func FuzzEnroll(f *testing.F, open Opener) {
	f.Add("id", "NAME", "finger", 2, 50, "png", []byte("image"), "m1", []byte{1, 2, 3})
	f.Add("id", "NÃO", "face", 0, 100, "jpeg", []byte{}, "arcface", []byte{0})
	f.Add("id\x00", "A\x00B", "finger", 19, 0, "wsq", []byte{0, 0}, "m1", []byte{9})
	f.Add("\xff", "\xc3", "iris", 0, 101, "\xff", []byte(nil), "", []byte(nil))
	f.Add("id", "name", "voice", 20, -1, "png", []byte("x"), "m1", []byte("t"))
	s := open(f)
	f.Fuzz(func(t *testing.T, id, name, modality string, position, quality int, format string, data []byte, algorithm string, tmpl []byte) {
		fx := newFixture(uint64(len(data)))
		e := fx.enrolment(fingers2[:1], false)
		e.Identity.ID = id + "-" + nextID("fuzz")
		e.Identity.Names = []string{name}
		sm := &e.Samples[0]
		sm.Modality = biometric.Modality(modality)
		sm.Position = biometric.FingerPosition(position)
		sm.Quality = quality
		sm.Format = format
		sm.Data = data
		e.Templates[0].Algorithm = algorithm
		e.Templates[0].Data = tmpl

		_, perr := store.PrepareEnrolment(e, time.Now())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := s.Enroll(ctx, e)
		switch {
		case perr != nil && !errors.Is(err, store.ErrInvalid):
			t.Fatalf("PrepareEnrolment refused (%v) but Enroll = %v, want ErrInvalid", perr, err)
		case perr == nil && err != nil:
			t.Fatalf("PrepareEnrolment accepted but Enroll = %v", err)
		case err != nil:
			return
		}
		rec, err := s.Identity(ctx, e.Identity.ID)
		if err != nil {
			t.Fatalf("Identity after Enroll: %v", err)
		}
		if len(rec.Identity.Names) != 1 || rec.Identity.Names[0] != name {
			t.Fatalf("names %q, want [%q]", rec.Identity.Names, name)
		}
		got := rec.Samples[0]
		if got.Modality != sm.Modality || got.Position != sm.Position || got.Quality != quality ||
			got.Format != format || !bytes.Equal(got.Data, data) {
			t.Fatalf("sample read back as %v/%d/%d/%q/%d bytes, want %v/%d/%d/%q/%d bytes",
				got.Modality, got.Position, got.Quality, got.Format, len(got.Data),
				sm.Modality, sm.Position, quality, format, len(data))
		}
		found := false
		err = s.Gallery(ctx, sm.Modality, func(g store.GalleryEntry) error {
			if g.TemplateID == e.Templates[0].ID {
				found = bytes.Equal(g.Data, tmpl) && g.Algorithm == algorithm && g.IdentityID == e.Identity.ID
			}
			return nil
		})
		if err != nil || !found {
			t.Fatalf("Gallery(%s): template not streamed back intact (err %v)", sm.Modality, err)
		}
	})
}
