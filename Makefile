# Makefile - builds htsc (and later htsd), the tests and the fuzzers.
#
#   make              bin/htsc with strict warnings
#   make demo         set up, build, run a library query on a bundled capture
#   make check        set up, build, run every test (unit, golden, e2e, short fuzz)
#   make check-asan   the same tests with every binary built under ASan + UBSan
#   make fuzz         long fuzzing runs: 10 million executions per target (libFuzzer)
#
# Objects go to $(BUILD) (build/ or build/asan/); `make` also links bin/.
# Sources are found by wildcard: a new module is a new .c in its folder.

BUILD   ?= build
BIN     ?= bin
CC      ?= cc
SAN     ?=
OPT     ?= -O2
CFLAGS_WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wpointer-arith -Wformat=2 -Wvla -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(CFLAGS_WARN) -Werror $(CFLAGS) $(SAN) -Icore -Icompiler -Iplanner -Iexec -Ip4gen -Ihtsc -I$(BUILD)/gen -MMD -MP
LDLIBS  := -lpcap -lglpk -lm
LDFLAGS += $(SAN)

CORE_SRC := $(wildcard core/*.c)
# the layers, bottom up (scripts/layers.py checks that arrows only point down):
# core, compiler (text to IR), planner (IR to plan), the back ends p4gen and
# exec, then htsc's commands; runtime/ and htsd/ link on top of them
COMP_SRC := $(wildcard compiler/*.c) $(wildcard planner/*.c) $(wildcard exec/*.c) \
            $(wildcard p4gen/*.c) $(filter-out htsc/main.c htsc/emit_llvm.c,$(wildcard htsc/*.c))
GEN_SRC  := $(BUILD)/gen/lexer.c $(BUILD)/gen/parser.c
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
COMP_OBJ := $(COMP_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/lexer.o $(BUILD)/gen/parser.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all demo check check-asan fuzz deps clean tests
all: $(BIN)/htsc $(UNIT_BIN) $(TOOL_BIN)

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# generated code is compiled without -Werror's pickier flags it cannot help
$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -Wno-unused-function -Wno-missing-prototypes -Wno-sign-compare -Wno-unused-but-set-variable -c $< -o $@

$(BUILD)/gen/parser.c $(BUILD)/gen/parser.h &: compiler/parser.y
	@mkdir -p $(BUILD)/gen
	bison -Wall -Werror --defines=$(BUILD)/gen/parser.h -o $(BUILD)/gen/parser.c $<

$(BUILD)/gen/lexer.c $(BUILD)/gen/lexer.h &: compiler/lexer.l $(BUILD)/gen/parser.h
	@mkdir -p $(BUILD)/gen
	flex --header-file=$(BUILD)/gen/lexer.h -o $(BUILD)/gen/lexer.c $<

# every compiler object may include the generated headers
$(COMP_SRC:%.c=$(BUILD)/%.o): $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h

$(BUILD)/libhtscore.a: $(CORE_OBJ)
	ar rcs $@ $^
$(BUILD)/libhtsc.a: $(COMP_OBJ)
	ar rcs $@ $^

# (-MMD adds headers to a target's prerequisites: link only .c, .o and .a)
LINK_INPUTS = $(filter %.c %.o %.a,$^)

$(BIN)/htsc: $(BUILD)/htsc/main.o $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(LINK_INPUTS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(LINK_INPUTS) -lcmocka $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(LINK_INPUTS) $(LDLIBS)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

tests: all
	@BUILD=$(BUILD) BIN=$(BIN) tests/run.sh

check: deps
	@$(MAKE) --no-print-directory tests

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" tests

fuzz: deps
	@FUZZ_RUNS=$${FUZZ_RUNS:-10000000} tests/fuzz/run.sh

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- htsd: the DPDK runtime ----
DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS   := $(shell pkg-config --libs libdpdk 2>/dev/null)
RDK_CFLAGS  := $(shell pkg-config --cflags rdkafka 2>/dev/null)
RDK_LIBS    := $(shell pkg-config --libs rdkafka 2>/dev/null)
RT_SRC := $(filter-out runtime/jit%,$(wildcard runtime/*.c)) htsd/main.c
RT_OBJ := $(RT_SRC:%.c=$(BUILD)/%.o)
# DPDK's headers trip a few of our warnings; they stay on for our own code
$(RT_OBJ): $(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime $(DPDK_CFLAGS) $(RDK_CFLAGS) -c $< -o $@
$(BIN)/htsd: $(RT_OBJ) $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(LINK_INPUTS) $(DPDK_LIBS) $(RDK_LIBS) $(LDLIBS)
all: $(BIN)/htsd

# the Kafka sink's unit test and the e2e driver: runtime/kafka.o + librdkafka
$(BUILD)/tests/test_kafka: tests/unit/test_kafka.c $(BUILD)/runtime/kafka.o \
		$(BUILD)/runtime/sink.o $(BUILD)/runtime/sink_kafka.o $(BUILD)/runtime/sink_kafka_txn.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime $(RDK_CFLAGS) $(LDFLAGS) -o $@ $(LINK_INPUTS) -lcmocka $(RDK_LIBS) -pthread
$(BUILD)/tools/kafka_produce: tests/tools/kafka_produce.c $(BUILD)/runtime/kafka.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime $(RDK_CFLAGS) $(LDFLAGS) -o $@ $(LINK_INPUTS) $(RDK_LIBS)

# ---- benchmarks (not tests) ----
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: bench/%.c $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(LINK_INPUTS) $(LDLIBS)
# the receive floor (testpmd's rxonly loop): a DPDK program, nothing of ours
$(BUILD)/bench/rxfloor: bench/rxfloor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DPDK_CFLAGS) $(LDFLAGS) -o $@ $< $(DPDK_LIBS)

.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@scripts/bench.sh

# ---- JIT (LLVM 14 C API: Core, ORC LLJIT, PassBuilder): runtime/jit*.c ----
# The JIT's objects need no DPDK; htsd links them for --engine jit. Its test
# tool, IR dump tool and benchmark link them with LLVM (explicit rules: the
# generic tool and bench rules above do not).
LLVM_CONFIG ?= $(shell command -v llvm-config-14 || command -v llvm-config)
LLVM_LIBS   := $(shell $(LLVM_CONFIG) --ldflags --libs core orcjit native passes 2>/dev/null)
JIT_SRC := $(wildcard runtime/jit*.c)
JIT_OBJ := $(JIT_SRC:%.c=$(BUILD)/%.o)
$(JIT_OBJ): $(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime -c $< -o $@
$(BIN)/htsd: $(JIT_OBJ)
$(BIN)/htsd: LDLIBS += $(LLVM_LIBS)
# htsc compile --emit-llvm runs bin/htsc-llvm (htsc/emit_llvm.c), so that
# htsc itself does not load LLVM
$(BIN)/htsc-llvm: htsc/emit_llvm.c $(JIT_OBJ) $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(BIN)
	@mkdir -p $(BUILD)/htsc
	$(CC) $(ALL_CFLAGS) -MF $(BUILD)/htsc/emit_llvm.d -Iruntime $(LDFLAGS) -o $@ \
	  $(LINK_INPUTS) $(LLVM_LIBS) $(LDLIBS)
all: $(BIN)/htsc-llvm
JIT_TOOLS := $(BUILD)/tools/jit_check $(BUILD)/tools/jit_dump
$(JIT_TOOLS): $(BUILD)/tools/%: tests/tools/%.c $(JIT_OBJ) $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime $(LDFLAGS) -o $@ $(LINK_INPUTS) $(LLVM_LIBS) $(LDLIBS)
$(BUILD)/bench/bench_jit: bench/bench_jit.c $(JIT_OBJ) $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime $(LDFLAGS) -o $@ $(LINK_INPUTS) $(LLVM_LIBS) $(LDLIBS)
$(BUILD)/tests/test_jit: tests/unit/test_jit.c $(JIT_OBJ) $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime $(LDFLAGS) -o $@ $(LINK_INPUTS) -lcmocka $(LLVM_LIBS) $(LDLIBS)

# ---- htscp: the switch's control plane (BMv2 over Thrift) ----
# The Thrift client is generated from BMv2's IDL (cp/bmv2/) by thrift-compiler;
# the generated code gets the warnings it was written for, our code ours.
THRIFT_PKGS    := thrift_c_glib glib-2.0 gobject-2.0
THRIFT_CFLAGS  := $(shell pkg-config --cflags $(THRIFT_PKGS) 2>/dev/null)
THRIFT_LIBS    := $(shell pkg-config --libs $(THRIFT_PKGS) 2>/dev/null)
CP_GEN_SRC := $(BUILD)/cp/gen/standard.c $(BUILD)/cp/gen/standard_types.c \
              $(BUILD)/cp/gen/simple_switch.c $(BUILD)/cp/gen/simple_switch_types.c
CP_GEN_OBJ := $(CP_GEN_SRC:%.c=%.o)
CP_OBJ     := $(patsubst %.c,$(BUILD)/%.o,$(wildcard cp/*.c))
$(BUILD)/cp/gen/standard.c $(BUILD)/cp/gen/standard_types.c $(BUILD)/cp/gen/standard.h &: cp/bmv2/standard.thrift
	@mkdir -p $(BUILD)/cp/gen
	thrift --gen c_glib -out $(BUILD)/cp/gen $<
$(BUILD)/cp/gen/simple_switch.c $(BUILD)/cp/gen/simple_switch_types.c $(BUILD)/cp/gen/simple_switch.h &: cp/bmv2/simple_switch.thrift
	@mkdir -p $(BUILD)/cp/gen
	thrift --gen c_glib -out $(BUILD)/cp/gen $<
$(CP_GEN_OBJ): %.o: %.c $(BUILD)/cp/gen/standard.h $(BUILD)/cp/gen/simple_switch.h
	$(CC) -std=gnu11 $(CFLAGS) $(SAN) $(THRIFT_CFLAGS) -I$(BUILD)/cp/gen -w -c $< -o $@
$(CP_OBJ): $(BUILD)/cp/%.o: cp/%.c $(BUILD)/cp/gen/standard.h $(BUILD)/cp/gen/simple_switch.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icp -I$(BUILD)/cp/gen $(THRIFT_CFLAGS) -c $< -o $@
$(BIN)/htscp: $(CP_OBJ) $(CP_GEN_OBJ) $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(LINK_INPUTS) $(THRIFT_LIBS) $(LDLIBS)
all: $(BIN)/htscp

# ---- htsmerge: the merge stage of network-wide queries (librdkafka, no DPDK) ----
$(BUILD)/merge/main.o: merge/main.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iruntime $(RDK_CFLAGS) -c $< -o $@
$(BIN)/htsmerge: $(BUILD)/merge/main.o $(BUILD)/runtime/kafka.o $(BUILD)/libhtsc.a $(BUILD)/libhtscore.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(LINK_INPUTS) $(RDK_LIBS) $(LDLIBS)
all: $(BIN)/htsmerge
