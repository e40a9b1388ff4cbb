#!/usr/bin/env bash
# Install the Debian packages named in scripts/deps/*.txt that are missing.
# One package per line; '#' starts a comment. Needs root (or sudo) only when
# something is actually missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=$(sed -e 's/#.*//' "$here"/deps/*.txt | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "capsa: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
