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
