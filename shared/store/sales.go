package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// What sales' follow-through keeps besides the lead: the open index of the
// alerts waiting for a decision, by owner, and each owner's digest item.

const (
	prefixRoute = "ROUTE#"
	skDigest    = "DIGEST"
	attrDay     = "day"
)

// routeKey names an owner's partition of the open index and its digest
// item: a hash of the address, so no key holds one.
func routeKey(owner string) string {
	sum := sha256.Sum256([]byte("route:" + strings.ToLower(strings.TrimSpace(owner))))
	return prefixRoute + hex.EncodeToString(sum[:16])
}

// OpenLeads returns the ids of the leads whose alert waits for the owner's
// decision, longest waiting first, at most limit. The index is eventually
// consistent: a lead decided a moment ago may still be listed (the caller
// reads each lead), one opened a moment ago missing.
func (s *Store) OpenLeads(ctx context.Context, owner string, limit int) ([]string, error) {
	var ids []string
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexOpen),
		KeyConditionExpression: aws.String("openRoute = :r"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":r": &types.AttributeValueMemberS{Value: routeKey(owner)},
		},
		Limit:                  aws.Int32(int32(min(limit, 1000))),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	for p.HasMorePages() && len(ids) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ids, fmt.Errorf("query open leads: %w", err)
		}
		s.usage.addRead(page.ConsumedCapacity)
		for _, item := range page.Items {
			pk, _ := item[AttrPK].(*types.AttributeValueMemberS)
			if pk == nil {
				continue
			}
			if id, ok := LeadOfKeys(pk.Value, skProfile); ok && len(ids) < limit {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// ClaimDigest claims the owner's digest of day (its date, "2026-12-01"):
// true for the one caller whose write sets it, false once it is claimed.
func (s *Store) ClaimDigest(ctx context.Context, owner, day string) (bool, error) {
	ok, err := s.digestDay(ctx, owner, day, "SET #day = :day", "attribute_not_exists(#day) OR #day < :day")
	if err != nil {
		return false, fmt.Errorf("claim digest: %w", err)
	}
	return ok, nil
}

// ReleaseDigest gives the claim of day back, when the digest could not go
// out: the next tick claims it again.
func (s *Store) ReleaseDigest(ctx context.Context, owner, day string) error {
	if _, err := s.digestDay(ctx, owner, day, "REMOVE #day", "#day = :day"); err != nil {
		return fmt.Errorf("release digest: %w", err)
	}
	return nil
}

// digestDay updates the owner's digest item on condition; false when the
// condition refused it.
func (s *Store) digestDay(ctx context.Context, owner, day, update, condition string) (bool, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       digestKey(owner),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeNames:  map[string]string{"#day": attrDay},
		ExpressionAttributeValues: map[string]types.AttributeValue{":day": &types.AttributeValueMemberS{Value: day}},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return true, nil
}

func digestKey(owner string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: routeKey(owner)},
		AttrSK: &types.AttributeValueMemberS{Value: skDigest},
	}
}
