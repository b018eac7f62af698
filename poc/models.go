package poc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// encounterOutcome is everything measured for one traveller, from which
// every model's counts are derived: each model's calls are a subset of
// these (the national model is the home search; the sharing models add the
// exchange's step 1 at every partner, then step 2 or an automatic return;
// the bulk copy is the hub search).
type encounterOutcome struct {
	t        traveller
	home     callResult
	partners map[string]callResult // step 1 through the exchange
	fanout   time.Duration         // wall time of the home search and the partners' step 1, run in parallel
	hub      *callResult
	// reads of partner candidates through the node API (what an automatic
	// return hands over), keyed by state/identity.
	reads map[string]disclosure
	// step2 is the exchange's examiner-gated disclosure per partner hit.
	step2 map[string]step2Result
}

type step2Result struct {
	confirmed bool  // the partner's examiner confirmed
	fields    int   // fields released
	bytes     int64 // of the step-2 messages
	latency   time.Duration
}

// runEncounters searches every traveller of the simulated day: at home and,
// through the exchange, at every partner in parallel; then in the hub; then
// step 2 for every partner hit (the partner's examiner deciding as the
// examiner model says) and a read of every partner candidate through the
// node API (what an automatic return would hand over).
func (p *partnership) runEncounters(ctx context.Context, progress func(done, total int)) ([]encounterOutcome, error) {
	s := p.s
	rng := rand.New(rand.NewPCG(uint64(s.Seed), 0xe4a111e5))
	fields := exchangeFields(s.Agreement.Disclosure)
	out := make([]encounterOutcome, 0, len(p.pop.travellers))
	for i, t := range p.pop.travellers {
		samples, err := p.pop.fingerSamples(t.person, impressionBorderBase+uint64(i))
		if err != nil {
			return nil, err
		}
		eo := encounterOutcome{t: t, partners: map[string]callResult{}, reads: map[string]disclosure{}, step2: map[string]step2Result{}}
		refs := map[string]string{}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		fail := func(err error) {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
		t0 := time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr, err := p.nodes[s.Home].identify(ctx, samples, s.Agreement.Purpose)
			if err != nil {
				fail(err)
			}
			mu.Lock()
			eo.home = cr
			mu.Unlock()
		}()
		for _, side := range p.ex {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cr, res, err := side.step1(ctx, samples)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				eo.partners[side.code] = cr
				if res != nil && res.Outcome == "hit" {
					refs[side.code] = res.Reference
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		eo.fanout = time.Since(t0)
		if firstErr != nil {
			return nil, firstErr
		}
		if p.hub != nil {
			cr, err := p.hub.identify(ctx, samples, s.Agreement.Purpose)
			if err != nil {
				return nil, err
			}
			eo.hub = &cr
		}
		for _, side := range p.ex {
			cr := eo.partners[side.code]
			for _, c := range cr.candidates {
				d, err := p.nodes[side.code].disclose(ctx, c.identity, []string{DiscloseBiographic, DiscloseDerogatory, DiscloseEncounters})
				if err != nil {
					return nil, err
				}
				eo.reads[side.code+"/"+c.identity] = d
			}
			ref, ok := refs[side.code]
			if !ok || len(cr.candidates) == 0 || len(fields) == 0 {
				continue
			}
			// The partner's examiner compares the probe with the first
			// candidate: confirms a true match unless wrongly rejecting it,
			// confirms a false one only in error.
			c := cr.candidates[0]
			u := rng.Float64()
			confirm := u < s.Examiner.FalseConfirm
			if c.person == t.person {
				confirm = u >= s.Examiner.FalseReject
			}
			n, b, lat, err := side.step2(ctx, ref, fields, c.identity, confirm)
			if err != nil {
				return nil, err
			}
			eo.step2[side.code] = step2Result{confirmed: confirm, fields: n, bytes: b, latency: lat}
		}
		out = append(out, eo)
		if progress != nil {
			progress(i+1, len(p.pop.travellers))
		}
	}
	return out, nil
}

// allowedRecords counts the records of a person's record in a state that
// the categories allow.
func allowedRecords(rec record, cats []string) int {
	n := 0
	for _, c := range cats {
		switch c {
		case DiscloseBiographic:
			n++
		case DiscloseDerogatory:
			n += b2i(rec.derogatory)
		case DiscloseEncounters:
			n += rec.encounters
		}
	}
	return n
}

// evaluateModels derives each model's result from the measured encounters.
func (p *partnership) evaluateModels(outcomes []encounterOutcome) []ModelResult {
	s := p.s
	var results []ModelResult
	allCats := []string{DiscloseBiographic, DiscloseDerogatory, DiscloseEncounters}
	for _, m := range s.Models {
		r := ModelResult{Model: m, Label: modelLabels[m], Searches: len(outcomes)}
		innocent := map[string]bool{}
		for _, eo := range outcomes {
			tp := eo.t.person
			recs := p.pop.people[tp].records
			_, atHome := recs[s.Home]
			identified, viaPartner, derog := false, false, false
			reachable := atHome
			var lat time.Duration
			var msgs, bytes int64
			hour := eo.t.hour

			homeSearch := func() {
				for _, c := range eo.home.candidates {
					r.ExaminerCases++
					if c.person == tp {
						identified = true
					} else {
						r.FalseMatches++
					}
				}
			}
			switch m {
			case ModelNational:
				homeSearch()
				lat = eo.home.latency
			case ModelPrum, ModelQueryPurge, ModelDHSAsk, ModelEncrypted:
				homeSearch()
				lat = eo.fanout
				var extra, encWait time.Duration
				for _, st := range s.Partners() {
					cr, asked := eo.partners[st.Code]
					if !asked {
						continue
					}
					if _, ok := recs[st.Code]; ok && !cr.refused {
						reachable = true
					}
					// Step 1: a request and its reply, refused or not.
					msgs += 2
					bytes += cr.sent + cr.recv
					if cr.refused {
						r.Refused++
						continue
					}
					if m == ModelEncrypted {
						// The ciphertexts on top of the measured clear
						// exchange, and the partner's encrypted search
						// (the partners search in parallel).
						bytes += p.enc.WireBytes
						encWait = max(encWait, p.enc.wall(int64(st.Gallery)))
					} else {
						r.ProbesSeen++
					}
					retainAll := s.Agreement.RetentionDays > 0 && m != ModelQueryPurge && m != ModelEncrypted
					if retainAll || len(cr.candidates) > 0 {
						r.ProbesRetained++
					}
					for _, c := range cr.candidates {
						if c.person != tp {
							r.FalseMatches++
						}
						r.ExaminerCases++
					}
					if m == ModelDHSAsk {
						// Automatic return of everything on every candidate;
						// home officers review it afterwards.
						for _, c := range cr.candidates {
							d := eo.reads[st.Code+"/"+c.identity]
							rec := p.pop.people[c.person].records[st.Code]
							msgs += 2
							bytes += d.sent + d.recv
							extra += d.latency
							r.RecordsDisclosed += allowedRecords(rec, allCats)
							if c.person == tp {
								identified, viaPartner = true, true
								derog = derog || rec.derogatory
							} else {
								innocent[st.Code+"/"+fmt.Sprint(c.person)] = true
							}
						}
						continue
					}
					// Step 2 through the exchange: disclosure request and
					// status, each a request and a reply; the partner's
					// examiner decides first.
					s2, ok := eo.step2[st.Code]
					if !ok {
						continue
					}
					if m == ModelEncrypted {
						r.ProbesSeen++ // step 2 carries the probe
					}
					msgs += 4
					bytes += s2.bytes
					extra += s2.latency
					if !s2.confirmed || s2.fields == 0 {
						continue
					}
					c := cr.candidates[0]
					r.RecordsDisclosed++ // one identity's biographic fields
					if c.person == tp {
						identified, viaPartner = true, true
						derog = derog || p.pop.people[tp].records[st.Code].derogatory
					} else {
						innocent[st.Code+"/"+fmt.Sprint(c.person)] = true
					}
				}
				lat += extra + encWait
			case ModelBulkCopy:
				for _, st := range s.Partners() {
					if _, ok := recs[st.Code]; ok {
						reachable = true
					}
				}
				lat = eo.hub.latency
				for _, c := range eo.hub.candidates {
					r.ExaminerCases++
					if c.person == tp {
						identified = true
						if c.source != s.Home {
							viaPartner = true
							derog = derog || p.pop.people[tp].records[c.source].derogatory
						}
					} else {
						r.FalseMatches++
						if c.source != s.Home {
							innocent[c.source+"/"+fmt.Sprint(c.person)] = true
						}
					}
				}
			}
			if identified {
				r.TrueIdentifications++
				if !atHome {
					r.GainedBySharing++
					if derog {
						r.DerogatoryGained++
					}
				}
				if viaPartner {
					r.PartnerHits++
				}
			} else if reachable {
				r.Missed++
			}
			r.LatenciesMs = append(r.LatenciesMs, float64(lat.Microseconds())/1000)
			r.Messages += msgs
			r.Bytes += bytes
			r.HourlyMessages[hour] += msgs
		}
		r.InnocentDisclosed = len(innocent)
		if m == ModelBulkCopy {
			r.BulkPeople, r.BulkRecords, r.BulkBytes = p.bulkPeople, p.bulkRecords, p.bulkBytes
		}
		if r.PartnerHits > 0 {
			r.RecordsPerPartnerHit = float64(r.RecordsDisclosed) / float64(r.PartnerHits)
		}
		r.ExaminerHours = float64(r.ExaminerCases) * s.Examiner.MinutesPerCase / 60
		r.LatencyMedianMs, r.LatencyP99Ms = quantile(r.LatenciesMs, 0.5), quantile(r.LatenciesMs, 0.99)
		results = append(results, r)
	}
	return results
}

// quantile returns the q-quantile of xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
