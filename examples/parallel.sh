#!/bin/bash
# A compare sweep split into 3 shards run 2 at a time on this machine with GNU parallel, then merged.
# Arguments go to compare, e.g. `bash examples/parallel.sh --seeds 30`; SWEEP_DIR moves the folders.
set -euo pipefail
sweep="${SWEEP_DIR:-runs/sweep}"
parallel --halt now,fail=1 -j 2 deno task compare --device cpu --shard {}/3 --resume --out-dir "$sweep/shard-{}" "$@" ::: 0 1 2
deno task merge "$sweep/merged" "$sweep"/shard-*
