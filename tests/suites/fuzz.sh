#!/bin/sh
# fuzz.sh - the short, bounded fuzzing run of `make check` (libFuzzer, clang).
exec env FUZZ_SECONDS="${FUZZ_SECONDS:-15}" tests/fuzz/run.sh
