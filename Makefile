# Freely — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     ?= bin/freely
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build lint

# Start the platform on its defaults: web on :8080, RTMP on :1935, data under ./data.
run:
	$(GO) run ./cmd/freely serve

# Every test with the race detector. Suites that need PostgreSQL, Redis or a browser run when
# FREELY_TEST_POSTGRES, FREELY_TEST_REDIS or FREELY_E2E are set (.ci/run sets them all) and
# say that they were skipped otherwise.
test:
	$(GO) test -race -count=1 ./...

# A static binary with no cgo, stamped with the version.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/freely

# Formatting and vet; fails listing the files gofmt would change.
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
