#!/usr/bin/env bash
# Puts the licence identifier line
#   /* SPDX-License-Identifier: Apache-2.0 */
# at the top of every C and assembler source (.c, .h, .S) under src, include,
# tests, fuzz, guest and bench that has no SPDX line yet. A file that already
# names a licence in its first two lines (any SPDX identifier) is left alone.
#
#   scripts/spdx.sh           add the line where it is missing
#   scripts/spdx.sh --check   change nothing; list the files without it and
#                             exit 1 if there are any (0 otherwise)
set -euo pipefail

line='/* SPDX-License-Identifier: Apache-2.0 */'
dirs=(src include tests fuzz guest bench)

check=0
case "${1:-}" in
--check) check=1 ;;
"") ;;
-h | --help)
	sed -n '2,10s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	echo "spdx.sh: unknown argument '$1' (expected --check or nothing)" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."
existing=()
for d in "${dirs[@]}"; do
	[ -d "$d" ] && existing+=("$d")
done
[ ${#existing[@]} -gt 0 ] || exit 0

missing=0
while IFS= read -r -d '' f; do
	if head -n 2 -- "$f" | grep -q 'SPDX-License-Identifier:'; then
		continue
	fi
	missing=$((missing + 1))
	if [ "$check" = 1 ]; then
		echo "$f"
		continue
	fi
	tmp=$(mktemp)
	{ printf '%s\n' "$line"; cat -- "$f"; } >"$tmp"
	# Rewrite in place (not mv) so the file keeps its mode and any hard links.
	cat -- "$tmp" >"$f"
	rm -f -- "$tmp"
done < <(find "${existing[@]}" -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' \) -print0 | sort -z)

if [ "$check" = 1 ] && [ "$missing" -gt 0 ]; then
	echo "spdx.sh: $missing file(s) without an SPDX-License-Identifier line (run scripts/spdx.sh)" >&2
	exit 1
fi
[ "$check" = 1 ] || [ "$missing" -eq 0 ] || echo "spdx.sh: added the line to $missing file(s)" >&2
exit 0
