#!/bin/bash
# Interleaved CPU timing: each command once per round, N rounds; prints the least and the
# median task-clock (ms) of each.  On a shared or virtual machine the least is the figure.
# Usage: bench/inter.sh N LABEL CMD ARGS... [-- LABEL CMD ARGS...]...  (needs perf)
N=$1; shift
labels=(); cmds=(); cur=""; lab=""
for a in "$@"; do
  if [ "$a" = "--" ]; then labels+=("$lab"); cmds+=("$cur"); cur=""; lab=""; continue; fi
  if [ -z "$lab" ]; then lab=$a; else cur="$cur $a"; fi
done
labels+=("$lab"); cmds+=("$cur")
declare -A res
for _ in $(seq "$N"); do
  for k in "${!cmds[@]}"; do
    # shellcheck disable=SC2086 # each command is split into its words on purpose
    v=$(perf stat -x, -e task-clock ${cmds[$k]} 2>&1 >/dev/null | grep task-clock | cut -d, -f1)
    res[$k]="${res[$k]} $v"
  done
done
for k in "${!cmds[@]}"; do
  echo "${labels[$k]}: $(tr ' ' '\n' <<<"${res[$k]}" | grep . | sort -n | awk '{a[NR]=$1} END{printf "min %.1f median %.1f (n=%d)", a[1], a[int((NR+1)/2)], NR}')"
done
