# Argument checks shared by ops/bench/*.sh and tests/chaos/run.sh. Sourced before lib.sh and
# before anything runs: it needs no instance, no settings and no package beyond bash, so
# `ops/sw bench … --help` and a refused argument cost nothing (ops/sw calls each script with
# BENCH_ARGS_ONLY=1 first, before it installs, builds or starts anything).

# usage_die MESSAGE: a refused argument; exit 2 (a usage error) with a pointer to --help.
usage_die() {
    printf '%s: error: %s\n' "${BENCH_PROG:-bench}" "$1" >&2
    printf "  (see '%s --help')\n" "${BENCH_PROG:-bench}" >&2
    exit 2
}

# check_int WHAT VALUE MIN MAX: VALUE is a whole number in [MIN, MAX], else usage_die.
check_int() {
    [[ $2 =~ ^[0-9]+$ ]] || usage_die "$1 must be a whole number, not '$2'"
    ((10#$2 >= $3 && 10#$2 <= $4)) || usage_die "$1 must be between $3 and $4, not $2"
}

# check_num WHAT VALUE MAX: VALUE is a positive decimal number (e.g. 0.5) up to MAX.
check_num() {
    [[ $2 =~ ^[0-9]+([.][0-9]+)?$ ]] || usage_die "$1 must be a number, not '$2'"
    awk -v v="$2" -v m="$3" 'BEGIN { exit !(v > 0 && v <= m) }' ||
        usage_die "$1 must be above 0 and at most $3, not $2"
}

# need_value OPTION "$@": the option is followed by a value.
need_value() { (($# >= 2)) || usage_die "$1 needs a value"; }

# wants_help "$@": true when --help or -h is among the arguments.
wants_help() {
    local a
    for a in "$@"; do case $a in -h | --help) return 0 ;; esac; done
    return 1
}
