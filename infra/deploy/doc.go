// Package deploy holds the checks of the AWS deployment, infra/template.yaml
// (AWS SAM), against the code; it has only tests:
//
//   - template_test.go cross-checks template and code: one function resource
//     per folder of functions/ and the reverse, every environment variable a
//     function reads set for it (and nothing else), the HTTP routes of
//     shared/httpapi, the scheduler's input, the SES event types the
//     engagement function decodes, the table of shared/store, least-privilege
//     IAM derived from what each function's main calls, alarms and outputs;
//   - domain_test.go keeps the domain packages (lead, nurture, scoring,
//     engagement, sales, program, link, token, mail) free of the AWS SDK
//     and of net/http, which only the adapters may import;
//   - boot_test.go starts each function's bootstrap as Lambda does, under a
//     test server speaking the Lambda Runtime API, with exactly the
//     environment the template gives it, hands it the samples in events/ and
//     reports its start-up time, memory and binary size.
//
// cfn-lint, checkov and sam build run from the Makefile (make lint-infra,
// make sam-build); make test runs all of it.
package deploy
