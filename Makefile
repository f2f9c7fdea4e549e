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
# Versions: the install script of the current version is built from
# extension/sql/*.sql; upgrade scripts to it from extension/upgrade/*--$(EXTVERSION).sql
# followed by 099_secure_tables.sql.  Scripts of older versions are committed
# as shipped (extension/switchboard--0.1.0.sql .. --0.10.0.sql, --0.1.0--0.2.0.sql .. --0.9.0--0.10.0.sql)
# and never edited.
SB_INSTALL_SQL = extension/$(EXTENSION_NAME)--$(EXTVERSION).sql
SB_UPGRADE_SRCS = $(wildcard extension/upgrade/*--$(EXTVERSION).sql)
SB_UPGRADE_SQL = $(patsubst extension/upgrade/%,extension/$(EXTENSION_NAME)--%,$(SB_UPGRADE_SRCS))
DATA = extension/switchboard.control $(filter-out $(SB_INSTALL_SQL) $(SB_UPGRADE_SQL),$(wildcard extension/$(EXTENSION_NAME)--*.sql))
DATA_built = $(SB_INSTALL_SQL) $(SB_UPGRADE_SQL)
EXTRA_CLEAN = build results regression.diffs regression.out output_iso $(OBJS:.o=.d)

WARNINGS = -Wall -Wextra -Werror
PG_CPPFLAGS = -Iextension/include -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)
PG_CXXFLAGS = -std=c++17 $(WARNINGS) -Wno-clobbered -MMD -MP
SHLIB_LINK = -lphonenumber -lprotobuf -lstdc++

# No LLVM bitcode for the JIT: it would need clang at build time for nothing.
override with_llvm = no

# pg_regress: every sql/*.sql, in name order.
REGRESS = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION_NAME)
# isolation tests (pg_isolation_regress, run by installcheck after pg_regress):
# every specs/*.spec against expected/*.out, interleavings of sessions step by step.
ISOLATION = $(sort $(patsubst specs/%.spec,%,$(wildcard specs/*.spec)))
ISOLATION_OPTS = --load-extension=$(EXTENSION_NAME)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
endif

# Postgres flags some C++ compilers reject or warn about.
override CXXFLAGS := $(filter-out -Wmissing-prototypes -Wdeclaration-after-statement,$(CXXFLAGS))

-include $(OBJS:.o=.d)
$(OBJS): Makefile

$(SB_INSTALL_SQL): $(sort $(wildcard extension/sql/*.sql)) extension/switchboard.control
	cat $(sort $(wildcard extension/sql/*.sql)) > $@

extension/$(EXTENSION_NAME)--%--$(EXTVERSION).sql: extension/upgrade/%--$(EXTVERSION).sql extension/sql/099_secure_tables.sql
	cat $^ > $@

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

# --- the C++ client: library, CLI, tests (client/) ---------------------------
# libswitchboard.a and libswitchboard.so (libpqxx hidden behind the header),
# the `switchboard` CLI, and the Catch2 tests against a live server.
PREFIX ?= /usr/local
# The client's own version: 0.2.1 adds record_outbound_batch (and the CLI's
# reply rows); it speaks to 0.1.0, 0.2.0 and 0.3.0 schemas alike.
CLIENT_VERSION = 0.2.1
CLIENT_SOMAJOR = 0
CLIENT_BUILD = $(BUILD)/client
CLIENT_CXXFLAGS = -std=c++17 $(WARNINGS) -O2 -g -fPIC -Iclient/include
CLIENT_LIBS = -lpqxx -lpq
CLIENT_HEADERS = $(wildcard client/include/switchboard/*.hpp)
CLIENT_LIB_SRCS = $(sort $(wildcard client/src/*.cpp))
CLIENT_LIB_OBJS = $(patsubst client/src/%.cpp,$(CLIENT_BUILD)/lib/%.o,$(CLIENT_LIB_SRCS))
CLIENT_CLI_SRCS = $(sort $(wildcard client/cli/*.cpp))
CLIENT_CLI_OBJS = $(patsubst client/cli/%.cpp,$(CLIENT_BUILD)/cli/%.o,$(CLIENT_CLI_SRCS))
CLIENT_TEST_SRCS = $(sort $(wildcard test/client/*.cpp))
CLIENT_TEST_OBJS = $(patsubst test/client/%.cpp,$(CLIENT_BUILD)/test/%.o,$(CLIENT_TEST_SRCS))
CLIENT_A = $(CLIENT_BUILD)/libswitchboard.a
CLIENT_SO = $(CLIENT_BUILD)/libswitchboard.so.$(CLIENT_VERSION)
CLIENT_CLI = $(BUILD)/switchboard
CLIENT_TESTS = $(BUILD)/client_tests
CLIENT_BENCH = $(BUILD)/client_bench

$(CLIENT_BUILD)/lib/%.o: client/src/%.cpp $(CLIENT_HEADERS) Makefile
	@mkdir -p $(@D)
	$(CXX) $(CLIENT_CXXFLAGS) -c -o $@ $<
$(CLIENT_BUILD)/cli/%.o: client/cli/%.cpp $(CLIENT_HEADERS) $(wildcard client/cli/*.hpp) Makefile
	@mkdir -p $(@D)
	$(CXX) $(CLIENT_CXXFLAGS) -c -o $@ $<
$(CLIENT_BUILD)/test/%.o: test/client/%.cpp $(CLIENT_HEADERS) Makefile
	@mkdir -p $(@D)
	$(CXX) $(CLIENT_CXXFLAGS) -c -o $@ $<

$(CLIENT_A): $(CLIENT_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(CLIENT_SO): $(CLIENT_LIB_OBJS)
	$(CXX) -shared -Wl,-soname,libswitchboard.so.$(CLIENT_SOMAJOR) -o $@ $^ $(CLIENT_LIBS)
$(CLIENT_CLI): $(CLIENT_CLI_OBJS) $(CLIENT_A)
	$(CXX) -o $@ $(CLIENT_CLI_OBJS) $(CLIENT_A) $(CLIENT_LIBS)
$(CLIENT_TESTS): $(CLIENT_TEST_OBJS) $(CLIENT_A)
	$(CXX) -pthread -o $@ $(CLIENT_TEST_OBJS) $(CLIENT_A) $(CLIENT_LIBS)
$(CLIENT_BENCH): client/bench/client_bench.cpp $(CLIENT_A) $(CLIENT_HEADERS)
	$(CXX) $(CLIENT_CXXFLAGS) -o $@ $< $(CLIENT_A) $(CLIENT_LIBS)
$(CLIENT_BUILD)/switchboard.pc: client/switchboard.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(CLIENT_VERSION)|g' $< > $@

.PHONY: client install-client uninstall-client
client: $(CLIENT_A) $(CLIENT_SO) $(CLIENT_CLI) $(CLIENT_TESTS) $(CLIENT_BENCH) $(CLIENT_BUILD)/switchboard.pc

# Headers, both libraries, the CLI and switchboard.pc under PREFIX (a system
# location: take the install lock, as `make test` and `make demo` do).
install-client: client
	install -d $(DESTDIR)$(PREFIX)/include/switchboard $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(CLIENT_HEADERS) $(DESTDIR)$(PREFIX)/include/switchboard/
	install -m 644 $(CLIENT_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(CLIENT_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libswitchboard.so.$(CLIENT_VERSION) $(DESTDIR)$(PREFIX)/lib/libswitchboard.so.$(CLIENT_SOMAJOR)
	ln -sf libswitchboard.so.$(CLIENT_SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libswitchboard.so
	install -m 644 $(CLIENT_BUILD)/switchboard.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(CLIENT_CLI) $(DESTDIR)$(PREFIX)/bin/
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall-client:
	rm -f $(DESTDIR)$(PREFIX)/include/switchboard/client.hpp $(DESTDIR)$(PREFIX)/lib/libswitchboard.* \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/switchboard.pc $(DESTDIR)$(PREFIX)/bin/switchboard

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

.PHONY: test demo demo-stop bench
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all $(BUILD)/unit_tests client
	@$(LOCKED) sh -c '$(MAKE) --no-print-directory install install-client >/dev/null && bash test/run-tests.sh'

# The demo leaves its own cluster running (build/demo-cluster): the lock is
# held only while installing.
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all client
	@$(LOCKED) $(MAKE) --no-print-directory install install-client >/dev/null
	@bash client/demo/run-demo.sh

# Stops the cluster `make demo` left running.
demo-stop:
	@if [ -f $(BUILD)/demo-cluster/data/postmaster.pid ]; then \
		if [ "$$(id -u)" = 0 ]; then runuser -u postgres -- $$($(PG_CONFIG) --bindir)/pg_ctl -D $(BUILD)/demo-cluster/data -m fast stop; \
		else $$($(PG_CONFIG) --bindir)/pg_ctl -D $(BUILD)/demo-cluster/data -m fast stop; fi; \
	else echo "no demo cluster running"; fi

bench:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all client
	@$(LOCKED) sh -c '$(MAKE) --no-print-directory install install-client >/dev/null && bash bench/run-bench.sh'
