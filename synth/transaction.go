package synth

import (
	"fmt"
	"image"
	"strings"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/ansinist"
	"github.com/ebsp/ebsp/formats/wsq"
)

// This file writes synthetic captures as ANSI/NIST-ITL 1-2011 transactions
// (traditional encoding, version 0500), one transaction per capture or
// encounter as agencies send them:
//
//   - Type-1 (section 8.1) with a TOT, the originating and destination
//     agency, a transaction control number and the capture date;
//   - Type-2 (section 8.2, content per the FBI EBTS, domain NORAM) with the
//     person's declared biographic data;
//   - per finger, a Type-14 record (section 8.14) with the impression
//     WSQ-compressed at 0.75 bits per pixel (FBI IAFIS-IC-0110 v3.1, the
//     rate the FBI's WSQ certification assumes), or at template level a
//     Type-9 record (section 8.9) with the minutiae in the INCITS 378 block.
//
// Face vectors and iris codes are templates of ebsp's own recognisers, not
// images, and the standard has no record for them (Type-10 and Type-17 hold
// images; a Type-99 CBEFF record needs a registered format owner and type),
// so they are not written into transactions: records.jsonl carries them.
// DNA profiles are not written either (see docs/synthetic-data.md: the
// Type-18 locus reference table could not be checked); records.jsonl
// carries them too.

// TransactionDate is the date written into transactions of synthetic
// fingerprints that have no encounter (ebsp synth fingerprints): a fixed
// date, so that the same seed gives the same bytes.
var TransactionDate = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// WSQBitrate is the WSQ rate of exported fingerprint images, in bits per
// pixel.
const WSQBitrate = wsq.DefaultBitrate

// Transaction types (1.004 TOT, FBI EBTS names).
const (
	// TOTCriminal is a criminal tenprint submission, answer required.
	TOTCriminal = "CAR"
	// TOTCivil is a miscellaneous (civil) applicant submission, used for
	// visa applications and border crossings.
	TOTCivil = "MAP"
)

// AddWSQFinger compresses img (500 ppi, 8-bit grey) with WSQ at WSQBitrate,
// with a NISTCOM recording 500 ppi, and appends it to t as a Type-14
// record: IMP 0 (live-scan plain), FGP pos, SLC 1 at 500 ppi, CGA WSQ20,
// BPX 8, capture date (14.005 FCD) date. It returns the record's IDC.
func AddWSQFinger(t *ansinist.Transaction, pos biometric.FingerPosition, img *image.Gray, date time.Time) (int, error) {
	data, err := wsq.EncodeBytes(img, &wsq.Options{Bitrate: WSQBitrate, PPI: 500})
	if err != nil {
		return 0, fmt.Errorf("synth: finger %d: %w", pos, err)
	}
	b := img.Bounds()
	idc := t.AddFinger(ansinist.FingerImage{
		Image: ansinist.Image{Compression: ansinist.WSQ, Width: b.Dx(), Height: b.Dy(), PPI: 500, BPX: 8, Data: data},
		// Impression 0: live-scan plain (1-2011 Table 7).
		Impression: 0,
		Positions:  []biometric.FingerPosition{pos},
	})
	// AddFinger dates the record today; a synthetic capture has its own date
	// (and the same seed must give the same bytes).
	t.Records[len(t.Records)-1].Set(ansinist.NewField(5, date.UTC().Format("20060102")))
	return idc, nil
}

// FingerprintTransaction returns a transaction holding one impression of
// one finger, as ebsp synth fingerprints writes beside its PNG images: TOT
// MAP, ORI and DAI "SYNTH0000", the TCN tcn, the date TransactionDate.
func FingerprintTransaction(tcn string, pos biometric.FingerPosition, img *image.Gray) (*ansinist.Transaction, error) {
	t := ansinist.New(ansinist.Header{TOT: TOTCivil, DAI: "SYNTH0000", ORI: "SYNTH0000", TCN: tcn, Time: TransactionDate}, nil)
	if _, err := AddWSQFinger(t, pos, img, TransactionDate); err != nil {
		return nil, err
	}
	return t, nil
}

// agency is the ORI/DAI of a state's synthetic agency: the state code
// padded to the nine characters of an NCIC ORI.
func agency(state string) string {
	return state + "SYNTH0"
}

// FingerImages are the rendered master images of one person's fingers,
// for image-level export (RenderMaster takes about a second a finger).
type FingerImages map[biometric.FingerPosition]*MasterImage

// RenderFingers renders the masters of the scenario's fingers of per.
func (p *Population) RenderFingers(per *Person) FingerImages {
	out := FingerImages{}
	for _, pos := range p.Scenario.Biometrics.Fingers {
		out[pos] = RenderMaster(NewFingerMaster(p.Scenario.Seed, fingerKey(per.Index, pos)))
	}
	return out
}

// EncounterTransaction returns the transaction state en.State's system
// sent for encounter e of per: Type-1 (TOT CAR for an arrest, MAP
// otherwise; TCN the record ID and the encounter's capture number), Type-2
// with the declared biographic data (2.009 OCA the state's record ID,
// 2.018 NAM, 2.021 CTZ one subfield per nationality as ISO 3166-1
// alpha-3, 2.022 DOB, 2.024 SEX), and the fingers of the scenario: Type-14
// WSQ images of impression e.Capture when imgs holds the person's rendered
// masters (image level), Type-9 INCITS 378 minutiae of the same impression
// otherwise (template level).
func (p *Population) EncounterTransaction(per *Person, en *Enrolment, e *Encounter, imgs FingerImages) (*ansinist.Transaction, error) {
	date, err := time.Parse(time.DateOnly, e.Date)
	if err != nil {
		return nil, fmt.Errorf("synth: %s encounter date: %w", en.RecordID, err)
	}
	date = date.Add(12 * time.Hour)
	tot := TOTCivil
	if e.Kind == EncounterArrest {
		tot = TOTCriminal
	}
	ori := agency(en.State)
	h := ansinist.Header{TOT: tot, DAI: ori, ORI: ori, TCN: fmt.Sprintf("%s-%03d", en.RecordID, e.Capture),
		Domain: "NORAM", Time: date}
	t := ansinist.New(h, map[int]string{
		9:  en.RecordID,
		18: nameField(per.FamilyName, per.GivenName),
		22: strings.ReplaceAll(per.BirthDate, "-", ""),
		24: per.Sex,
	})
	ctz := &ansinist.Field{Number: 21}
	for _, n := range per.Nationalities {
		ctz.Subfields = append(ctz.Subfields, ansinist.Subfield{n})
	}
	t.Records[1].Set(ctz)
	for _, pos := range p.Scenario.Biometrics.Fingers {
		m := NewFingerMaster(p.Scenario.Seed, fingerKey(per.Index, pos))
		if mi := imgs[pos]; mi != nil {
			if _, err := AddWSQFinger(t, pos, mi.Impression(e.Capture), date); err != nil {
				return nil, fmt.Errorf("synth: %s: %w", en.RecordID, err)
			}
			continue
		}
		mt := TemplateMaster(m)
		t.AddMinutiae(0, pos, TemplateImpression(m, &mt, e.Capture))
	}
	return t, nil
}

// nameField writes an EBTS 2.018 NAM: "FAMILY,GIVEN" in capitals.
func nameField(family, given string) string {
	return strings.ToUpper(family) + "," + strings.ToUpper(given)
}
