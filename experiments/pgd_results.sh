#!/usr/bin/env bash
# Regenerates docs/pgd-results.md from the committed PGD rows (no training): the MuJoCo run first, then the small
# tasks'. Each rows file's command is read back from the page's "Command:" lines, so edit them there when a run
# changes. WORK: the robots' work folder (experiments/pgd.sh's WORK), for the figure of real vs synthetic states;
# without it the page is written without that figure.
#   [WORK=/path/to/pgd/work] bash experiments/pgd_results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
R=experiments/results
command_of() { sed -n "s|^Command: \`\(.*\)\` (raw rows: \`$1\`).*|\1|p" docs/pgd-results.md; }
c1=$(command_of $R/pgd-locomotion.jsonl); c2=$(command_of $R/pgd-window-mlp.jsonl)
[ -n "$c1" ] && [ -n "$c2" ] || { echo "pgd_results.sh: docs/pgd-results.md lacks a Command: line for a rows file" >&2; exit 1; }
python3 experiments/pgd_table.py $R/pgd-locomotion.jsonl $R/pgd-window-mlp.jsonl docs/pgd-results.md ${WORK:+--work "$WORK"} \
  --command "$c1" --command "$c2"
