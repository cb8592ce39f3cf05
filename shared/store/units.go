package store

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/shared/lead"
)

// Write units of a transaction, as AWS bills them. DynamoDB Local reports
// other figures for TransactWriteItems (4 for one small item, 4 for three,
// 12 for three with a new due index entry), so Store.Usage counts a
// transaction itself: each item's write units (1 per KB or part of one)
// doubled, since a transaction prepares and commits every item; plus the
// indexes' writes, which a transaction does not double (measured against
// DynamoDB by the dynoxide project, github.com/nubo-db/dynoxide/pull/188).

// ItemSize is an item's size as DynamoDB counts it: each attribute's name
// and value (a number about a byte per two digits, a map or list 3 bytes
// more and a byte per element), an estimate within a few bytes.
func ItemSize(m map[string]types.AttributeValue) int {
	n := 0
	for k, v := range m {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return (len(strings.TrimLeft(x.Value, "-0"))+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		return 3 + ItemSize(x.Value) + len(x.Value)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, e := range x.Value {
			n += len(e)
		}
		return n
	}
	return 0
}

// transactWriteUnits is what AWS bills a TransactWriteItems of puts:
// twice each item's units, plus the index writes (indexUnits).
func transactWriteUnits(items []map[string]types.AttributeValue, index int) float64 {
	units := 0
	for _, it := range items {
		units += 2 * ((ItemSize(it) + 1023) / 1024)
	}
	return float64(units + index)
}

// indexKeys are a lead item's keys in the due and the open index, empty
// where the item is not in one.
type indexKeys struct {
	due, open string
}

// indexKeysOf is what leadPut writes for l (both indexes are KEYS_ONLY).
func (s *Store) indexKeysOf(l *lead.Lead) indexKeys {
	var k indexKeys
	if at, ok := l.WakeAt(); ok {
		k.due = s.dueShard(l.ID) + " " + at.UTC().Format(dueLayout)
	}
	if sla := l.SLA; sla != nil {
		k.open = routeKey(sla.Owner) + " " + sla.Since.UTC().Format(dueLayout)
	}
	return k
}

// indexUnits is what a lead write costs in its KEYS_ONLY indexes (items
// under 1 KB there): nothing when its keys stay, 1 to enter or leave an
// index, 2 to move in one (a delete and a put).
func indexUnits(before, after indexKeys) int {
	arm := func(b, a string) int {
		switch {
		case b == a:
			return 0
		case b == "" || a == "":
			return 1
		}
		return 2
	}
	return arm(before.due, after.due) + arm(before.open, after.open)
}
