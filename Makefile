# trailwatch: run `make help` for the targets.
#
# The local stack (broker, MinIO, ClickHouse, GeoIP data) is installed on
# first use into $(TRAILWATCH_CACHE_DIR) and keeps its data and pids under
# .state/; both live outside version control.

SHELL := /bin/bash
GO    ?= go
BIN   := bin/trailwatch

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/trailwatch
	$(GO) build -o $(BIN) ./cmd/trailwatch

.PHONY: up
up: build ## install (first time) and start the local stack, print its endpoints
	@bash deploy/local/stack.sh up

.PHONY: down
down: ## stop the local stack (data is kept under .state/)
	@bash deploy/local/stack.sh down

.PHONY: status
status: ## show what of the local stack is running
	@bash deploy/local/stack.sh status

.PHONY: demo
demo: build ## start the stack, generate an organisation's logs into S3 and run the pipeline
	@bash deploy/local/demo.sh

.PHONY: test
test: build ## start the stack, run vet, staticcheck and every test with -race, stop the stack
	@bash deploy/local/test.sh

.PHONY: unit
unit: ## run the tests that need no local stack (integration tests skip)
	$(GO) test -race ./...

.PHONY: lint
lint: ## go vet, staticcheck, and a tidy go.mod
	@bash deploy/local/lint.sh

.PHONY: bench
bench: ## run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: clean
clean: down ## stop the stack and delete its data (.state/) and bin/
	rm -rf .state bin
