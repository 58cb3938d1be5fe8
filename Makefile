# Freely — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     ?= bin/freely
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build lint assets

# Start the platform on its defaults: web on :8080, RTMP on :1935, data under ./data.
run: assets
	$(GO) run ./cmd/freely serve

# Every test with the race detector. Suites that need PostgreSQL, Redis or a browser run when
# FREELY_TEST_POSTGRES, FREELY_TEST_REDIS or FREELY_E2E are set (.ci/run sets them all) and
# say that they were skipped otherwise.
test: assets
	$(GO) test -race -count=1 ./...

# A static binary with no cgo, stamped with the version.
build: assets
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/freely

# Formatting and vet; fails listing the files gofmt would change.
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# Browser libraries pinned in web/package-lock.json (hls.js for the player), installed from the
# npm registry and copied into the embedded assets. Without npm the site still runs; the watch
# page then plays only where the browser has native HLS (Safari) and says so elsewhere.
HLSJS := internal/web/static/vendor/hls.light.min.js
assets: $(HLSJS)

$(HLSJS): web/package.json web/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix web --ignore-scripts --no-audit --no-fund --omit-lockfile-registry-resolved --loglevel=error && \
		mkdir -p $(dir $@) && cp web/node_modules/hls.js/dist/hls.light.min.js $@ && \
		cp web/node_modules/hls.js/LICENSE $(dir $@)hls.js.LICENSE.txt; \
	else echo "npm not found: skipping hls.js (the watch page falls back to native HLS)"; fi
