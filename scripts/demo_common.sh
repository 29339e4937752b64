# Shared by scripts/demo.sh and scripts/demo_locomotion.sh (sourced from the repository root): the binary,
# the output folder, common flags, and number helpers that need no python on a fresh machine.
D=.build/release/diffuse
OUT=${OUT:-out}
THREADS=${THREADS:-2}
mkdir -p "$OUT"
T=(--threads "$THREADS" --quiet)
C=Checkpoints
# get JSON KEY: a number from a flat one-line JSON object.
get() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.eE+-]*\).*/\1/p" <<< "$1" | head -1; }
num() { if [ -z "$1" ]; then printf –; else LC_ALL=C printf "%.${2:-3}f" "$1"; fi; }
safe() { grep -q '"safe":true' <<< "$1" && echo yes || echo no; }
