# Lead nurturing: build, test and run locally.
#
#   make run     the whole stack on this machine (installs what it needs first)
#   make test    go vet + every test, against real DynamoDB Local and SES local
#   make deps    only install the local servers (idempotent)
#   make bench   benchmarks and the monthly cost model on the local stack
#   make simulate  the personas' months through the nurture program (docs/simulate.md)
#   make drill   the load and abuse drill of the public routes on the local stack
#
# Needs Node.js/npm, Python 3, Go and make; Java 17 and chromium are
# installed from Debian when missing. Everything downloaded goes to
# $(CACHE), which git ignores.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

GO ?= go

# ---------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------

# Where the local servers are installed (and where `make run` keeps its data).
# Override for a throw-away install: make deps CACHE=/tmp/nurture-cache
CACHE ?= .cache
CACHE_DIR := $(abspath $(CACHE))

# infra/localstack reads this, so `go run` and `go test` (which run in the
# package's folder) find the same cache that `make deps` filled.
export NURTURE_CACHE := $(CACHE_DIR)

# ---------------------------------------------------------------------------
# Local servers (make deps)
# ---------------------------------------------------------------------------

# DynamoDB Local comes from npm, inside amplify-dynamodb-simulator: the npm
# registry is reachable everywhere we build, Amazon's download site is not.
# We only keep its emulator/ folder (the jar and its native libraries).
# Bumping the version changes the stamp name, so the next `make deps`
# reinstalls; update the checksum with it (sha512sum of the npm pack tarball).
DYNAMODB_SIMULATOR_VERSION := 2.9.30
DYNAMODB_SIMULATOR_SHA512 := c5379e44bbf311fab2779961ddb1f8734907bd21c79a6843e590ec1c5280439836665e89aa515dbad6908422c7cf1129e91cb5a3b4c1ea7888a17b9002749ec1
DYNAMODB_DIR := $(CACHE_DIR)/dynamodb
DYNAMODB_STAMP := $(DYNAMODB_DIR)/.installed-$(DYNAMODB_SIMULATOR_VERSION)

# aws-ses-v2-local and any other node tool: pinned in infra/local/node, whose
# lock file npm ci installs exactly. The stamp is named for the content of
# package.json and the lock file, not their dates: a changed file reinstalls,
# while a fresh checkout or a second worktree sharing the cache does not.
NODE_SRC := infra/local/node
NODE_DIR := $(CACHE_DIR)/node
content_hash = $(shell cat $(1) | sha256sum | cut -c1-16)
NODE_STAMP := $(NODE_DIR)/.installed-$(call content_hash,$(NODE_SRC)/package.json $(NODE_SRC)/package-lock.json)

# Chromium for the browser tests comes from Debian, and only when missing:
# it is a system package, so the file itself is the stamp.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Wait for a concurrent apt/dpkg run instead of failing on its lock.
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

# The SQS emulator (moto's server) from PyPI, into a venv of its own: the
# settle queue's adapter is tested against it (no SQS emulator comes from
# npm for the Node here, nor from Debian). Named for the content of its
# frozen requirements, like the node tools.
PYTHON ?= python3
MOTO_SRC := infra/localstack/requirements-moto.txt
MOTO_DIR := $(CACHE_DIR)/venv/moto
MOTO_STAMP := $(MOTO_DIR)/.installed-$(call content_hash,$(MOTO_SRC))

.PHONY: deps
deps: java $(DYNAMODB_STAMP) $(NODE_STAMP) $(MOTO_STAMP) $(CHROMIUM) ## install Java, the local servers and chromium, only what is missing

# Unpacked next to the target and moved into place at the end, so an
# interrupted download never leaves a half-installed emulator behind.
$(DYNAMODB_STAMP):
	@echo "==> DynamoDB Local (amplify-dynamodb-simulator@$(DYNAMODB_SIMULATOR_VERSION)) -> $(DYNAMODB_DIR)"
	rm -rf "$(DYNAMODB_DIR).tmp"
	mkdir -p "$(DYNAMODB_DIR).tmp"
	cd "$(DYNAMODB_DIR).tmp" && npm pack --silent --ignore-scripts amplify-dynamodb-simulator@$(DYNAMODB_SIMULATOR_VERSION) >/dev/null
	cd "$(DYNAMODB_DIR).tmp" && echo "$(DYNAMODB_SIMULATOR_SHA512)  amplify-dynamodb-simulator-$(DYNAMODB_SIMULATOR_VERSION).tgz" | sha512sum --check --quiet -
	tar -xzf "$(DYNAMODB_DIR).tmp/amplify-dynamodb-simulator-$(DYNAMODB_SIMULATOR_VERSION).tgz" -C "$(DYNAMODB_DIR).tmp" package/emulator
	test -f "$(DYNAMODB_DIR).tmp/package/emulator/DynamoDBLocal.jar"
	rm -rf "$(DYNAMODB_DIR)"
	mv "$(DYNAMODB_DIR).tmp/package/emulator" "$(DYNAMODB_DIR)"
	rm -rf "$(DYNAMODB_DIR).tmp"
	touch "$@"

$(MOTO_STAMP):
	@echo "==> SQS emulator (moto, PyPI) -> $(MOTO_DIR)"
	rm -rf "$(MOTO_DIR)"
	mkdir -p "$(dir $(MOTO_DIR))"
	$(PYTHON) -m venv "$(MOTO_DIR)"
	"$(MOTO_DIR)/bin/pip" install --quiet --disable-pip-version-check --no-input -r $(MOTO_SRC)
	touch "$@"

$(NODE_STAMP):
	@echo "==> node tools ($(NODE_SRC)) -> $(NODE_DIR)"
	rm -rf "$(NODE_DIR).tmp"
	mkdir -p "$(NODE_DIR).tmp"
	cp $(NODE_SRC)/package.json $(NODE_SRC)/package-lock.json "$(NODE_DIR).tmp/"
	npm ci --prefix "$(NODE_DIR).tmp" --ignore-scripts --no-audit --no-fund --omit=dev --loglevel=error
	rm -rf "$(NODE_DIR)"
	mv "$(NODE_DIR).tmp" "$(NODE_DIR)"
	touch "$@"

# Java 17 or later runs DynamoDB Local. It comes from Debian too, and only
# when `java` is missing or older: openjdk-17 on Debian 12, openjdk-21 where
# 17 is no longer packaged (Debian 13).
JAVA_MAJOR := $(shell java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
.PHONY: java
java:
	@if [ "$(JAVA_MAJOR)" -ge 17 ] 2>/dev/null; then exit 0; fi; \
	echo "==> Java 17 (Debian package; found: $(or $(JAVA_MAJOR),no java))"; \
	$(APT_GET) update; \
	$(APT_GET) install -y --no-install-recommends openjdk-17-jre-headless || $(APT_GET) install -y --no-install-recommends openjdk-21-jre-headless

$(CHROMIUM):
	@echo "==> chromium (Debian package)"
	$(APT_GET) update
	$(APT_GET) install -y chromium

.PHONY: clean-deps
clean-deps: ## remove the installed local servers (keeps the data of make run)
	rm -rf "$(DYNAMODB_DIR)" "$(DYNAMODB_DIR).tmp" "$(NODE_DIR)" "$(NODE_DIR).tmp" "$(MOTO_DIR)"

# ---------------------------------------------------------------------------
# Go
# ---------------------------------------------------------------------------

.PHONY: fmt
fmt: ## gofmt every Go file
	$(GO) fmt ./...

.PHONY: vet
vet: ## go vet, and fail on files gofmt would change
	$(GO) vet ./...
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

# The program file is compiled into every function: a broken one never ships.
PROGRAM ?= shared/program/program.yaml
.PHONY: validate
validate: ## check the nurture program file (PROGRAM=path for another file)
	$(GO) run ./infra/validate $(PROGRAM)

# The personas of PERSONAS (made-up leads) played through PROGRAM for months
# on DynamoDB Local and SES local, started in memory for the run: the emails
# each gets, its score month by month, when it crosses each threshold, and
# who reaches each threshold when. See docs/simulate.md.
PERSONAS ?= shared/program/personas.yaml
FORMAT ?= text
.PHONY: simulate
simulate: java $(DYNAMODB_STAMP) $(NODE_STAMP) ## play the personas through the program for 12 months (PROGRAM=, PERSONAS=, FORMAT=csv)
	$(GO) run ./infra/simulate -program $(PROGRAM) -personas $(PERSONAS) -format $(FORMAT)

# -count=1: the tests talk to servers, so a cached pass says nothing.
.PHONY: test
test: deps vet validate lint-infra sam-build ## vet, validate the program, lint and build the SAM template, every test against DynamoDB Local and SES local
	@rm -f "$(BUILD_DIR)/boot-report.txt"
	$(GO) test -count=1 -timeout 15m ./...
	@cat "$(BUILD_DIR)/boot-report.txt" 2>/dev/null || true

# Benchmarks against DynamoDB Local and SES local, started by the benchmarks
# themselves (in memory, free ports), then the monthly cost model. Behind the
# build tag bench, so `go test ./...` never runs them. BENCH_SCALE=0.1 shrinks
# every scenario for a quick run. The previous results are kept, so
#   go run golang.org/x/perf/cmd/benchstat $(CACHE)/bench/results.old.txt $(CACHE)/bench/results.txt
# compares two runs.
BENCH_DIR := $(CACHE_DIR)/bench

.PHONY: bench
bench: java $(DYNAMODB_STAMP) $(NODE_STAMP) ## benchmarks and cost model on the local stack (BENCH_SCALE=0.1 for a quick run)
	@mkdir -p "$(BENCH_DIR)"
	@if [ -f "$(BENCH_DIR)/results.txt" ]; then mv "$(BENCH_DIR)/results.txt" "$(BENCH_DIR)/results.old.txt"; fi
	$(GO) test -tags bench -count=1 -timeout 30m -run '^$$' -bench . -benchtime 1x ./infra/bench | tee "$(BENCH_DIR)/results.txt"
	@echo "==> results in $(BENCH_DIR)/results.txt"

# The load and abuse drill (infra/drill, build tag drill, so `go test ./...`
# never runs it): make run's own binary on free ports, 10,000 form posts from
# 50 clients on their own loopback addresses (a tenth garbage or hostile),
# then a junk flood on /u/ during 100 real one-click unsubscribes. Fails when
# a target is missed; prints the numbers (docs/security.md).
.PHONY: drill
drill: java $(DYNAMODB_STAMP) $(NODE_STAMP) ## load and abuse drill against the local stack: limits, no 5xx, no lost lead, unsubscribes under a junk flood
	$(GO) test -tags drill -count=1 -timeout 40m -v -run '^TestDrill$$' ./infra/drill

# ---------------------------------------------------------------------------
# Infrastructure: build for Lambda, lint the SAM template, deploy to AWS
# ---------------------------------------------------------------------------
#
#   make build        every function for Lambda into $(CACHE)/build/<name>/bootstrap
#   make lint-infra   cfn-lint and checkov on infra/template.yaml
#   make sam-build    sam build of infra/template.yaml (no Docker)
#   make deploy       sam deploy (guided the first time), see docs/deploy.md
#
# The Python tools (SAM CLI, cfn-lint, checkov) come from PyPI into venvs
# under $(CACHE)/venv, installed once from the frozen lists in infra/deploy:
# checkov and the SAM CLI pin conflicting boto3 versions, so one venv each.

FUNCTIONS := $(sort $(notdir $(patsubst %/,%,$(wildcard functions/*/))))

# Lambda's provided.al2023 runtime on Graviton: a static linux/arm64 binary
# named bootstrap, without the RPC server the go1.x runtime needed.
LAMBDA_GOENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
BUILD_DIR := $(CACHE_DIR)/build

.PHONY: build
build: ## build every function for Lambda (linux/arm64) into $(CACHE)/build/<name>/bootstrap
	@for f in $(FUNCTIONS); do \
	  echo "==> $$f -> $(BUILD_DIR)/$$f/bootstrap"; \
	  $(LAMBDA_GOENV) $(GO) build $(LAMBDA_GOFLAGS) -o "$(BUILD_DIR)/$$f/bootstrap" ./functions/$$f; \
	done

# sam build (Metadata: BuildMethod: makefile) runs `make build-<LogicalId>`
# here, in the repository root (CodeUri: ../ with --build-in-source), with
# ARTIFACTS_DIR set: CaptureFunction builds functions/capture.
build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-$*Function: ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	$(LAMBDA_GOENV) $(GO) build $(LAMBDA_GOFLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(shell echo '$*' | tr A-Z a-z)

VENV_DIR := $(CACHE_DIR)/venv
SAM_VENV := $(VENV_DIR)/sam
CHECKOV_VENV := $(VENV_DIR)/checkov
SAM_REQUIREMENTS := infra/deploy/requirements-sam.txt
CHECKOV_REQUIREMENTS := infra/deploy/requirements-checkov.txt
SAM_STAMP := $(SAM_VENV)/.installed-$(call content_hash,$(SAM_REQUIREMENTS))
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(call content_hash,$(CHECKOV_REQUIREMENTS))
SAM := $(SAM_VENV)/bin/sam
TEMPLATE := infra/template.yaml
SAM_BUILD_DIR := $(CACHE_DIR)/sam-build
# No usage data leaves the machine: sam build works offline.
SAM_ENV := SAM_CLI_TELEMETRY=0

# A changed requirements file changes the stamp's name and reinstalls from
# scratch; the stamp is written last, so an interrupted install is redone.
$(SAM_STAMP):
	@echo "==> SAM CLI and cfn-lint (PyPI) -> $(SAM_VENV)"
	rm -rf "$(SAM_VENV)"
	$(PYTHON) -m venv "$(SAM_VENV)"
	"$(SAM_VENV)/bin/pip" install --quiet --disable-pip-version-check --no-input -r $(SAM_REQUIREMENTS)
	touch "$@"

$(CHECKOV_STAMP):
	@echo "==> checkov (PyPI) -> $(CHECKOV_VENV)"
	rm -rf "$(CHECKOV_VENV)"
	$(PYTHON) -m venv "$(CHECKOV_VENV)"
	"$(CHECKOV_VENV)/bin/pip" install --quiet --disable-pip-version-check --no-input -r $(CHECKOV_REQUIREMENTS)
	touch "$@"

.PHONY: infra-deps
infra-deps: $(SAM_STAMP) $(CHECKOV_STAMP) ## install the SAM CLI, cfn-lint and checkov (idempotent)

# Skipped checks are listed, with their reasons, in the template's Metadata.
# checkov --skip-download: no calls to Prisma Cloud, the scan is offline.
.PHONY: lint-infra
lint-infra: $(SAM_STAMP) $(CHECKOV_STAMP) ## cfn-lint and checkov on infra/template.yaml
	@echo "==> cfn-lint $(TEMPLATE)"
	"$(SAM_VENV)/bin/cfn-lint" $(TEMPLATE)
	@echo "==> checkov $(TEMPLATE)"
	"$(CHECKOV_VENV)/bin/checkov" --file $(TEMPLATE) --framework cloudformation --skip-download --compact --quiet

# --build-in-source: make runs in the repository itself, so Go's build cache
# works and .cache/ is not copied to a scratch folder. Then every function of
# the template must have a linux/arm64 bootstrap built with lambda.norpc.
.PHONY: sam-build
sam-build: $(SAM_STAMP) ## sam build of infra/template.yaml into $(CACHE)/sam-build
	@echo "==> sam build $(TEMPLATE) -> $(SAM_BUILD_DIR)"
	$(SAM_ENV) "$(SAM)" build --template $(TEMPLATE) --build-dir "$(SAM_BUILD_DIR)" --build-in-source
	@fns="$$(grep -oE '^  [A-Za-z0-9]+Function:' $(TEMPLATE) | tr -d ' :')"; \
	test -n "$$fns" || { echo "no functions in $(TEMPLATE)"; exit 1; }; \
	for fn in $$fns; do \
	  bin="$(SAM_BUILD_DIR)/$$fn/bootstrap"; \
	  test -x "$$bin" || { echo "sam build made no $$bin"; exit 1; }; \
	  info="$$($(GO) version -m "$$bin")"; \
	  for want in 'GOOS=linux' 'GOARCH=arm64' 'CGO_ENABLED=0' '-tags=lambda.norpc'; do \
	    grep -qF -- "$$want" <<<"$$info" || { echo "$$bin: not built with $$want"; exit 1; }; \
	  done; \
	  printf '    %-20s %s bytes\n' "$$fn" "$$(stat -c %s "$$bin")"; \
	done

# Deploying needs AWS credentials for the target account (any way the AWS
# SDKs find them: AWS_PROFILE, SSO, environment). The first run asks for the
# parameters and saves the answers in $(SAM_CONFIG) (sam wants the file to
# exist, so an empty one is made first); later runs reuse them.
SAM_CONFIG ?= infra/samconfig.toml
STACK_NAME ?= nurture
TOKEN_KEYS_PARAMETER ?= /nurture/token-keys
WEBHOOK_URL_PARAMETER ?= /nurture/alert-webhook
EVENTS_PARAMETER ?= /nurture/crm-events

.PHONY: deploy
deploy: token-keys sam-build ## deploy to AWS with SAM (guided the first time; see README)
	@mkdir -p "$(dir $(SAM_CONFIG))" && touch "$(SAM_CONFIG)"
	@if grep -q 'deploy\.parameters' "$(SAM_CONFIG)"; then \
	  echo "==> sam deploy (settings from $(SAM_CONFIG))"; \
	  $(SAM_ENV) "$(SAM)" deploy --template-file "$(SAM_BUILD_DIR)/template.yaml" --config-file "$(abspath $(SAM_CONFIG))"; \
	else \
	  echo "==> sam deploy --guided (answers saved to $(SAM_CONFIG))"; \
	  $(SAM_ENV) "$(SAM)" deploy --guided --template-file "$(SAM_BUILD_DIR)/template.yaml" --config-file "$(abspath $(SAM_CONFIG))" \
	    --stack-name $(STACK_NAME) --capabilities CAPABILITY_IAM --resolve-s3; \
	fi

# The link signing keys and the lead id key live in SSM Parameter Store as
# one SecureString, never in the template: "lead-id:BASE64,kYYYYMMDD:BASE64".
# Creates the parameter with a random 256-bit key of each kind if it is
# missing. An existing parameter without a lead-id key gets one added (its
# signing keys kept, in order); an existing lead-id key is never changed, since
# lead ids are the table's keys (rotating signing keys: docs/deploy.md).
define TOKEN_KEYS_PY
import base64, datetime, os, sys
import boto3
name = sys.argv[1]
ssm = boto3.client("ssm", region_name=os.environ.get("AWS_REGION") or None)
def secret():
    return base64.b64encode(os.urandom(32)).decode()
description = "Lead nurturing keys: lead-id:base64 (never change it), then link signing keys id:base64, newest first"
try:
    p = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
except ssm.exceptions.ParameterNotFound:
    kid = "k" + datetime.date.today().strftime("%Y%m%d")
    ssm.put_parameter(Name=name, Type="SecureString", Value=f"lead-id:{secret()},{kid}:{secret()}",
                      Description=description)
    print(f"==> created {name} (SecureString: the lead-id key and signing key {kid})")
    sys.exit(0)
if p["Type"] != "SecureString":
    sys.exit(f"{name} must be a SecureString: the functions refuse a plain one")
entries = [e.strip() for e in p["Value"].split(",") if e.strip()]
if any(e.split(":", 1)[0].strip() == "lead-id" for e in entries):
    print(f"==> {name} exists and holds the lead-id key; left as it is")
    sys.exit(0)
# Overwriting without a KeyId would re-encrypt with the account's default
# key: keep the parameter's own (TokenKeysKmsKeyArn).
meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
kms = {"KeyId": meta[0]["KeyId"]} if meta and meta[0].get("KeyId") else {}
ssm.put_parameter(Name=name, Type="SecureString", Overwrite=True, Description=description,
                  Value=",".join([f"lead-id:{secret()}"] + entries), **kms)
print(f"==> added the lead-id key to {name}; its signing keys are unchanged")
endef
export TOKEN_KEYS_PY

.PHONY: token-keys
token-keys: $(SAM_STAMP) ## create the signing and lead id keys in SSM Parameter Store if missing (TOKEN_KEYS_PARAMETER=...)
	"$(SAM_VENV)/bin/python" -c "$$TOKEN_KEYS_PY" "$(TOKEN_KEYS_PARAMETER)"

# The alert webhook's URL is a secret too (anyone holding it posts to the
# channel): it goes into SSM Parameter Store as a SecureString, and the
# stack's AlertWebhookParameter names it. Run again to replace it.
define WEBHOOK_URL_PY
import os, sys
import boto3
name, url = sys.argv[1], os.environ.get("WEBHOOK_URL", "")
if not url.startswith("https://"):
    sys.exit("set WEBHOOK_URL to the incoming webhook's https:// URL")
ssm = boto3.client("ssm", region_name=os.environ.get("AWS_REGION") or None)
ssm.put_parameter(Name=name, Type="SecureString", Value=url, Overwrite=True,
                  Description="Lead nurturing sales alert webhook URL")
print(f"==> stored {name} (SecureString); deploy with AlertWebhookParameter={name}")
endef
export WEBHOOK_URL_PY

.PHONY: webhook-url
webhook-url: $(SAM_STAMP) ## store WEBHOOK_URL in SSM Parameter Store for the alerts function (WEBHOOK_URL_PARAMETER=...)
	"$(SAM_VENV)/bin/python" -c "$$WEBHOOK_URL_PY" "$(WEBHOOK_URL_PARAMETER)"

# The CRM's lifecycle events: the receiver's URL and the secret that signs
# every event go into one SSM SecureString, {"url": ..., "secret": ...},
# which the stack's LifecycleEventsParameter names. EVENTS_SECRET, when not
# given, is made here and printed once: the receiver needs it to verify
# (docs/crm.md). Run again to move the URL; to replace the secret without
# refusing events, set EVENTS_SECRET=new,old until the receiver has the
# new one.
define EVENTS_WEBHOOK_PY
import json, os, secrets, sys
import boto3
name, url = sys.argv[1], os.environ.get("EVENTS_URL", "")
if not url.startswith("https://"):
    sys.exit("set EVENTS_URL to the CRM webhook's https:// URL")
secret = os.environ.get("EVENTS_SECRET", "")
made = not secret
if made:
    secret = "whsec_" + secrets.token_urlsafe(32)
ssm = boto3.client("ssm", region_name=os.environ.get("AWS_REGION") or None)
ssm.put_parameter(Name=name, Type="SecureString", Value=json.dumps({"url": url, "secret": secret}), Overwrite=True,
                  Description="Lead nurturing CRM lifecycle events: webhook URL and signing secret")
print(f"==> stored {name} (SecureString); deploy with LifecycleEventsParameter={name}")
if made:
    print(f"==> signing secret (give it to the receiver; it is not shown again): {secret}")
endef
export EVENTS_WEBHOOK_PY

.PHONY: events-webhook
events-webhook: $(SAM_STAMP) ## store EVENTS_URL (and EVENTS_SECRET, or a new one) in SSM Parameter Store for the events function (EVENTS_PARAMETER=...)
	"$(SAM_VENV)/bin/python" -c "$$EVENTS_WEBHOOK_PY" "$(EVENTS_PARAMETER)"

.PHONY: clean-infra
clean-infra: ## remove the Python tool venvs and the build outputs
	rm -rf "$(VENV_DIR)" "$(BUILD_DIR)" "$(SAM_BUILD_DIR)"

# ---------------------------------------------------------------------------
# Local stack
# ---------------------------------------------------------------------------

# WEBHOOK_URL (the alerts' chat webhook), EVENTS_URL and EVENTS_SECRET (the
# CRM's lifecycle events) come from the environment here, as the secrets
# come from Parameter Store in AWS.
.PHONY: run
run: deps ## the whole stack on this machine (see README; WEBHOOK_URL=, EVENTS_URL= EVENTS_SECRET= to try the webhooks)
	$(GO) run ./infra/local

# ---------------------------------------------------------------------------
# Privacy
# ---------------------------------------------------------------------------
#
# A person's data requests (docs/deploy.md, "Operating it"). With TABLE_NAME set
# (the stack's TableName output) they work on that table in AWS with your
# credentials, reading the lead id key from TOKEN_KEYS_PARAMETER; without it,
# on the table of a running `make run`, with the key in its data folder.

PRIVACY_ENV := if [ -z "$${TABLE_NAME:-}" ]; then export TABLE_NAME=nurture-local DYNAMODB_ENDPOINT="$${DYNAMODB_ENDPOINT:-http://localhost:$${DYNAMODB_PORT:-8000}}" \
	  TOKEN_KEYS="$${TOKEN_KEYS:-$$(cat "$${LOCAL_DATA_DIR:-$(CACHE_DIR)/data}/token-key")}"; \
	else export TOKEN_KEYS_PARAMETER="$(TOKEN_KEYS_PARAMETER)"; fi;

.PHONY: privacy-export
privacy-export: ## print everything stored about EMAIL=... as JSON
	@test -n "$(EMAIL)" || { echo "usage: make privacy-export EMAIL=person@example.com"; exit 2; }
	@$(PRIVACY_ENV) $(GO) run ./infra/privacy export "$(EMAIL)"

.PHONY: privacy-erase
privacy-erase: ## delete everything about EMAIL=... at once and never mail it again
	@test -n "$(EMAIL)" || { echo "usage: make privacy-erase EMAIL=person@example.com"; exit 2; }
	@$(PRIVACY_ENV) $(GO) run ./infra/privacy erase "$(EMAIL)"

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
#
# The program's results (docs/report.md) in the terminal: the tables of the
# report page. Without TABLE_NAME, of a running `make run` (its clock is
# "today"); with it, of that table in AWS.
#   make report                       the last 8 weeks, every table
#   make report PERIOD=week BY=industry   the funnel by one dimension
#   make report FROM=2026-11-01 TO=2026-11-30 TABLE=assets FORMAT=csv
#   make report REBUILD=1             re-run the rollup of the period first
PERIOD ?=
FROM ?=
TO ?=
BY ?=
TABLE ?=
REBUILD ?=
.PHONY: report
report: ## the program's results in the terminal (PERIOD=week|month FROM= TO= BY= TABLE= FORMAT=csv REBUILD=1)
	@if [ -z "$${TABLE_NAME:-}" ]; then export TABLE_NAME=nurture-local LOCAL_URL="$${LOCAL_URL:-http://localhost:$${PORT:-3000}}" \
	  DYNAMODB_ENDPOINT="$${DYNAMODB_ENDPOINT:-http://localhost:$${DYNAMODB_PORT:-8000}}"; fi; \
	$(GO) run ./infra/report -period "$(PERIOD)" -from "$(FROM)" -to "$(TO)" -by "$(BY)" -table "$(TABLE)" \
	  -format "$(FORMAT)" $(if $(REBUILD),-rebuild)

# ---------------------------------------------------------------------------
# Help
# ---------------------------------------------------------------------------

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
