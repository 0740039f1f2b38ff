# The lifeline guardian of one daemon (ProcessKit.Unix.Lifeline). POSIX sh; run with a fixed PATH.
# $1 = the daemon's process group, $2 = its grace period in tenths of a second.
# fd 0 = the lifeline: a pipe whose write end only the session's process holds.
# fds 3/4/5 = read ends of the daemon's captured stdout/stderr/records (or /dev/null).
# Lines on fd 0: "del" (the daemon is about to be reaped: leave quietly), "log PATH" / "log" (where to write a
# record when acting). EOF on fd 0: the session's process is gone, however it died.
# Environment: PK_LOG_FILE (initial log file), PK_LOG_PREFIX ("[INFO/MainProcess]"), PK_SESSION_PID, PK_DAEMON_NAME.
trap '' INT HUP QUIT PIPE TERM
pg=$1; grace=$2; logfile=$PK_LOG_FILE
# True while the group has a member that is not a zombie (kill -0 also counts zombies, which init may be slow to reap).
alive() {
  kill -0 -"$pg" 2>/dev/null || return 1
  [ -r /proc/self/stat ] || return 0
  for f in /proc/[0-9]*/stat; do
    read -r line < "$f" 2>/dev/null || continue
    set -- ${line##*) }
    [ "$1" != Z ] && [ "$3" = "$pg" ] && return 0
  done
  return 1
}
say() { [ -n "$logfile" ] && echo "$PK_LOG_PREFIX $*" >> "$logfile"; }
while read -r cmd arg; do
  case $cmd in
    del) exit 0 ;;
    log) logfile=$arg ;;
  esac
done
# Nobody else reads the daemon's output now: drain it, so a daemon that prints while it shuts down is not killed by SIGPIPE.
cat <&3 >/dev/null 2>&1 &
cat <&4 >/dev/null 2>&1 &
cat <&5 >/dev/null 2>&1 &
exec 3<&- 4<&- 5<&-
say "session process $PK_SESSION_PID is gone; sending SIGTERM to daemon process group $pg ($PK_DAEMON_NAME)"
kill -TERM -"$pg" 2>/dev/null
t=0
while alive; do
  if [ "$t" -ge "$grace" ]; then
    say "grace period expired; sending SIGKILL to what remains of daemon process group $pg ($PK_DAEMON_NAME)"
    kill -KILL -"$pg" 2>/dev/null
    break
  fi
  sleep 0.1
  t=$((t+1))
done
exit 0
