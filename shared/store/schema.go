// Package store keeps leads in one DynamoDB table. The key layout lives here
// and nowhere else:
//
//	pk=LEAD#<id>  sk=PROFILE      the lead (with its nurture state), its
//	                              body deflated JSON
//	pk=LEAD#<id>  sk=ACT#<time>#<key>  one activity (download, click ...),
//	                              newest last: a query reads the newest first
//	pk=SUPPRESSED#<lead id>  sk=SUPPRESSED
//	                              an erased address (by its keyed lead id):
//	                              never stored or mailed again
//
// A sparse global secondary index "due" holds only leads with a next nurture
// step: partition dueShard=DUE#<n> (write-sharded so no partition gets hot),
// sort key dueAt, so the scheduler queries what is due and never scans.
//
// A third sparse index "day" is the journal of the program's results: the
// activity items keyed day=DAY#<date>#<shard>, dayAt=<time> (journal.go).
//
// A second sparse index "open" holds only leads with an alert waiting for
// sales' decision (lead.Lead.SLA): partition openRoute=ROUTE#<hash of the
// owner's address>, sort key openSince, so the sales inbox and the daily
// digest list an owner's open alerts, oldest first, by one query.
//
//	pk=ROUTE#<hash>  sk=DIGEST    an owner's digest: the day it last went
//	                              out (claimed before sending)
//	pk=REPORT#<date>  sk=DAY or H#<hh>  the results' summary of a day or
//	                              an hour, rebuilt whole by the rollup
//
// The table's stream (new images) carries every write of a lead item; a
// lead holding outbox work ready to go has the attribute outbox (the kinds
// of work, e.g. "alert"), the one the alerts function's event source
// mapping filters on (lead.Lead.Outbox).
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names, shared with the SAM template (a test checks).
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrDueShard  = "dueShard"
	AttrDueAt     = "dueAt"
	AttrExpiresAt = "expiresAt"
	AttrOutbox    = "outbox"
	AttrOpenRoute = "openRoute"
	AttrOpenSince = "openSince"
	AttrDay       = "day"
	AttrDayAt     = "dayAt"
	IndexDue      = "due"
	IndexOpen     = "open"
	IndexDay      = "day"
	// StreamView is what the table's stream records carry: the item as
	// written, for the outbox filter; the sender reads the lead afresh.
	StreamView = types.StreamViewTypeNewImage
)

// TableDefinition is the one definition of the table, used by the local
// stack and the tests; the SAM template mirrors it.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: s},
			{AttributeName: aws.String(AttrSK), AttributeType: s},
			{AttributeName: aws.String(AttrDueShard), AttributeType: s},
			{AttributeName: aws.String(AttrDueAt), AttributeType: s},
			{AttributeName: aws.String(AttrOpenRoute), AttributeType: s},
			{AttributeName: aws.String(AttrOpenSince), AttributeType: s},
			{AttributeName: aws.String(AttrDay), AttributeType: s},
			{AttributeName: aws.String(AttrDayAt), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexDue),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrDueShard), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrDueAt), KeyType: types.KeyTypeRange},
			},
			// Keys only: the scheduler reads the lead anyway when it claims a
			// step, and a small projection keeps every lead write cheap.
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}, {
			IndexName: aws.String(IndexOpen),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrOpenRoute), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrOpenSince), KeyType: types.KeyTypeRange},
			},
			// Keys only: the index changes only when an alert opens or is
			// decided, and the inbox reads each open lead anyway.
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}, {
			IndexName: aws.String(IndexDay),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrDay), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrDayAt), KeyType: types.KeyTypeRange},
			},
			// All: the rollup reads every activity of a span whole, and an
			// activity item is small; keys only would cost a read an item.
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: StreamView},
	}
}

// EnsureTable creates the table if it does not exist, waits until it is
// active and makes sure its stream and TTL are on (a table created by an
// earlier version or an interrupted earlier run may lack them).
func EnsureTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.CreateTable(ctx, TableDefinition(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if err := waitActive(ctx, client, name); err != nil {
		return err
	}
	if err := ensureStream(ctx, client, name); err != nil {
		return err
	}
	if err := ensureIndexes(ctx, client, name); err != nil {
		return err
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe ttl of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && (d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrExpiresAt), Enabled: aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable ttl on %s: %w", name, err)
	}
	return nil
}

func waitActive(ctx context.Context, client *dynamodb.Client, name string) error {
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	return nil
}

// ensureStream turns the table's stream on with the view the outbox needs.
func ensureStream(ctx context.Context, client *dynamodb.Client, name string) error {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	if s := out.Table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) && s.StreamViewType == StreamView {
		return nil
	}
	if s := out.Table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		return fmt.Errorf("table %s has a stream of %s; the outbox needs %s", name, s.StreamViewType, StreamView)
	}
	_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:           aws.String(name),
		StreamSpecification: TableDefinition(name).StreamSpecification,
	})
	if err != nil {
		return fmt.Errorf("enable the stream of %s: %w", name, err)
	}
	return waitActive(ctx, client, name)
}

// ensureIndexes adds the indexes a table made by an earlier version lacks
// (the local stack's data outlives a release), one at a time as DynamoDB
// wants, and waits until each can be queried.
func ensureIndexes(ctx context.Context, client *dynamodb.Client, name string) error {
	def := TableDefinition(name)
	for _, want := range def.GlobalSecondaryIndexes {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if slices.ContainsFunc(out.Table.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(g.IndexName) == aws.ToString(want.IndexName)
		}) {
			continue
		}
		_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: def.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: want.IndexName, KeySchema: want.KeySchema, Projection: want.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to %s: %w", aws.ToString(want.IndexName), name, err)
		}
		if err := waitIndexActive(ctx, client, name, aws.ToString(want.IndexName)); err != nil {
			return err
		}
	}
	return nil
}

func waitIndexActive(ctx context.Context, client *dynamodb.Client, table, index string) error {
	for range 600 {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", table, err)
		}
		for _, g := range out.Table.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == index && g.IndexStatus == types.IndexStatusActive {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("index %s of %s did not become active within a minute", index, table)
}
