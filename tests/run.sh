#!/usr/bin/env bash
# Runs every test program under build/asan/tests (cmocka, TAP output) and
# ends with the line "N passed, N failed, N skipped".
#   CAPSA_TESTS_FAST=1  leave out tests named test_slow_*
#   CAPSA_TESTS=PATTERN only programs whose path matches the shell pattern
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CAPSA_ROOT=$root
export CAPSA_BIN=${CAPSA_BIN:-$root/build/asan/capsa}
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0 fail=0 skip=0
failed_progs=()
logdir=build/test-logs
mkdir -p "$logdir"
for prog in $(find build/asan/tests -type f -name 'test_*' -perm -u+x | sort); do
	name=${prog#build/asan/tests/}
	case "$name" in */test_slow_*) [ -n "${CAPSA_TESTS_FAST:-}" ] && continue ;; esac
	[ -n "${CAPSA_TESTS:-}" ] && case "$name" in $CAPSA_TESTS) ;; *) continue ;; esac
	# A private file, renamed when done: concurrent runs never share a log.
	log=$(mktemp "$logdir/.run.XXXXXX")
	start=$(date +%s.%N)
	timeout --kill-after=10 "${CAPSA_TEST_TIMEOUT:-1500}" "$prog" >"$log" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
	p=$(grep -acE '^ok [0-9]+' "$log")
	s=$(grep -acE '^not ok [0-9]+ # SKIP' "$log")
	f=$(grep -aE '^not ok [0-9]+' "$log" | grep -avcE '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed, timed out or failed outside any test case
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-44s %4d passed %3d failed %3d skipped  %6ss\n' "$name" "$p" "$f" "$s" "$secs"
	# Lines a test prints with "# " are its measurements and skip reasons.
	grep -aE '^# (SKIP|measured|note)' "$log" | sed 's/^/    /'
	if [ "$f" -ne 0 ]; then
		failed_progs+=("$name")
		sed 's/^/    | /' "$log" | tail -n 60
	fi
	mv -f "$log" "$logdir/${name//\//_}.log"
done
[ ${#failed_progs[@]} -eq 0 ] || echo "failed programs: ${failed_progs[*]} (logs in $logdir)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
