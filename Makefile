# Muster — two commands: `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
DATA_DIR ?= .muster-run
MUSTER := $(BUILD_DIR)/bin/muster

.PHONY: run test build deps node-deps clean format

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	@cmake --build $(BUILD_DIR)

# Starts `muster serve` on a fresh data dir with the echo example fleet.
# Ctrl-C stops Muster and, because of --stop-on-exit, the example's game servers too.
run: build
	@rm -rf $(DATA_DIR)
	$(MUSTER) serve --data-dir $(DATA_DIR) --apply examples/fleets/echo.yaml --stop-on-exit

# The real Agones Node.js SDK the conformance tests run, at the version the lock pins.
NODE_EXAMPLE := examples/agones-node
$(NODE_EXAMPLE)/node_modules/.package-lock.json: $(NODE_EXAMPLE)/package-lock.json | deps
	@npm ci --prefix $(NODE_EXAMPLE) --no-audit --no-fund --loglevel=error

node-deps: $(NODE_EXAMPLE)/node_modules/.package-lock.json

test: build node-deps
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD_DIR)
