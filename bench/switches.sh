#!/usr/bin/env bash
# Involuntary context switches per second of every thread of a `diffuse bench core` run, alone and beside one
# busy process: the counts the thread pool's contention rule separates (Sources/CLibraries/CKernels/threadpool.c,
# 12 per 100 ms; issue #30 item 4). Per thread from /proc/PID/task/*/status over DURATION seconds (the process-wide
# total is what getrusage(RUSAGE_SELF) sums). Run it on an otherwise quiet machine.
#   bash bench/switches.sh [DIFFUSE=.build/release/diffuse WORKLOAD=mlp_train_step THREADS=2 DURATION=4]
set -euo pipefail
DIFFUSE=${DIFFUSE:-.build/release/diffuse}
WORKLOAD=${WORKLOAD:-mlp_train_step}
THREADS=${THREADS:-2}
DURATION=${DURATION:-4}
measure() {  # measure LABEL → one line per thread and a total
  "$DIFFUSE" bench core --only "$WORKLOAD" --threads "$THREADS" --repeats 100000 --warmup 5 > /dev/null 2>&1 &
  local pid=$!
  sleep 1.5
  snap() { for t in /proc/$pid/task/*; do echo "${t##*/} $(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t/status") $(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")"; done; }
  local a b
  a=$(snap); sleep "$DURATION"; b=$(snap)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$1" "$DURATION" "$a" "$b" <<'PY'
import sys
label, secs = sys.argv[1], float(sys.argv[2])
parse = lambda s: {l.split()[0]: list(map(int, l.split()[1:])) for l in s.splitlines() if len(l.split()) == 3}
a, b = parse(sys.argv[3]), parse(sys.argv[4])
total = 0
for k in sorted(b, key=int):
    if k in a:
        inv, vol = ((b[k][i] - a[k][i]) / secs for i in range(2))
        total += inv
        print(f"{label}: thread {k}: involuntary {inv:.0f}/s, voluntary {vol:.0f}/s")
print(f"{label}: all threads: involuntary {total:.0f}/s ({total / 10:.1f} per 100 ms window)")
PY
}
measure alone
python3 -c "while True: pass" &
busy=$!
trap 'kill $busy 2>/dev/null || true' EXIT
measure "beside a busy process"
