package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/sesevent"
	"github.com/leadnurture/nurture/shared/store"
)

// docs/athena.md queries the table's export to S3. Its Athena table and
// view must name the attributes the product really stores: this test
// writes a known history through the real handlers (a capture, a nurture
// email, SES's delivery and a person's click, a second form that crosses
// the threshold, the alert, sales' accept), exports the table as DynamoDB's
// export does (one {"Item": ...} a line, DynamoDB JSON), and checks every
// attribute the doc's SQL reads against those items, every kind it
// compares with against the product's kinds, and the sort key's time
// layout its view parses.
func TestAthenaDoc_readsTheItemsAsStored(t *testing.T) {
	// Activities expire as the program keeps them (expiresAt).
	w := testworld.New(t, testworld.Options{Name: "athena", StoreOptions: store.Options{ActivityRetention: 730 * 24 * time.Hour}})
	ctx := context.Background()
	post := func(form string, v url.Values) {
		t.Helper()
		if res, err := w.App.Forms.Handle(ctx, testworld.FormPost(form, v, w.Clock.Now())); err != nil || res.StatusCode >= 400 {
			t.Fatalf("form post: %d %v", res.StatusCode, err)
		}
	}
	ses := func(l *lead.Lead, typ string, r sesevent.Record) {
		t.Helper()
		sent := l.Nurture.Sent[0]
		r.Mail = sesevent.Mail{Timestamp: sent.At, MessageID: sent.MessageID, Destination: []string{l.Email},
			Tags: map[string][]string{"lead": {l.ID}, "track": {sent.Track}, "step": {fmt.Sprint(sent.Step)}, "asset": {sent.AssetID}}}
		raw, err := json.Marshal(map[string]any{"version": "0", "source": "aws.ses", "detail-type": typ, "detail": r})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.App.HandleSESEvent(ctx, raw); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}

	post(w.Program.Forms[0].ID, url.Values{"email": {w.Email("ada")}, "name": {"Ada Lovelace"}, "company": {"Analytical Engines"}, "consent": {"yes"}})
	id := testenv.LeadID(w.Email("ada"))
	w.Confirm(id)
	ada := w.Next(id)
	sent := ada.Nurture.Sent[0]
	asset, _ := w.Program.Asset(sent.AssetID)
	w.Clock.Set(sent.At.Add(time.Hour))
	ses(ada, "Email Sent", sesevent.Record{EventType: sesevent.EventSend, Send: &sesevent.Send{}})
	ses(ada, "Email Delivered", sesevent.Record{EventType: sesevent.EventDelivery,
		Delivery: &sesevent.Delivery{Timestamp: sent.At.Add(2 * time.Second), Recipients: []string{ada.Email}}})
	// Apple Mail Privacy Protection opens every message: a machine's open.
	ses(ada, "Email Opened", sesevent.Record{EventType: sesevent.EventOpen,
		Open: &sesevent.Open{Timestamp: sent.At.Add(5 * time.Minute), UserAgent: "Mozilla/5.0", IPAddress: "17.58.0.1"}})
	ses(ada, "Email Clicked", sesevent.Record{EventType: sesevent.EventClick,
		Click: &sesevent.Click{Timestamp: sent.At.Add(30 * time.Minute), Link: asset.URL, IPAddress: "198.51.100.23",
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			LinkTags:  map[string][]string{"link": {"asset"}, "asset": {asset.ID}}}})
	w.OneBelowTheThreshold(id)
	post(w.Program.Forms[1].ID, url.Values{"email": {w.Email("ada")}, "company": {"Analytical Engines"}, "consent": {"yes"}})
	w.Drain()
	if err := w.App.Desk.Accept(ctx, id, w.Clock.Now()); err != nil {
		t.Fatal(err)
	}

	items := exportTable(t, w.Table)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "athena.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)

	// The Athena table's columns, each a path into the items that must
	// exist, with the type DynamoDB JSON gives it.
	ddl := regexp.MustCompile(`(?s)CREATE EXTERNAL TABLE nurture_export \((.*?)\)\s*ROW FORMAT`).FindStringSubmatch(text)
	if ddl == nil {
		t.Fatal("docs/athena.md has no CREATE EXTERNAL TABLE nurture_export (...) ROW FORMAT")
	}
	columns := structPaths(t, ddl[1])
	if len(columns) < 10 {
		t.Fatalf("only %d columns read from the doc's table: %v", len(columns), columns)
	}
	for path, typ := range columns {
		if !resolves(items, strings.Split(path, "."), typ) {
			t.Errorf("the doc's table reads %s (%s), which no exported item has", path, typ)
		}
	}
	// Every path the doc's SQL reads is a column of its table.
	for _, m := range regexp.MustCompile(`\bitem(\.[a-z]+)+`).FindAllString(text, -1) {
		if _, ok := columns[m]; !ok {
			t.Errorf("the doc's SQL reads %s, which its table does not declare", m)
		}
	}
	// Every kind the doc names is one the product writes.
	kinds := []string{lead.KindDownload, lead.KindSent, lead.KindDelivered, lead.KindOpen, lead.KindClick, lead.KindBounce,
		lead.KindComplaint, lead.KindRejected, lead.KindDelayed, lead.KindUnsubscribe, lead.KindAnswer, lead.KindKeep,
		lead.KindRating, lead.KindWish, lead.KindPreferences, sales.KindAlert, sales.KindDecision}
	named := 0
	for _, m := range regexp.MustCompile(`kind (?:= '([a-z-]+)'|IN \(([^)]*)\))`).FindAllStringSubmatch(text, -1) {
		for _, k := range strings.Split(m[1]+m[2], ",") {
			k = strings.Trim(strings.TrimSpace(k), "'")
			named++
			if !slices.Contains(kinds, k) {
				t.Errorf("the doc's SQL compares with kind %q, which the product never writes", k)
			}
		}
	}
	if named < 5 {
		t.Errorf("only %d kinds found in the doc's SQL", named)
	}
	// The view parses the activity's time from its sort key, and the
	// funnel reads the decision's and the alert's details as stored.
	sk := regexp.MustCompile(`^ACT#\d{8}T\d{6}\.\d{9}Z#`)
	var details []string
	for _, it := range items {
		s := str(it, "sk")
		if strings.HasPrefix(s, "ACT#") {
			if !sk.MatchString(s) {
				t.Errorf("activity sort key %q: the doc's view reads substr(sk, 5, 15) as %%Y%%m%%dT%%H%%i%%s", s)
			}
			details = append(details, str(it, "activity", "Kind")+": "+str(it, "activity", "Detail"))
		}
	}
	for _, want := range []string{"sales: accepted", "alert: " + w.Program.Thresholds[0].Name + " to ", "sent: "} {
		if !slices.ContainsFunc(details, func(d string) bool { return strings.HasPrefix(d, want) }) {
			t.Errorf("no activity %q...; stored: %v", want, details)
		}
	}
	if !strings.Contains(text, "detail = 'accepted'") || !strings.Contains(text, "a.threshold IS NOT NULL") {
		t.Error("the doc's funnel no longer reads the decision's detail and the alert's threshold as this test checks them")
	}
}

// exportTable is the table as DynamoDB's export to S3 writes it in
// DYNAMODB_JSON: every item as {"Item": <marshalled item>}, decoded.
func exportTable(t *testing.T, table string) []map[string]any {
	t.Helper()
	db := testenv.Dynamo(t)
	var out []map[string]any
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			line, err := json.Marshal(map[string]any{"Item": marshalled(&types.AttributeValueMemberM{Value: it})["M"]})
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(line, &back); err != nil {
				t.Fatal(err)
			}
			out = append(out, back["Item"].(map[string]any))
		}
	}
	if len(out) == 0 {
		t.Fatal("the table is empty")
	}
	return out
}

// marshalled is an attribute value in DynamoDB JSON ({"S": "..."}, ...).
func marshalled(v types.AttributeValue) map[string]any {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(x.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": x.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": x.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = marshalled(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range x.Value {
			m[k] = marshalled(e)
		}
		return map[string]any{"M": m}
	}
	return map[string]any{"?": fmt.Sprintf("%T", v)}
}

// str is the string at a path of an exported item (each name an
// attribute, its {"S": ...} or {"M": ...} stepped through).
func str(item map[string]any, path ...string) string {
	var v any = item
	for i, name := range path {
		m, _ := v.(map[string]any)
		if i > 0 {
			m, _ = m["M"].(map[string]any)
		}
		v = m[name]
	}
	m, _ := v.(map[string]any)
	s, _ := m["S"].(string)
	return s
}

// structPaths reads a Hive column list "item struct<pk: struct<s: string>, ...>"
// into its leaf paths ("item.pk.s") and their types.
func structPaths(t *testing.T, ddl string) map[string]string {
	t.Helper()
	toks := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[<>,:]`).FindAllString(ddl, -1)
	out := map[string]string{}
	i := 0
	var field func(prefix string)
	field = func(prefix string) {
		name := toks[i]
		i++
		if toks[i] == ":" {
			i++
		}
		typ := toks[i]
		i++
		path := strings.TrimPrefix(prefix+"."+strings.ToLower(name), ".")
		if typ != "struct" {
			out[path] = typ
			return
		}
		i++ // <
		for toks[i] != ">" {
			field(path)
			if toks[i] == "," {
				i++
			}
		}
		i++ // >
	}
	for i < len(toks) {
		field("")
		if i < len(toks) && toks[i] == "," {
			i++
		}
	}
	return out
}

// resolves tells whether some item has the path (its first name "item",
// the rest attribute names and DynamoDB JSON's type keys, matched without
// regard to case as the JSON SerDe matches them), with a value of the
// column's type.
func resolves(items []map[string]any, path []string, typ string) bool {
	for _, it := range items {
		var v any = it
		for _, name := range path[1:] {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			var next any
			for k, e := range m {
				if strings.EqualFold(k, name) {
					next = e
				}
			}
			v = next
		}
		switch v.(type) {
		case string:
			if typ == "string" {
				return true
			}
		case bool:
			if typ == "boolean" {
				return true
			}
		}
	}
	return false
}
