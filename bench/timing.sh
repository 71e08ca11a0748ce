# Sourced by bench/tab.sh and bench/model.sh (needs $work and $RUNS).
# measure CMD...: "wall-seconds peak-MB cpu-seconds" of one run, from GNU
# time -v (stdout discarded); best CMD...: the run of RUNS with the least
# wall time; f1/f2/f3: a field of such a line.
measure() {
  /usr/bin/time -v "$@" 2> "$work/time.txt" > /dev/null
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.1f", $2/1024}' "$work/time.txt")
  el=$(awk -F': ' '/Elapsed \(wall/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.2f", s}' "$work/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.2f", s}' "$work/time.txt")
  echo "$el $rss $cpu"
}
best() {
  b=""; for i in $(seq "$RUNS"); do r=$(measure "$@"); if [ -z "$b" ] || awk -v a="${r%% *}" -v c="${b%% *}" 'BEGIN{exit !(a<c)}'; then b=$r; fi; done; echo "$b"
}
f1() { echo "$1" | cut -d' ' -f1; }
f2() { echo "$1" | cut -d' ' -f2; }
f3() { echo "$1" | cut -d' ' -f3; }
