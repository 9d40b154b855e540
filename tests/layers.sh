#!/usr/bin/env bash
# The include-direction check of ARCHITECTURE.md rule 1 ("dependencies point one way").
#
# Floors, from the ground up (a room uses only rooms on lower floors, or itself):
#   1 base | 2 domain store peers http | 3 ledger trust | 4 service | 5 api jobs | 6 main
# Rooms on the same floor may not include each other. Stricter still: domain/ and http/ may
# include only base/ (pure rules; a generic server), whatever their floor would allow. sim/
# (hpf-sim, outside src/) is checked too: it may include base/ and http/ only.
#
# For every src/<room>/**/*.{c,h}, every `#include "X/..."` must name an allowed room X. An
# include that climbs out with "../", or names a directory that is no room on the plan, is a
# violation too (it would slip past this check). Includes without a directory ("buf.h", from
# the same room) and system includes (<...>) are fine. A src/ directory that is not on the plan
# is a violation: put it on a floor here and in docs/ARCHITECTURE.md first.
#
# Counting: one test per file checked; a file with any violation is one failed test.
# Output: each violation as "file:line: message", then one line
#   layers: N files checked, 0 violations        (or: ..., V violations in F files)
# Exit 0 when V is 0, 1 otherwise (2 when there is nothing to check).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A FLOOR=([base]=1 [domain]=2 [store]=2 [peers]=2 [http]=2 [ledger]=3 [trust]=3 [service]=4
                  [api]=5 [jobs]=5 [main]=6 [sim]=6)
# sim/ (hpf-sim, the peers on loopback) is no business floor: it may use the generic server only.
declare -A ONLY=([domain]="base" [http]="base" [sim]="base http")

files=0
violations=0
bad_files=0

report() { # file line message
  printf '%s:%s: %s\n' "$1" "$2" "$3"
  violations=$((violations + 1))
  file_bad=1
}

for dir in src/*/ sim/; do
  [ -d "$dir" ] || continue
  room=$(basename "$dir")
  if [ -z "${FLOOR[$room]:-}" ]; then
    printf '%s: room "%s" is not on the floor plan (tests/layers.sh, docs/ARCHITECTURE.md)\n' "src/$room" "$room"
    violations=$((violations + 1))
    bad_files=$((bad_files + 1))
    files=$((files + 1))
    continue
  fi
  while IFS= read -r -d '' f; do
    files=$((files + 1))
    file_bad=0
    # "line<TAB>target" for each quoted include (tolerates "# include" and leading blanks)
    while IFS=$'\t' read -r line target; do
      [ -n "$target" ] || continue
      case "$target" in
        ../*|*/../*)
          report "$f" "$line" "#include \"$target\" climbs out with ../ (name the room instead)"
          continue ;;
        */*) ;;
        *) continue ;; # same-room include without a directory
      esac
      to=${target%%/*}
      if [ "$to" = "$room" ]; then
        continue
      fi
      if [ -z "${FLOOR[$to]:-}" ]; then
        report "$f" "$line" "#include \"$target\": \"$to\" is not a room on the floor plan"
        continue
      fi
      if [ -n "${ONLY[$room]:-}" ]; then
        ok=0
        for r in ${ONLY[$room]}; do [ "$r" = "$to" ] && ok=1; done
        if [ $ok -eq 0 ]; then
          report "$f" "$line" "#include \"$target\": $room/ may include only ${ONLY[$room]}/"
        fi
        continue
      fi
      if [ "${FLOOR[$to]}" -ge "${FLOOR[$room]}" ]; then
        if [ "${FLOOR[$to]}" -eq "${FLOOR[$room]}" ]; then
          report "$f" "$line" "#include \"$target\": $room/ and $to/ share floor ${FLOOR[$room]}; rooms on one floor may not include each other"
        else
          report "$f" "$line" "#include \"$target\": $room/ (floor ${FLOOR[$room]}) may not include $to/ (floor ${FLOOR[$to]}), which is above it"
        fi
      fi
    done < <(awk '
      /^[ \t]*#[ \t]*include[ \t]*"/ {
        s = $0; sub(/^[^"]*"/, "", s); sub(/".*$/, "", s); printf "%d\t%s\n", FNR, s
      }' "$f")
    [ $file_bad -eq 1 ] && bad_files=$((bad_files + 1))
  done < <(find "$dir" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
done

if [ "$violations" -eq 0 ]; then
  printf 'layers: %d files checked, 0 violations\n' "$files"
else
  printf 'layers: %d files checked, %d violations in %d files\n' "$files" "$violations" "$bad_files"
fi
if [ "$files" -eq 0 ]; then
  echo 'layers: no source files under src/' >&2
  exit 2
fi
[ "$violations" -eq 0 ]
