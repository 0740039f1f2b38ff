# ProcessKit remote side (docs/remote.md). Runs under `sh -c` on the remote host as the command of one ssh
# connection; $1 is a per-child nonce that marks its status lines on stderr. Needs a POSIX sh; perl (in every Debian)
# gives exact wait statuses, setsid its own group without perl.
# stdin: a byte count and that many bytes of shell setup (variables, exports, `set -- argv`), a byte count and that
# many bytes of input for the command; then control lines TERM / KILL. EOF on stdin is the lifeline.
pk_mark="$(printf '\036')PKR$1"
pk_kill() { kill "-$1" "-$pk_pg" 2>/dev/null || kill "-$1" "$pk_pg" 2>/dev/null; }
pk_say() { printf '%s %s\n' "$pk_mark" "$*" >&2; }
IFS= read -r pk_len || exit 0
pk_setup=$(head -c "$pk_len")
pk_grace=; pk_dir=
eval "$pk_setup"
IFS= read -r pk_inlen || exit 0
pk_in=
if [ "$pk_inlen" -gt 0 ]; then
    pk_in=$(mktemp) || { pk_say fail "cannot create a temporary file for the input"; exit 126; }
    head -c "$pk_inlen" > "$pk_in"
fi
if [ -n "$pk_dir" ]; then
    cd "$pk_dir" 2>/dev/null || { rm -f "$pk_in"; pk_say fail "cannot change to directory $pk_dir"; exit 126; }
fi
if ! command -v "$1" >/dev/null 2>&1; then
    rm -f "$pk_in"; pk_say fail "$1: command not found on $(uname -n)"; exit 127
fi
if [ -n "$pk_in" ]; then exec 4<"$pk_in"; rm -f "$pk_in"; else exec 4</dev/null; fi
pk_st=$(mktemp) || { pk_say fail "cannot create a temporary file for the status"; exit 126; }
exec 5<&0 6>&2
# Runs the command as the leader of its own session and group (execs, so its pid is the group's id). With perl, a
# runner leads the group: it ignores the stop signals itself (its command does not) to write the exact status.
pk_run() {
    if command -v perl >/dev/null 2>&1; then
        exec perl -e 'use POSIX (); my $st = shift; POSIX::setsid(); $SIG{$_} = "IGNORE" for qw(TERM INT HUP QUIT);
            my $p = fork; exit 126 unless defined $p;
            if ($p == 0) { $SIG{$_} = "DEFAULT" for qw(TERM INT HUP QUIT PIPE); exec { $ARGV[0] } @ARGV; print STDERR "$ARGV[0]: $!\n"; POSIX::_exit(127); }
            waitpid($p, 0); my $s = $?; open(my $f, ">", $st) or exit 126;
            print $f (($s & 127) ? -($s & 127) : ($s >> 8)), "\n"; close $f; exit 0' "$pk_st" "$@"
    elif command -v setsid >/dev/null 2>&1; then
        exec setsid "$@"
    fi
    exec "$@"
}
pk_pgf="$pk_st.pg"
: > "$pk_pgf"
if [ -n "$pk_pass" ]; then
    # A pool worker reads the connection itself: a relay copies it to the command's stdin and, at its EOF, ends the
    # group as the lifeline does (the worker, told nothing, exits by itself at EOF first when idle).
    { cat <&5 5<&- 6>&-; exec >/dev/null
      while [ -e "$pk_pgf" ] && [ ! -s "$pk_pgf" ]; do sleep 1; done
      IFS= read -r pk_pg < "$pk_pgf" || exit 0
      pk_kill TERM; sleep "${pk_grace:-1}"; pk_kill KILL; } 2>/dev/null | pk_run "$@" 4<&- 5<&- 6>&- &
else
    pk_run "$@" <&4 4<&- 5<&- 6>&- &
fi
pk_pg=$!
echo "$pk_pg" > "$pk_pgf"
exec 4<&-
pk_say started "$pk_pg"
pk_ctl=
if [ -z "$pk_pass" ]; then (
    while IFS= read -r pk_c; do
        case $pk_c in TERM) pk_kill TERM ;; KILL) pk_kill KILL ;; esac
    done
    # EOF: the session (or the connection) is gone. A daemon's group ends: SIGTERM, grace, SIGKILL. A non-daemon
    # outlives its session, as a local one does, but not its connection: a heartbeat on stderr (swallowed by the
    # session) fails once ssh is gone, and then it ends the same way.
    if [ -z "$pk_grace" ]; then
        trap '' PIPE
        while sleep 1 6>&-; do pk_say alive 2>&6 || break; done
        pk_grace=1
    fi
    ( pk_kill TERM; sleep "$pk_grace"; pk_kill KILL ) </dev/null >/dev/null 2>&1 6>&- &
) <&5 >/dev/null 2>&1 &
    pk_ctl=$!
fi
exec 5<&- 6>&-
wait "$pk_pg" 2>/dev/null
pk_ws=$?
rm -f "$pk_pgf"
pk_code=$(cat "$pk_st" 2>/dev/null)
rm -f "$pk_st"
if [ -z "$pk_code" ]; then
    pk_code=$pk_ws
    # Only a signal to the whole group (SIGKILL) ends the perl runner itself; without perl, 128+N stays as sh says it.
    if [ "$pk_ws" -gt 128 ] && command -v perl >/dev/null 2>&1; then pk_code=$((128 - pk_ws)); fi
fi
pk_say exit "$pk_code"
# What the command left in its group still answers TERM/KILL; the connection stays until it is gone.
while kill -0 "-$pk_pg" 2>/dev/null; do sleep 1; done
[ -n "$pk_ctl" ] && kill "$pk_ctl" 2>/dev/null
if [ "$pk_code" -ge 0 ] 2>/dev/null && [ "$pk_code" -le 255 ]; then exit "$pk_code"; fi
exit 0
