# Lead nurturing: build, test and run locally.
#
#   make run     the whole stack on this machine (installs what it needs first)
#   make test    go vet + every test, against real DynamoDB Local and SES local
#   make deps    only install the local servers (idempotent)
#
# Needs Java 17, Node.js/npm, Go and make. Everything downloaded goes to
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
# lock file npm ci installs exactly. A changed package.json or lock file makes
# the stamp stale and reinstalls.
NODE_SRC := infra/local/node
NODE_DIR := $(CACHE_DIR)/node
NODE_STAMP := $(NODE_DIR)/.installed

# Chromium for the browser tests comes from Debian, and only when missing:
# it is a system package, so the file itself is the stamp.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Wait for a concurrent apt/dpkg run instead of failing on its lock.
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

.PHONY: deps
deps: $(DYNAMODB_STAMP) $(NODE_STAMP) $(CHROMIUM) ## install the local servers and chromium, only what is missing

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

$(NODE_STAMP): $(NODE_SRC)/package.json $(NODE_SRC)/package-lock.json
	@echo "==> node tools ($(NODE_SRC)) -> $(NODE_DIR)"
	rm -rf "$(NODE_DIR).tmp"
	mkdir -p "$(NODE_DIR).tmp"
	cp $(NODE_SRC)/package.json $(NODE_SRC)/package-lock.json "$(NODE_DIR).tmp/"
	npm ci --prefix "$(NODE_DIR).tmp" --ignore-scripts --no-audit --no-fund --omit=dev --loglevel=error
	rm -rf "$(NODE_DIR)"
	mv "$(NODE_DIR).tmp" "$(NODE_DIR)"
	touch "$@"

$(CHROMIUM):
	@echo "==> chromium (Debian package)"
	$(APT_GET) update
	$(APT_GET) install -y chromium

.PHONY: clean-deps
clean-deps: ## remove the installed local servers (keeps the data of make run)
	rm -rf "$(DYNAMODB_DIR)" "$(DYNAMODB_DIR).tmp" "$(NODE_DIR)" "$(NODE_DIR).tmp"

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

# -count=1: the tests talk to servers, so a cached pass says nothing.
.PHONY: test
test: deps vet validate ## vet, validate the program, every test against DynamoDB Local and SES local
	$(GO) test -count=1 -timeout 15m ./...

# ---------------------------------------------------------------------------
# Local stack
# ---------------------------------------------------------------------------

.PHONY: run
run: deps ## the whole stack on this machine (see README)
	$(GO) run ./infra/local

# ---------------------------------------------------------------------------
# Help
# ---------------------------------------------------------------------------

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
