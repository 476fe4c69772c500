# p4tools.sh - finds the public P4 tools (sourced by the tests and scripts).
#
#   . scripts/p4tools.sh; p4tools_find p4test p4c-bm2-ss || exit $?
#
# Each tool is looked up on PATH first (a user's own p4c and BMv2), then in
# $HTS_P4TOOLS/bin (CI sets it to ../shared/p4tools: the prebuilt p4c and
# BMv2, see docs/targets.md). p4tools_find sets P4T_<NAME> (dashes as
# underscores: P4T_p4c_bm2_ss) to the command, and P4T_INCLUDE to the folder
# of p4include/ (the TNA includes live under p4include/tofino-arch). When a
# tool is missing it says which and where it looked, and returns
#   1  when HTS_P4TOOLS_REQUIRED=1 (CI: a missing tool is a failure),
#   77 otherwise (tests/run.sh reports the suite NOT RUN, loudly).

p4tools_find() {
    _p4t_missing=""
    for _t in "$@"; do
        _v=$(printf '%s' "$_t" | tr -- '-' '_')
        _p=""
        if [ -n "${HTS_P4TOOLS:-}" ] && [ -x "$HTS_P4TOOLS/bin/$_t" ]; then
            _p="$HTS_P4TOOLS/bin/$_t"
        fi
        if command -v "$_t" >/dev/null 2>&1; then
            _p=$(command -v "$_t")
        fi
        if [ -z "$_p" ]; then
            _p4t_missing="$_p4t_missing $_t"
        else
            eval "P4T_$_v=\$_p"
        fi
    done
    P4T_INCLUDE=""
    for _d in "${HTS_P4TOOLS:-}/p4include" /usr/local/share/p4c/p4include /usr/share/p4c/p4include; do
        if [ -f "$_d/v1model.p4" ]; then P4T_INCLUDE=$_d; break; fi
    done
    if [ -n "$_p4t_missing" ]; then
        echo "p4tools:$_p4t_missing not found on PATH nor in \$HTS_P4TOOLS/bin" \
             "(HTS_P4TOOLS=${HTS_P4TOOLS:-unset}); see docs/targets.md" >&2
        [ "${HTS_P4TOOLS_REQUIRED:-0}" = 1 ] && return 1
        return 77
    fi
    return 0
}
