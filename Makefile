# switchboard: PostgreSQL extension (PGXS) and its C++ client.
#
#   make demo     build, start a throwaway cluster (unless DATABASE_URL is set), replay sample traffic
#   make test     install dependencies, build, run every suite on a throwaway cluster
#   make bench    benchmarks against naive SQL, printed as ratios
#   make deps     install the Debian packages everything needs (idempotent)

EXTENSION_NAME = switchboard
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" extension/switchboard.control)

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# --- the extension -----------------------------------------------------------
MODULE_big = switchboard
CORE_SRCS = $(sort $(wildcard extension/src/core/*.cpp))
PG_SRCS = $(sort $(wildcard extension/src/pg/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)
MODULEDIR = extension
SB_INSTALL_SQL = extension/$(EXTENSION_NAME)--$(EXTVERSION).sql
DATA = extension/switchboard.control $(filter-out $(SB_INSTALL_SQL),$(wildcard extension/$(EXTENSION_NAME)--*.sql))
DATA_built = $(SB_INSTALL_SQL)
EXTRA_CLEAN = build results regression.diffs regression.out $(OBJS:.o=.d)

WARNINGS = -Wall -Wextra -Werror
PG_CPPFLAGS = -Iextension/include -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)
PG_CXXFLAGS = -std=c++17 $(WARNINGS) -Wno-clobbered -MMD -MP
SHLIB_LINK = -lphonenumber -lprotobuf -lstdc++

# No LLVM bitcode for the JIT: it would need clang at build time for nothing.
override with_llvm = no

# pg_regress: every sql/*.sql, in name order.
REGRESS = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION_NAME)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
endif

# Postgres flags some C++ compilers reject or warn about.
override CXXFLAGS := $(filter-out -Wmissing-prototypes -Wdeclaration-after-statement,$(CXXFLAGS))

-include $(OBJS:.o=.d)
$(OBJS): Makefile

$(SB_INSTALL_SQL): $(sort $(wildcard extension/sql/*.sql)) extension/switchboard.control
	cat $(sort $(wildcard extension/sql/*.sql)) > $@

# --- dependencies ------------------------------------------------------------
DEB_PACKAGES = build-essential pkg-config postgresql-15 postgresql-server-dev-15 postgresql-contrib \
	libphonenumber-dev libprotobuf-dev libicu-dev libboost-dev \
	postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl \
	libpqxx-dev catch2 clang libclang-rt-14-dev

.PHONY: deps
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# --- C++ unit tests (no server) ----------------------------------------------
BUILD = build
UNIT_SRCS = $(sort $(wildcard test/unit/*.cpp))
UNIT_CXXFLAGS = -std=c++17 $(WARNINGS) -O2 -g -Iextension/include

$(BUILD)/unit_tests: $(UNIT_SRCS) $(CORE_SRCS) $(wildcard extension/include/switchboard/*.hpp)
	@mkdir -p $(BUILD)
	$(CXX) $(UNIT_CXXFLAGS) -o $@ $(UNIT_SRCS) $(CORE_SRCS) -lphonenumber -lprotobuf

.PHONY: unit
unit: $(BUILD)/unit_tests
	$(BUILD)/unit_tests

# --- fuzzing (libFuzzer, bounded time) ---------------------------------------
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz_phone: test/fuzz/fuzz_phone.cpp $(CORE_SRCS) $(wildcard extension/include/switchboard/*.hpp)
	@mkdir -p $(BUILD)
	clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Iextension/include -o $@ test/fuzz/fuzz_phone.cpp $(CORE_SRCS) -lphonenumber -lprotobuf

.PHONY: fuzz
fuzz: $(BUILD)/fuzz_phone
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_phone -max_total_time=$(FUZZ_SECONDS) -max_len=256 -print_final_stats=1 \
		$(BUILD)/fuzz-corpus test/fuzz/seeds

# --- the two commands of the README -------------------------------------------
# Installing into the server and running a root pg_virtualenv cluster (always
# named "regress") are machine-wide: one checkout at a time holds the lock.
LOCKED = flock $(or $(SWITCHBOARD_LOCK),/tmp/switchboard-install.lock)

.PHONY: test demo bench
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all $(BUILD)/unit_tests
	@$(LOCKED) sh -c '$(MAKE) --no-print-directory install >/dev/null && bash test/run-tests.sh'

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@$(LOCKED) sh -c '$(MAKE) --no-print-directory install >/dev/null && bash client/demo/run-demo.sh'

bench:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@$(LOCKED) sh -c '$(MAKE) --no-print-directory install >/dev/null && bash bench/run-bench.sh'
