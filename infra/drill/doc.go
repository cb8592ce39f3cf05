// Package drill is the load and abuse drill of the public routes against the
// local stack (`make run`'s own binary, started by the drill on free
// ports): 10,000 form posts from 50 concurrent clients on their own
// loopback addresses, a tenth of them garbage or hostile, then a flood of
// junk unsubscribe links during which 100 real one-click unsubscribes are
// posted. It asserts the targets (no 5xx, no valid lead lost, every hostile
// client limited, every real unsubscribe honoured) and prints the numbers.
//
// Behind the build tag drill, so `go test ./...` never runs it:
//
//	make drill
//	go test -tags drill -count=1 -v -run TestDrill ./infra/drill
//
// A smaller version of each part runs in the normal tests (shared/httpapi's
// limits tests, infra/local's loopback test).
package drill
