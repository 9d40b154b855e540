# HPF: the two commands (make run, make test) and a few helpers. Meson + Ninja do the building.
SHELL := /bin/bash
BUILD ?= build
TEST_BUILD ?= build-test
DATA_DIR ?= var
LISTEN ?= 127.0.0.1:8443

.PHONY: all build run test test-unit test-api test-e2e web deps deps-test bench bench-fund clean format

all: build

deps:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

$(BUILD)/build.ninja:
	@meson setup $(BUILD) --buildtype=release -Db_ndebug=false >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null

web: deps
	@cd web && npm run --silent build >/dev/null

# make run: install, build, create var/ with a demo on first run, serve https://127.0.0.1:8443
run: build web
	@scripts/run-demo.sh $(BUILD)/hpf $(DATA_DIR) $(LISTEN)

$(TEST_BUILD)/build.ninja:
	@meson setup $(TEST_BUILD) --buildtype=debug -Dwerror=true \
	  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

# make test: install, build with sanitizers, run every tier, end with "N passed, N failed"
test: deps-test $(TEST_BUILD)/build.ninja web
	@ninja -C $(TEST_BUILD) >/dev/null
	@tests/run.sh $(TEST_BUILD)

bench: build web
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)

# The fund core at city scale (issue 5): a million members; about 12 minutes.
bench-fund: build
	@scripts/deps.sh bench
	@bench/fund.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'sim/*.[ch]' 'fuzz/*.[ch]')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) web/dist

# make fuzz: fuzz each libFuzzer target of fuzz/ for FUZZ_SECONDS (default 60) with clang;
# new inputs are kept in $(TEST_BUILD)/fuzz/corpus-new/ (not in git), crashes in .../crashes/
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: deps-test
	@fuzz/fuzz.sh $(TEST_BUILD) $(FUZZ_SECONDS)
