package store

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
)

// storedV1 is a lead body written by format 1. Stored leads must read back
// whatever the code becomes: this fails if the dictionary or the format
// changes under them.
const storedV1 = "018c93410bc2201886ff4a7437be6d446ca7ba77dca9db3b7543301db8451df6dfc38f206c168927f97ce5c5e779cb0d85231cec63321256683718a7c34edf711d19d497fa2785cdd9dfb485d4a9efbd71707cb8b2b62844b96fa96e2a6a882edb2cb2d2fa5909e9c3f413de987548b2fe6039c9ce50dd1be7c72086d9282e6061a29084a22b65a5b23f53a3938278258caecba63ac4bb82774b718287d8871cb5e5176c3f5f599667000000ffff"

func TestDecodeLead_formatV1ReadsBack(t *testing.T) {
	body, err := hex.DecodeString(storedV1)
	if err != nil {
		t.Fatal(err)
	}
	applied, _ := hex.DecodeString("0123456789abcdef")
	got, err := decodeLead(body, applied)
	if err != nil {
		t.Fatalf("a stored format-1 body does not decode: %v", err)
	}
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	want := &lead.Lead{Email: "ada@analytical-engines.example", Name: "Ada Lovelace", Industry: "finance", CreatedAt: at,
		Nurture: lead.Nurture{Track: "cloud-cost", NextStep: 1, DueAt: at.Add(48 * time.Hour), Status: lead.NurtureActive,
			Sent: []lead.SentStep{{Track: "cloud-cost", Step: 0, AssetID: "finops-guide", Claim: "0a1b2c3d", MessageID: "0100019abc-000000", At: at}}},
		Score: lead.Score{Activity: 12.5, Fit: 10, At: at}, Applied: []string{"0123456789abcdef"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
}

// storedV2 is a lead body written by format 2, with what lifelong nurture
// and answers keep on a lead.
const storedV2 = "028c94410b823014c7bf4a746ef19c842804790cba049e820ecf6dcac0a660451dfceeb111b8b50d134ff27c8fedff7bbf5990c8f1800abbf75d32ec8850ad5462dc8a17de06b3ec5f7d961c57a7fe293a64c2756623152af3d1335f9210baab202f5228002e6b5b0256726e6ed74d3461fa4fc2fed085c0e3d2d1ad32a795efa0282e2134ecb101513552f5c348da87e4363d80494d59ca83cb9663cd0898c7d18e7f0daee1f4bfc4bc15e80a5334635a9e8f7b0bd5cc055386e25fa42eec381a91dcef01a6e9130000ffff"

func TestDecodeLead_formatV2ReadsBack(t *testing.T) {
	body, err := hex.DecodeString(storedV2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeLead(body, nil)
	if err != nil {
		t.Fatalf("a stored format-2 body does not decode: %v", err)
	}
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	want := &lead.Lead{Email: "ada@analytical-engines.example", Name: "Ada Lovelace", Industry: "finance", CreatedAt: at,
		Topics: []string{"cloud-cost", "reliability"}, Interest: map[string]int{"cloud-cost": 2, "reliability": 1}, EngagedAt: at,
		Answers: map[string]string{"industry": "finance", "research-or-purchase": "purchase"},
		Nurture: lead.Nurture{Track: "evergreen", NextStep: 1, DueAt: at.Add(48 * time.Hour), Status: lead.NurtureActive, Done: []string{"cloud-cost-track"},
			Sent: []lead.SentStep{{Track: "evergreen", Step: 0, AssetID: "finops-guide", Claim: "0a1b2c3d", MessageID: "0100019abc-000000", At: at}}, Had: []byte{1, 2}, Emails: 7},
		Score: lead.Score{Activity: 12.5, Fit: 10, At: at}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
	if again, _, _ := encodeLead(got); again[0] != formatV3 {
		t.Errorf("a lead is written in format %d, want the newest (3)", again[0])
	}
}

// A lead is written in format 3 and reads back whole, its voice included.
func TestEncodeLead_formatV3RoundTrips(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	l := &lead.Lead{Email: "ada@analytical-engines.example", Topics: []string{"cloud-cost"}, Interest: map[string]int{"cloud-cost": 2}, EngagedAt: at,
		Nurture: lead.Nurture{Track: "evergreen", Status: lead.NurtureActive, Done: []string{"cloud-cost-track"}, Had: []byte{1, 2}, Emails: 7},
		Voice:   lead.Voice{Said: []byte{3, 4}, Muted: []string{"reliability"}, LessOften: true, Asked: 6}}
	body, _, err := encodeLead(l)
	if err != nil {
		t.Fatal(err)
	}
	if body[0] != formatV3 {
		t.Errorf("written in format %d, want %d", body[0], formatV3)
	}
	got, err := decodeLead(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, l) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, l)
	}
}

// Every lead update decodes and encodes the lead once per attempt.
func BenchmarkLeadBody(b *testing.B) {
	body, err := hex.DecodeString(storedV1)
	if err != nil {
		b.Fatal(err)
	}
	l, err := decodeLead(body, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeLead(body, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := encodeLead(l); err != nil {
				b.Fatal(err)
			}
		}
	})
}
