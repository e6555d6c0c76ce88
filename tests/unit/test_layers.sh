#!/usr/bin/env bash
# The library layers (README "How it fits together"), checked on the built files:
#   --exe FILE LIB...      FILE must not need (DT_NEEDED) any of the shared libraries LIB
#   --archive FILE LIB...  no undefined symbol of the static library FILE may be one that LIB
#                          defines: the library's own code does not call into LIB
# Each LIB is a path to a shared library (e.g. libpq.so); its SONAME is what --exe looks for.
# Prints one line per check and exits 1 when any fails.
set -u
fail=0

soname() {
    readelf -d "$1" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'
}

check_exe() {
    local file=$1 lib so needed
    shift
    needed=$(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') ||
        { echo "FAIL cannot read $file"; fail=1; return; }
    [ -n "$needed" ] || { echo "FAIL $file lists no NEEDED entries (not a dynamic executable?)"; fail=1; return; }
    for lib in "$@"; do
        so=$(soname "$lib")
        [ -n "$so" ] || { echo "FAIL no SONAME in $lib"; fail=1; continue; }
        if grep -qxF "$so" <<<"$needed"; then
            echo "FAIL $(basename "$file") needs $so"
            fail=1
        else
            echo "ok   $(basename "$file") does not need $so"
        fi
    done
}

check_archive() {
    local file=$1 lib so undefined defined hits
    shift
    undefined=$(nm -u "$file" | awk 'NF == 2 { print $2 }' | sort -u)
    [ -n "$undefined" ] || { echo "FAIL $file has no undefined symbols (not an archive?)"; fail=1; return; }
    for lib in "$@"; do
        so=$(soname "$lib")
        defined=$(nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sed 's/@.*//' | sort -u)
        [ -n "$defined" ] || { echo "FAIL $lib defines no symbols"; fail=1; continue; }
        hits=$(comm -12 <(printf '%s\n' "$undefined") <(printf '%s\n' "$defined"))
        if [ -n "$hits" ]; then
            echo "FAIL $(basename "$file") calls $so: $(head -n 5 <<<"$hits" | tr '\n' ' ')"
            fail=1
        else
            echo "ok   $(basename "$file") calls nothing of $so"
        fi
    done
}

mode=
args=()
run() {
    [ -n "$mode" ] || return 0
    if [ "$mode" = exe ]; then check_exe "${args[@]}"; else check_archive "${args[@]}"; fi
}
for a in "$@"; do
    case $a in
        --exe | --archive)
            run
            mode=${a#--}
            args=()
            ;;
        *) args+=("$a") ;;
    esac
done
run
[ "$fail" = 0 ] && echo "all layer checks passed"
exit "$fail"
