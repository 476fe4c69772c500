#!/bin/sh
# layers.sh - the folder tree is the pipeline: every #include and every call
# between object files points down the layers (core, compiler, planner,
# p4gen/exec, runtime, htsc/htsd), and no files form a circle
# (scripts/layers.py says how; this fails on the first upward arrow).
set -u
BUILD=${BUILD:-build}
command -v nm >/dev/null || { echo "layers: nm (binutils) not found" >&2; exit 1; }
exec python3 scripts/layers.py --build "$BUILD"
