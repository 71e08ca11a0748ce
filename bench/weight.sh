#!/bin/sh
# svy-weight against R survey (data.table::fread + svydesign + rake + fwrite)
# on the same CSV, raking to three margins (region; gender x age group; urban),
# in the same run: wall and CPU time and peak memory from /usr/bin/time -v,
# and every row's weight compared (relative difference).
# Usage: bench/weight.sh [BUILD_DIR]   (env: SIZES="1000000 10000000", RUNS=3, R_SIZES=$SIZES,
#        KIND="strata real": strata = 8 design weights (gen-weight ROWS), three margins;
#        real = nearly every row its own weight, rows in interview order, missing
#        values (gen-weight real ROWS), raked to province and gender x category;
#        TRIM_SIZES=$SIZES: also svy-weight on the real data with --trim 0.3x,3.5x)
# Needs: .ci/bootstrap bench (R survey, data.table, GNU time).
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
tool="$here/$build/tools/svy-weight"
[ -x "$tool" ] || { echo "bench/weight.sh: build first (no $tool)" >&2; exit 1; }
work=${TMPDIR:-/tmp}/svy-bench-weight
mkdir -p "$work"
cc -O2 -o "$work/gen-weight" "$here/bench/gen-weight.c" -lm
"$work/gen-weight" margins "$work"
mkdir -p "$work/real"
"$work/gen-weight" real-margins "$work/real"
SIZES=${SIZES:-"1000000 10000000"}
R_SIZES=${R_SIZES-$SIZES}
RUNS=${RUNS:-3}
KIND=${KIND:-"strata real"}
TRIM_SIZES=${TRIM_SIZES-$SIZES}

# "wall cpu MB" of one command, from GNU time -v
measure() {
  /usr/bin/time -v "$@" 2> "$work/time.txt" > /dev/null
  awk -F': ' '/Maximum resident/ {rss=$2/1024}
    /User time/ {u=$2} /System time/ {s=$2}
    /Elapsed \(wall/ {n=split($2,a,":"); e=0; for(i=1;i<=n;i++) e=e*60+a[i]}
    END {printf "%.2f %.2f %.1f\n", e, u+s, rss}' "$work/time.txt"
}

best() { # best CPU of RUNS
  b=""; for i in $(seq "$RUNS"); do r=$(measure "$@"); if [ -z "$b" ] || awk -v a="$(echo $r | cut -d' ' -f2)" -v c="$(echo $b | cut -d' ' -f2)" 'BEGIN{exit !(a<c)}'; then b=$r; fi; done; echo "$b"
}

run_kind() { # kind
  kind=$1
  if [ "$kind" = real ]; then
    margins="-m $work/real/province.csv -m $work/real/gender_category.csv"; mdir=$work/real; rarg=real; gen="real"
  else
    margins="-m $work/region.csv -m $work/gender_age.csv -m $work/urban.csv"; mdir=$work; rarg=""; gen=""
  fi
  echo
  echo "Data: $kind"
  echo
  # Two ways to write the output: '> FILE' as R's fwrite does (into the page
  # cache), and '-o FILE', which also waits for the disk (fsync before the
  # atomic rename); both are shown.
  echo "| rows | svy-weight > file: wall s | CPU s | MB | -o file: wall s | CPU s | R wall s | CPU s | MB | R/svy CPU | max rel diff |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for n in $SIZES; do
    f="$work/w-$kind-$n.csv"
    # shellcheck disable=SC2086
    [ -s "$f" ] || "$work/gen-weight" $gen "$n" > "$f"
    # shellcheck disable=SC2086
    s=$(best sh -c 'out=$1; shift; exec "$@" > "$out"' sh "$work/svy-$n.csv" "$tool" -q -w wt $margins "$f")
    # shellcheck disable=SC2086
    o=$(best "$tool" -q -w wt $margins -o "$work/svy-$n.csv" "$f")
    ow=$(echo "$o" | cut -d' ' -f1); oc=$(echo "$o" | cut -d' ' -f2)
    case " $R_SIZES " in
    *" $n "*)
      # shellcheck disable=SC2086
      r=$(measure Rscript "$here/bench/weight.R" "$f" "$mdir" "$work/r-$n.csv" $rarg)
      diff=$("$here/$build/tools/svy-import" -c id,weight_final "$work/svy-$n.csv" | paste -d, - "$work/r-$n.csv" |
        awk -F, 'NR > 1 { if ($1 != $3) { print "id mismatch"; exit 1 } d = ($2 - $4) / $4; if (d < 0) d = -d; if (d > m) m = d }
                 END { printf "%.1e", m }')
      ratio=$(awk -v a="$(echo $r | cut -d' ' -f2)" -v b="$(echo $s | cut -d' ' -f2)" 'BEGIN{printf "%.1f", a/b}')
      set -- $s $r
      echo "| $n | $1 | $2 | $3 | $ow | $oc | $4 | $5 | $6 | $ratio | $diff |";;
    *)
      set -- $s
      echo "| $n | $1 | $2 | $3 | $ow | $oc | (not run) | | | | |";;
    esac
  done
}

for k in $KIND; do run_kind "$k"; done

# Trimming reads the spooled starting weights again: its cost on real weights.
if [ -n "$TRIM_SIZES" ]; then
  echo
  echo "Real data, raked and trimmed (--trim 0.3x,3.5x, strict): svy-weight only"
  echo
  echo "| rows | wall s | CPU s | MB | trimming passes | rounds |"
  echo "|---:|---:|---:|---:|---:|---:|"
  for n in $TRIM_SIZES; do
    f="$work/w-real-$n.csv"
    [ -s "$f" ] || "$work/gen-weight" real "$n" > "$f"
    m="-m $work/real/province.csv -m $work/real/gender_category.csv"
    # shellcheck disable=SC2086
    t=$(best sh -c 'out=$1; shift; exec "$@" > "$out"' sh "$work/svy-$n.csv" "$tool" -q -w wt $m --trim 0.3x,3.5x "$f")
    # shellcheck disable=SC2086
    "$tool" -w wt $m --trim 0.3x,3.5x --report "$work/rep.csv" "$f" > /dev/null
    p=$(awk -F, '$1 == "trim_passes" {print $2}' "$work/rep.csv"); q=$(awk -F, '$1 == "trim_rounds" {print $2}' "$work/rep.csv")
    set -- $t
    echo "| $n | $1 | $2 | $3 | $p | $q |"
  done
fi
