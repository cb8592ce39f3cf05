package store

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/report"
)

// The journal: every activity item carries day (DAY#<date>#<shard>) and
// dayAt (its time), the keys of the sparse index "day", so the activities
// of a day are found by a query per shard, never a scan. The index is the
// activity items themselves: written with them, in the same write (a
// redelivered event writes no second activity, so no second entry), and
// changed with them (a click found later to be a machine's). The shard
// comes from the lead, spreading a busy day over JournalShards partitions.
//
// The rollup's summaries are items of their own:
//
//	pk=REPORT#<date>  sk=DAY      the day's summary, once the day is over
//	pk=REPORT#<date>  sk=H#<hh>   an hour's summary
//
// each a deflated JSON report.Summary, rebuilt whole on every run.
const (
	prefixDay    = "DAY#"
	prefixReport = "REPORT#"
	skDay        = "DAY"
	prefixHour   = "H#"
	// JournalShards is how many partitions a day of the journal is spread
	// over. Readers query every one; changing it leaves older days where
	// they are, so it is a constant.
	JournalShards = 8
)

// journalKeys are an activity's keys in the day index.
func journalKeys(leadID string, at time.Time) (day, dayAt string) {
	h := fnv.New32a()
	h.Write([]byte(leadID))
	shard := h.Sum32() % JournalShards
	at = at.UTC()
	return prefixDay + at.Format(report.DateLayout) + "#" + strconv.Itoa(int(shard)), at.Format(activityTime)
}

// JournalBetween returns the activities with a time in [from, to), each
// with its lead's id, by one query of the day index per day and shard.
func (s *Store) JournalBetween(ctx context.Context, from, to time.Time) ([]report.Entry, error) {
	if !from.Before(to) {
		return nil, nil
	}
	type result struct {
		entries []report.Entry
		err     error
	}
	var queries []func() result
	for day := report.Day(from); day.Before(to); day = day.AddDate(0, 0, 1) {
		for shard := range JournalShards {
			pk := prefixDay + day.Format(report.DateLayout) + "#" + strconv.Itoa(shard)
			queries = append(queries, func() result {
				e, err := s.journalShard(ctx, pk, from, to)
				return result{e, err}
			})
		}
	}
	results := make(chan result, len(queries))
	// A few queries at a time: a month of days is 240 shards.
	sem := make(chan struct{}, 16)
	for _, q := range queries {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results <- q()
		}()
	}
	var out []report.Entry
	var errs []error
	for range queries {
		r := <-results
		out = append(out, r.entries...)
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("query the journal: %w", err)
	}
	return out, nil
}

func (s *Store) journalShard(ctx context.Context, pk string, from, to time.Time) ([]report.Entry, error) {
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexDay),
		KeyConditionExpression: aws.String("#d = :d AND #t BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{
			"#d": AttrDay, "#t": AttrDayAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d":    &types.AttributeValueMemberS{Value: pk},
			":from": &types.AttributeValueMemberS{Value: from.UTC().Format(activityTime)},
			// BETWEEN is inclusive; to is not.
			":to": &types.AttributeValueMemberS{Value: to.UTC().Add(-time.Nanosecond).Format(activityTime)},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	var out []report.Entry
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		s.usage.addRead(page.ConsumedCapacity)
		for _, raw := range page.Items {
			var item activityItem
			if err := decoder.Decode(&types.AttributeValueMemberM{Value: raw}, &item); err != nil {
				return out, fmt.Errorf("decode journal entry: %w", err)
			}
			id, ok := leadOfPK(item.PK)
			if !ok {
				continue
			}
			out = append(out, report.Entry{LeadID: id, Act: item.Activity})
		}
	}
	return out, nil
}

func leadOfPK(pk string) (string, bool) {
	if len(pk) <= len(prefixLead) || pk[:len(prefixLead)] != prefixLead {
		return "", false
	}
	return pk[len(prefixLead):], true
}

// LeadsByID reads leads by BatchGetItem, 100 at a time, eventually
// consistent (the results need not be to the second, and it halves the
// cost). An id with no lead is left out.
func (s *Store) LeadsByID(ctx context.Context, ids []string) (map[string]*lead.Lead, error) {
	out := make(map[string]*lead.Lead, len(ids))
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = leadKey(id)
	}
	err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
		var item leadItem
		if err := decoder.Decode(&types.AttributeValueMemberM{Value: raw}, &item); err != nil {
			return fmt.Errorf("decode lead item: %w", err)
		}
		id, ok := leadOfPK(item.PK)
		if !ok {
			return nil
		}
		l, err := decodeLead(item.Body, item.Applied)
		if err != nil {
			return fmt.Errorf("decode lead %s: %w", id, err)
		}
		l.ID, l.Version = id, item.Version
		out[id] = l
		return nil
	})
	return out, err
}

// batchGet reads items by their keys, 100 a call, retrying what DynamoDB
// left unprocessed, and hands each to each.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, each func(map[string]types.AttributeValue) error) error {
	for start := 0; start < len(keys); start += 100 {
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys[start:min(start+100, len(keys))]}}
		for attempt := 0; len(req) > 0; attempt++ {
			res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if err != nil {
				return fmt.Errorf("batch get: %w", err)
			}
			for i := range res.ConsumedCapacity {
				s.usage.addRead(&res.ConsumedCapacity[i])
			}
			for _, raw := range res.Responses[s.table] {
				if err := each(raw); err != nil {
					return err
				}
			}
			req = res.UnprocessedKeys
			if len(req) > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type summaryItem struct {
	PK   string `json:"pk"`
	SK   string `json:"sk"`
	Body []byte `json:"body"`
}

func summaryKey(start time.Time, span report.Span) map[string]types.AttributeValue {
	sk := skDay
	if span == report.SpanHour {
		sk = prefixHour + start.UTC().Format("15")
	}
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: prefixReport + start.UTC().Format(report.DateLayout)},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// PutSummary stores a summary, replacing the one of its span.
func (s *Store) PutSummary(ctx context.Context, sum report.Summary, span report.Span) error {
	body, err := deflateJSON(sum)
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	item := summaryKey(sum.Start, span)
	item["body"] = &types.AttributeValueMemberB{Value: body}
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("put summary: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return nil
}

// DaySummaries returns the day summaries stored for the days, by day
// start, with BatchGetItem.
func (s *Store) DaySummaries(ctx context.Context, days []time.Time) (map[time.Time]report.Summary, error) {
	out := map[time.Time]report.Summary{}
	keys := make([]map[string]types.AttributeValue, len(days))
	for i, d := range days {
		keys[i] = summaryKey(d, report.SpanDay)
	}
	err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
		sum, err := decodeSummary(raw)
		if err != nil {
			return err
		}
		out[report.Day(sum.Start)] = sum
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read day summaries: %w", err)
	}
	return out, nil
}

// HourSummaries returns the hour summaries stored for one day.
func (s *Store) HourSummaries(ctx context.Context, day time.Time) ([]report.Summary, error) {
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :h)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: prefixReport + day.UTC().Format(report.DateLayout)},
			":h":  &types.AttributeValueMemberS{Value: prefixHour},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	var out []report.Summary
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query hour summaries: %w", err)
		}
		s.usage.addRead(page.ConsumedCapacity)
		for _, raw := range page.Items {
			sum, err := decodeSummary(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, sum)
		}
	}
	return out, nil
}

func decodeSummary(raw map[string]types.AttributeValue) (report.Summary, error) {
	var item summaryItem
	if err := decoder.Decode(&types.AttributeValueMemberM{Value: raw}, &item); err != nil {
		return report.Summary{}, fmt.Errorf("decode summary item: %w", err)
	}
	var sum report.Summary
	if err := inflateJSON(item.Body, &sum); err != nil {
		return report.Summary{}, fmt.Errorf("decode summary %s %s: %w", item.PK, item.SK, err)
	}
	return sum, nil
}

// deflateJSON compresses a summary: its counters' keys repeat a handful
// of words, so a day of them shrinks several times, and reads and writes
// cost by the KB.
func deflateJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxSummaryJSON bounds what a stored summary may inflate to.
const maxSummaryJSON = 64 << 20

func inflateJSON(b []byte, v any) error {
	r := flate.NewReader(bytes.NewReader(b))
	defer r.Close()
	raw, err := io.ReadAll(io.LimitReader(r, maxSummaryJSON))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
