// Package bench measures the product against the real local stack
// (DynamoDB Local and SES local, started by the benchmarks themselves):
// throughput, handler time, allocations and DynamoDB capacity units per
// operation, and a monthly cost model built from them.
//
// The benchmarks are behind the build tag bench, so `go test ./...` never
// runs them:
//
//	make bench                       # BENCH_SCALE=0.1 make bench for a quick run
//	go test -tags bench -run '^$' -bench . -benchtime 1x ./infra/bench
//
// Each benchmark runs its whole scenario once (hence -benchtime 1x) and
// reports per-operation figures with b.ReportMetric, in Go benchmark format,
// so benchstat can compare two runs.
package bench
