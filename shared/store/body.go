package store

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/leadnurture/nurture/shared/lead"
)

// A lead's body is one format byte followed by its JSON, deflated with a
// preset dictionary: the field names and the usual values of a lead, which
// a lone 1-3 KB document cannot share with anything else. The dictionary
// saves a quarter of the compressed size, and a lead write costs a write
// unit per started KB.
//
// Stored leads depend on a dictionary byte for byte: never edit one. To
// change it, add a format with its own dictionary and keep decoding the
// old ones. Format 2 adds what lifelong nurture and answers brought (the
// lead's interests, tracks done, the program's own questions' answers):
// a lead that answered every question through a year of nurture stays
// under 1 KB with it. Format 3 adds what the lead tells us about the mail
// (lead.Voice).
const (
	formatV1 byte = 1
	formatV2 byte = 2
	formatV3 byte = 3
)

const dictionaryV1 = `{"Email":"","Name":"","Company":"","Role":"","Industry":"","CompanySize":"","Country":"","Timeline":"","TimeZone":"Europe/","CreatedAt":"2026-","UpdatedAt":"2026-","Consent":{"Version":"","At":"2026-","FormID":"","SourcePage":"https://www.","IP":""},"FirstTouch":{"SourcePage":"https://www.","Referrer":"https://www.google.com/","UTMSource":"google","UTMMedium":"cpc","UTMCampaign":""},"Downloaded":[""],"Topics":[""],"Nurture":{"Track":"","NextStep":1,"DueAt":"2026-","Status":"active","Sent":[{"Track":"","Step":0,"AssetID":"","MessageID":"010001","At":"2026-","DeliveredAt":"2026-","Opened":true}]},"RecentClicks":[{"Message":"","Link":"","At":"2026-","Machine":true,"Key":"","Points":1}],"Score":{"Activity":1.5,"Fit":10,"At":"2026-"},"PendingAlerts":[{"ID":"","Threshold":"mql","Score":1,"At":"2026-"}],"Alerts":[{"ID":"","Threshold":"mql","Score":1,"At":"2026-","To":"","MessageID":"010001"}],"Ledger":[{"Key":"","Points":1.5,"ScoreAfter":1.5,"Earned":5,"Why":["clicked ","fit: "]}]}`

// dictionaryV2 is dictionaryV1 followed by the lifelong fields and the
// shipped program's question ids (a program with others compresses them
// as before).
const dictionaryV2 = dictionaryV1 + `"Interest":{"cloud-cost":1,"reliability":1},"EngagedAt":"2026-","Nurture":{"Track":"evergreen","Done":["cloud-cost-track","reliability-track"],"Sent":[{"Track":"reengage","Claim":""}],"Had":"","Emails":1,"AskedAt":"2026-"},"Answers":{"company-size":"","industry":"","role":"","timeline":"","research-or-purchase":"purchase"}`

// dictionaryV3 is dictionaryV2 followed by the lead's voice.
const dictionaryV3 = dictionaryV2 + `"Voice":{"Said":"","Wants":"","Muted":[""],"LessOften":true,"Asked":1}`

// dictionaries are the dictionaries of the formats a body may be in.
var dictionaries = map[byte][]byte{formatV1: []byte(dictionaryV1), formatV2: []byte(dictionaryV2), formatV3: []byte(dictionaryV3)}

// maxLeadJSON bounds what a stored body may inflate to: a lead is a few
// KB, so anything much larger is not one of ours.
const maxLeadJSON = 4 << 20

// appliedKeyBytes is the size of one applied key (lead.appliedKey: 16 hex
// characters).
const appliedKeyBytes = 8

// Writers and readers are pooled: a flate.Writer allocates about 1 MB of
// tables, a reader 40 KB, and every lead update reads and writes one.
// Writers write format 2; a reader is reset with its body's dictionary.
var (
	writers = sync.Pool{New: func() any {
		w, _ := flate.NewWriterDict(nil, flate.BestCompression, []byte(dictionaryV3))
		return w
	}}
	readers = sync.Pool{New: func() any {
		return flate.NewReaderDict(bytes.NewReader(nil), []byte(dictionaryV3))
	}}
)

// encodeLead returns the lead's body, and its applied keys packed 8 bytes
// each (random hex does not deflate). ID and Version live in the item's
// keys, not in the body.
func encodeLead(l *lead.Lead) (body, applied []byte, err error) {
	c := *l
	c.ID, c.Version, c.Applied = "", 0, nil
	for _, k := range l.Applied {
		b, err := hex.DecodeString(k)
		if err != nil || len(b) != appliedKeyBytes {
			return nil, nil, fmt.Errorf("applied key %q is not %d hex bytes", k, appliedKeyBytes)
		}
		applied = append(applied, b...)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, nil, err
	}
	buf := bytes.NewBuffer([]byte{formatV3})
	w := writers.Get().(*flate.Writer)
	defer writers.Put(w)
	w.Reset(buf) // keeps the dictionary
	if _, err := w.Write(raw); err != nil {
		return nil, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), applied, nil
}

func decodeLead(body, applied []byte) (*lead.Lead, error) {
	if len(applied)%appliedKeyBytes != 0 {
		return nil, fmt.Errorf("applied keys: %d bytes, not a multiple of %d", len(applied), appliedKeyBytes)
	}
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	dict, ok := dictionaries[body[0]]
	if !ok {
		return nil, fmt.Errorf("unknown body format %d", body[0])
	}
	r := readers.Get().(io.ReadCloser)
	defer readers.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(body[1:]), dict); err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxLeadJSON+1))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if len(raw) > maxLeadJSON {
		return nil, fmt.Errorf("inflates to over %d bytes", maxLeadJSON)
	}
	var l lead.Lead
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("unmarshal: %w", err)
	}
	for i := 0; i < len(applied); i += appliedKeyBytes {
		l.Applied = append(l.Applied, hex.EncodeToString(applied[i:i+appliedKeyBytes]))
	}
	return &l, nil
}
