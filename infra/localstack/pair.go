package localstack

import (
	"context"
	"errors"
	"sync"
)

// Pair is a DynamoDB Local and an SES local started together; either may be
// nil when it was not asked for.
type Pair struct {
	DynamoDB, SES *Server
}

// StartPair starts DynamoDB Local (with dynamo's options, unless nil) and
// SES local (with ses's, unless nil) at once: the JVM's start dominates, and
// SES local's overlaps it. If either fails, the other is stopped and the
// errors are returned together.
func StartPair(ctx context.Context, dynamo *DynamoOptions, ses *SESOptions) (Pair, error) {
	var (
		wg                sync.WaitGroup
		p                 Pair
		dynamoErr, sesErr error
	)
	if dynamo != nil {
		wg.Go(func() { p.DynamoDB, dynamoErr = StartDynamoDB(ctx, *dynamo) })
	}
	if ses != nil {
		wg.Go(func() { p.SES, sesErr = StartSES(ctx, *ses) })
	}
	wg.Wait()
	if err := errors.Join(dynamoErr, sesErr); err != nil {
		return Pair{}, errors.Join(err, p.Stop())
	}
	return p, nil
}

// Stop stops both servers, and reports what Stop of each reported.
func (p Pair) Stop() error {
	var errs []error
	for _, s := range []*Server{p.DynamoDB, p.SES} {
		if s != nil {
			errs = append(errs, s.Stop())
		}
	}
	return errors.Join(errs...)
}
