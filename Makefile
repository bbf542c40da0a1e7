# SPDX-License-Identifier: GPL-2.0-or-later
# espmasq: plain GNU make.  `make V=1` shows the commands.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
PKG_CONFIG ?= pkg-config
CC ?= cc
# gcc-ar: ar with the LTO plugin, for the static core library
GCC_AR ?= $(if $(shell command -v gcc-ar 2>/dev/null),gcc-ar,ar)
PYTHON ?= /usr/bin/python3

VERSION := 0.1

# Debian packages the build, the tests and the demo need.
DEPS_BUILD := build-essential pkg-config libnetfilter-queue-dev \
	libnfnetlink-dev libmnl-dev libevent-dev libcmocka-dev
DEPS_TEST := iptables iproute2 tcpdump tshark python3-scapy conntrack \
	ethtool kmod procps nftables iputils-ping strongswan-charon \
	strongswan-swanctl libcharon-extra-plugins strongswan-pki \
	libstrongswan-standard-plugins systemd man-db groff-base \
	python3-prometheus-client util-linux valgrind clang libclang-rt-14-dev \
	xl2tpd
DEPS := $(DEPS_BUILD) $(DEPS_TEST)

SANITIZE ?=
BUILD := build$(if $(SANITIZE),-san)

LIBS_PKG := libnetfilter_queue libnfnetlink libmnl libevent libevent_pthreads
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(LIBS_PKG) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(LIBS_PKG) 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
CPPFLAGS ?=
LDFLAGS ?=
# Link-time optimization: the packet path crosses files (translate.c calls
# session.c, alias.c, config.c); inlined across them an ESP packet costs
# about a quarter fewer instructions (bench-core).  `make LTO=` turns it off.
LTO ?= -flto=auto
ALL_CFLAGS := -std=c11 $(WARN) $(HARDEN) $(CFLAGS) $(LTO) -pthread
ALL_CPPFLAGS := -D_GNU_SOURCE -DESPMASQ_VERSION='"$(VERSION)"' -Iinclude \
	$(CPPFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now -pthread $(LTO) $(LDFLAGS)
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
E := @:
else
Q := @
E := @echo
endif

CORE := bigmem csum packet l2tp gateway session alias translate config log rules queue \
	worker reload state notify events filter prom metrics heartbeat privs \
	ctlreq control offload
CORE_OBJ := $(CORE:%=$(BUILD)/%.o)
UNIT := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT:%=$(BUILD)/tests/%)

.PHONY: all check unit integration demo install deps clean fuzz fuzz-smoke \
	fuzz-corpus
all: $(BUILD)/espmasqd $(BUILD)/espmasqctl

$(BUILD)/%.o: src/%.c
	@mkdir -p $(@D)
	$(E) "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libespmasq.a: $(CORE_OBJ)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && $(GCC_AR) rcs $@ $^

$(BUILD)/espmasqd: $(BUILD)/espmasqd.o $(BUILD)/libespmasq.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD)/espmasqctl: $(BUILD)/espmasqctl.o $(BUILD)/prom.o
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -o $@

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(E) "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libespmasq.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(PKG_LIBS) $(CMOCKA_LIBS) -o $@

# Installs the Debian packages that are missing (needs root and apt).
deps:
	@missing=""; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
			grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then \
			echo "make deps: run as root to install:$$missing" >&2; \
			exit 1; \
		fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing; \
	fi

unit: all $(UNIT_BIN) $(BUILD)/bench_core
	@fail=0; tests/check-hardening.sh $(BUILD)/espmasqd \
		$(BUILD)/espmasqctl || fail=1; \
	for t in $(UNIT_BIN); do \
		echo "== $$t"; \
		ESPMASQ_CONF_EXAMPLE=conf/espmasq.conf ./$$t || fail=1; \
	done; \
	echo "== bench-core smoke run (numbers only, never fails on timing)"; \
	./$(BUILD)/bench_core -s 100 -n 10000 || fail=1; \
	bench/bench-core.sh -b $(BUILD) --small 100 --large 1000 --rounds 1 \
		--packets 2000 || fail=1; \
	exit $$fail

# test_offload.sh: a kernel without the named GETSETELEM_RESET (LD_PRELOAD)
$(BUILD)/failnamed.so: tests/integration/failnamed.c
	@mkdir -p $(@D)
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(filter-out -fsanitize=%,$(ALL_CFLAGS)) \
		-fPIC -shared $< -o $@ -ldl

integration: all bench-tools $(BUILD)/failnamed.so
	@ESPMASQD=$(CURDIR)/$(BUILD)/espmasqd \
	 FAILNAMED_SO=$(CURDIR)/$(BUILD)/failnamed.so \
	 BENCH_GEN=$(CURDIR)/$(BUILD)/bench_gen \
	 BENCH_SINK=$(CURDIR)/$(BUILD)/bench_sink \
	 ESPMASQCTL=$(CURDIR)/$(BUILD)/espmasqctl PYTHON=$(PYTHON) \
	 tests/integration/run-all.sh

check: deps
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration

demo: deps
	@$(MAKE) --no-print-directory all
	@ESPMASQD=$(CURDIR)/$(BUILD)/espmasqd \
	 ESPMASQCTL=$(CURDIR)/$(BUILD)/espmasqctl PYTHON=$(PYTHON) \
	 contrib/espmasq-demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/espmasq \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(BUILD)/espmasqd $(BUILD)/espmasqctl \
		$(DESTDIR)$(SBINDIR)/
	install -m 0755 contrib/espmasq-rules $(DESTDIR)$(SBINDIR)/
	install -m 0644 conf/espmasq.conf \
		$(DESTDIR)$(SYSCONFDIR)/espmasq/espmasq.conf.example
	install -m 0644 contrib/man/espmasq.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 contrib/man/espmasqd.8 contrib/man/espmasqctl.8 \
		contrib/man/espmasq-rules.8 $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		contrib/systemd/espmasqd.service \
		>$(DESTDIR)$(UNITDIR)/espmasqd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/espmasqd.service
	install -m 0644 contrib/espmasqctl.bash-completion \
		$(DESTDIR)$(COMPLETIONDIR)/espmasqctl

clean:
	rm -rf build build-san build-fuzz

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d build-fuzz/*.d)

# In-core benchmark: parse + lookup + rewrite, no kernel.  Prints numbers,
# never fails on timing: time and callgrind instructions per packet for
# each kind, at 1k and 1M sessions.  `make bench-core BENCH_ARGS="--rounds 5"`.
BENCH_ARGS ?=
$(BUILD)/bench_core: bench/bench_core.c $(BUILD)/libespmasq.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

.PHONY: bench-core
bench-core: $(BUILD)/bench_core
	bench/bench-core.sh -b $(BUILD) $(BENCH_ARGS)

# Through-the-kernel benchmark (issue 6): bench/gen sends stamped frames,
# bench/sink measures one-way latency, bench/bench-kernel.sh compares
# plain forwarding, kernel SNAT and espmasqd in one run (root, several
# minutes).  It prints numbers and never fails on timing.
$(BUILD)/bench_gen: bench/gen.c bench/stamp.h
	@mkdir -p $(@D)
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

$(BUILD)/bench_sink: bench/sink.c bench/stamp.h
	@mkdir -p $(@D)
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

# What reading the offload counters costs, dump against entry by entry,
# by map size (bench/bench-offload.sh; root, nft, Linux 6.5).
$(BUILD)/bench_offload: bench/offload_read.c $(BUILD)/libespmasq.a
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

.PHONY: bench-offload
bench-offload: all $(BUILD)/bench_offload
	bench/bench-offload.sh -b $(BUILD) $(BENCH_OFFLOAD_ARGS)

BENCH_TOOLS := $(BUILD)/bench_gen $(BUILD)/bench_sink $(BUILD)/bench_offload
.PHONY: bench bench-tools
bench-tools: all $(BENCH_TOOLS)

bench: bench-tools
	@ESPMASQD=$(CURDIR)/$(BUILD)/espmasqd \
	 BENCH_GEN=$(CURDIR)/$(BUILD)/bench_gen \
	 BENCH_SINK=$(CURDIR)/$(BUILD)/bench_sink \
	 bench/bench-kernel.sh $(BENCH_ARGS)
	bench/bench-offload.sh -b $(BUILD) $(BENCH_OFFLOAD_ARGS)

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), built with clang, ASan and
# UBSan into build-fuzz/.  `make fuzz [FUZZ_TIME=seconds]` runs each one
# for FUZZ_TIME in turn, keeping what it finds in build-fuzz/corpus/ (the
# seeds in tests/fuzz/corpus/ stay as committed) and crashes in
# build-fuzz/artifacts/.  `make fuzz-smoke` replays every committed input
# and runs each harness for FUZZ_SMOKE_TIME; `make check` runs it.
FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -O1 -g
FUZZ_TIME ?= 600
FUZZ_SMOKE_TIME ?= 20
FUZZ_ARGS ?=
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_ALL_CFLAGS := -std=c11 $(WARN) $(FUZZ_CFLAGS) $(FUZZ_SAN)
FUZZ_CORE := bigmem csum packet l2tp gateway session alias translate config filter \
	ctlreq
FUZZ := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ:%=build-fuzz/%)

.PHONY: fuzz-cc
# Fails clearly when clang or its libFuzzer runtime is missing.
fuzz-cc:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "fuzz: $(FUZZ_CC)" \
		"not found; 'make deps' installs clang and" \
		"libclang-rt-14-dev" >&2; exit 1; }
	@mkdir -p build-fuzz
	@echo 'int LLVMFuzzerTestOneInput(void) { return 0; }' | \
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -x c - \
		-o build-fuzz/.cc-check 2>/dev/null || { echo "fuzz:" \
		"$(FUZZ_CC) cannot link -fsanitize=fuzzer,address,undefined;" \
		"'make deps' installs libclang-rt-14-dev" >&2; exit 1; }

build-fuzz/%.o: src/%.c | fuzz-cc
	$(E) "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_ALL_CFLAGS) \
		-fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

build-fuzz/libespmasq-fuzz.a: $(FUZZ_CORE:%=build-fuzz/%.o)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_csum.h tests/fuzz/fuzz_check.h \
		build-fuzz/libespmasq-fuzz.a | fuzz-cc
	$(E) "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(ALL_CPPFLAGS) -Itests/fuzz $(FUZZ_ALL_CFLAGS) \
		-fsanitize=fuzzer $< build-fuzz/libespmasq-fuzz.a -o $@

build-fuzz/mkcorpus: tests/fuzz/mkcorpus.c tests/fuzz/fuzz_csum.h
	@mkdir -p $(@D)
	$(E) "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

# Rewrites the seed-* files of tests/fuzz/corpus/ (crash-* stay).
fuzz-corpus: build-fuzz/mkcorpus
	./build-fuzz/mkcorpus tests/fuzz/corpus conf/espmasq.conf

# The options each harness runs with: its dictionary, if it has one.
fuzz_opts = $(if $(wildcard tests/fuzz/$(1).dict),\
	-dict=tests/fuzz/$(1).dict) -print_final_stats=1 \
	-artifact_prefix=build-fuzz/artifacts/$(1)- $(FUZZ_ARGS)

fuzz: $(FUZZ_BIN)
	@mkdir -p build-fuzz/artifacts
	@for f in $(FUZZ); do \
		mkdir -p build-fuzz/corpus/$$f; \
		echo "== $$f: $(FUZZ_TIME) s"; \
		./build-fuzz/$$f $(call fuzz_opts,$$f) \
			-max_total_time=$(FUZZ_TIME) \
			build-fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done

fuzz-smoke: $(FUZZ_BIN)
	@mkdir -p build-fuzz/artifacts
	@for f in $(FUZZ); do \
		echo "== $$f: replay tests/fuzz/corpus/$$f"; \
		./build-fuzz/$$f -runs=0 tests/fuzz/corpus/$$f \
			2>build-fuzz/$$f.replay.log || \
			{ cat build-fuzz/$$f.replay.log; exit 1; }; \
		grep -h "INITED\|DONE" build-fuzz/$$f.replay.log; \
		echo "== $$f: $(FUZZ_SMOKE_TIME) s"; \
		rm -rf build-fuzz/smoke/$$f; mkdir -p build-fuzz/smoke/$$f; \
		./build-fuzz/$$f $(call fuzz_opts,$$f) \
			-max_total_time=$(FUZZ_SMOKE_TIME) \
			build-fuzz/smoke/$$f tests/fuzz/corpus/$$f \
			2>build-fuzz/$$f.smoke.log || \
			{ cat build-fuzz/$$f.smoke.log; exit 1; }; \
		grep -h "^Done\|stat::number_of_executed_units" \
			build-fuzz/$$f.smoke.log; \
	done
