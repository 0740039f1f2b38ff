# The drainer (ProcessKit.Unix.EventLoop.HandOff): reads and discards the captured output of children that outlive the
# session's process, so their next write does not kill them with SIGPIPE. POSIX sh; run with a fixed PATH, in its
# own session. fds 0, 3, 4 = read ends of a child's stdout, stderr and records pipes (or /dev/null).
cat <&3 >/dev/null 2>&1 &
cat <&4 >/dev/null 2>&1 &
exec cat >/dev/null 2>&1
