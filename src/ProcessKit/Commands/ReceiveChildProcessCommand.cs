using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace ProcessKit.Commands
{
    /// <summary>What a child produced so far (consumed unless -Keep): objects and stream records from a scriptblock
    /// child, text lines from a program; stderr as error records. -Wait streams: it writes output as it arrives, for
    /// every selected child at once, until all of them have exited and their pipes reached end of file.</summary>
    [Cmdlet(VerbsCommunications.Receive, "ChildProcess", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(object))]
    public sealed class ReceiveChildProcessCommand : CancellableChildCommand
    {
        /// <summary>After exit, how long -Wait gives the pipes to reach end of file: a grandchild that inherited
        /// them may keep them open for ever, and must not hang the receive.</summary>
        private static readonly TimeSpan PipeDrainAfterExit = TimeSpan.FromMilliseconds(500);

        /// <summary>While streaming, a line without a newline (a prompt) is handed over once the stream has been quiet
        /// this long, so a line arriving in two reads is not split in two, and a prompt still shows.</summary>
        private static readonly TimeSpan PartialLineQuiet = TimeSpan.FromMilliseconds(200);

        /// <summary>Id of the error written when a scriptblock child's objects could not be kept (spill file unwritable).</summary>
        internal const string OutputLost = "ChildProcessOutputLost";

        private readonly List<ChildProcess> _waitFor = new List<ChildProcess>();

        [Parameter]
        public SwitchParameter Keep { get; set; }

        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>Stderr lines as plain strings (after the stdout lines) instead of error records.</summary>
        [Parameter]
        public SwitchParameter StandardErrorAsText { get; set; }

        /// <summary>Several children are received (more than one selected or piped in, or a wildcard that could match
        /// several): each stderr error record then says which child wrote it. One child's records stay as they are.</summary>
        private bool _nameChildren;

        private readonly HashSet<ChildProcess> _received = new HashSet<ChildProcess>();

        protected override void ProcessRecord()
        {
            var selected = SelectChildren();
            _received.UnionWith(selected);
            _nameChildren |= _received.Count > 1 ||
                (ParameterSetName == SelectorSet && Name.Any(WildcardPattern.ContainsWildcardCharacters));
            foreach (var child in selected)
            {
                if (child.Removed)
                {
                    WriteError(ErrorHelper.WasRemoved(child));
                    continue;
                }
                if (Wait)
                {
                    // Children from every pipeline record are gathered and streamed together in EndProcessing (WriteObject
                    // must run on this thread), so several children's output arrives side by side.
                    if (!_waitFor.Contains(child))
                    {
                        _waitFor.Add(child);
                    }
                    continue;
                }
                if (Keep)
                {
                    EmitKept(child);
                }
                else
                {
                    EmitAvailable(child);
                }
            }
        }

        protected override void EndProcessing()
        {
            if (_waitFor.Count == 0)
            {
                return;
            }
            if (Keep)
            {
                // Nothing is consumed, so there is nothing to stream past: wait for all, then write what they kept.
                if (!WaitForAll())
                {
                    return; // Ctrl+C
                }
                foreach (var child in _waitFor)
                {
                    EmitKept(child);
                }
                return;
            }
            Stream();
        }


        /// <summary>A consuming read of everything there is now, the line still being written included.</summary>
        private void EmitAvailable(ChildProcess child)
        {
            var losses = new Losses();
            Drain(child, child.Records, StreamKind.Records, includePartial: false, losses);
            Drain(child, child.StandardOutput, StreamKind.Out, includePartial: true, losses);
            Drain(child, child.StandardError, StreamKind.Err, includePartial: true, losses);
            Report(child, losses);
        }

        private void EmitKept(ChildProcess child)
        {
            foreach (var chunk in child.Records.ReadKept())
            {
                Write(child, StreamKind.Records, chunk);
            }
            foreach (var chunk in child.StandardOutput.ReadKept())
            {
                Write(child, StreamKind.Out, chunk);
            }
            foreach (var chunk in child.StandardError.ReadKept())
            {
                Write(child, StreamKind.Err, chunk);
            }
            Report(child, new Losses
            {
                DroppedOut = child.StandardOutput.UnreportedDroppedLines,
                DroppedErr = child.StandardError.UnreportedDroppedLines,
                LostOut = child.StandardOutput.UnreportedLostLines + child.Records.UnreportedLostLines,
                LostErr = child.StandardError.UnreportedLostLines,
            });
        }

        /// <summary>Takes and writes chunks until the buffer has nothing more right now.</summary>
        private void Drain(ChildProcess child, OutputBuffer buffer, StreamKind kind, bool includePartial, Losses losses)
        {
            while (true)
            {
                // A record is never handed over in part: only text streams give their line still being written.
                var lines = buffer.Take(OutputBuffer.ReadChunkBytes, includePartial && kind != StreamKind.Records, out long dropped, out long lost);
                losses.Add(kind == StreamKind.Err, dropped, lost);
                if (lines.Count == 0)
                {
                    return;
                }
                Write(child, kind, lines);
            }
        }

        /// <summary>A scriptblock child's records (its fd 3) are objects and stream records; stdout is text; stderr error records.</summary>
        private void Write(ChildProcess child, StreamKind kind, IReadOnlyList<string> lines)
        {
            var none = Array.Empty<string>();
            ChildRecordReader.Emit(this, child, kind == StreamKind.Records ? lines : none, kind == StreamKind.Out ? lines : none,
                kind == StreamKind.Err ? lines : none, StandardErrorAsText, _nameChildren || _waitFor.Count > 1);
        }

        private enum StreamKind
        {
            Records,
            Out,
            Err,
        }

        private void Report(ChildProcess child, Losses l)
        {
            if (l.DroppedOut + l.DroppedErr > 0)
            {
                WriteWarning($"{child.Name} (pid {child.Id}) produced more output than is kept unread ({OutputBuffer.DefaultMaxMemoryBytes / (1024 * 1024)} MiB in memory, " +
                    $"then {OutputBuffer.DefaultMaxDiskBytes / (1024 * 1024 * 1024)} GiB in a temporary file, per stream): {l.DroppedOut} stdout and {l.DroppedErr} stderr line(s) " +
                    "were dropped (the oldest ones). Receive while it runs (-Wait streams), or use -RedirectStandardOutput/-RedirectStandardError for large output.");
            }
            if (l.LostOut + l.LostErr > 0)
            {
                string why = child.StandardOutput.LossReason ?? child.StandardError.LossReason ?? "an I/O error";
                string what = child.Kind == ChildKind.ScriptBlock ? "object(s) or record(s)" : "line(s)";
                var e = new System.IO.IOException($"{child.Name} (pid {child.Id}): {l.LostOut} stdout {what} and {l.LostErr} stderr line(s) were lost because {why}.");
                WriteError(new ErrorRecord(e, OutputLost, ErrorCategory.WriteError, child));
            }
        }

        /// <summary>-Keep -Wait: every child exited and its pipes reached end of file (or the drain time passed).</summary>
        private bool WaitForAll()
        {
            try
            {
                Task.WaitAll(_waitFor.Select(c => c.Exited).ToArray(), Cancellation);
                Task.WhenAll(_waitFor.SelectMany(c => new[] { c.Records.Completion, c.StandardOutput.Completion, c.StandardError.Completion }))
                    .Wait(PipeDrainAfterExit, Cancellation);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>-Wait: write what every child produces as it arrives, waiting (event-driven) on all their buffers and
        /// exits at once, until each one exited and its streams ended (or the drain time after exit passed).</summary>
        private void Stream()
        {
            var watches = _waitFor.Select(c => new Watch(c)).ToList();
            while (true)
            {
                DateTime now = DateTime.UtcNow;
                foreach (var w in watches)
                {
                    if (w.Finished)
                    {
                        continue;
                    }
                    if (w.Child.Removed)
                    {
                        w.Finished = true;
                        WriteError(ErrorHelper.WasRemoved(w.Child));
                        continue;
                    }
                    bool exited = w.Child.Exited.IsCompleted;
                    if (exited && w.DrainDeadline is null)
                    {
                        w.DrainDeadline = now + PipeDrainAfterExit;
                    }
                    // Read before draining: once both ended (and the child exited) nothing can follow what is taken now.
                    bool ended = w.Streams.All(s => s.Buffer.Completed);
                    bool final = exited && (ended || now >= w.DrainDeadline);
                    var losses = new Losses();
                    foreach (var s in w.Streams)
                    {
                        long version = s.Buffer.Version;
                        if (version != s.SeenVersion)
                        {
                            s.SeenVersion = version;
                            s.LastChange = now;
                        }
                        Drain(w.Child, s.Buffer, s.Kind, final || now - s.LastChange >= PartialLineQuiet, losses);
                    }
                    Report(w.Child, losses);
                    w.Finished = final;
                }
                var active = watches.Where(w => !w.Finished).ToList();
                if (active.Count == 0)
                {
                    return;
                }
                var tasks = new List<Task>();
                TimeSpan? timeout = null;
                foreach (var w in active)
                {
                    if (w.DrainDeadline is DateTime deadline)
                    {
                        timeout = Min(timeout, deadline - now);
                    }
                    else
                    {
                        tasks.Add(w.Child.Exited);
                    }
                    foreach (var s in w.Streams)
                    {
                        tasks.Add(s.Buffer.WaitForChange(s.SeenVersion));
                        if (s.Buffer.HasPartialLine)
                        {
                            timeout = Min(timeout, s.LastChange + PartialLineQuiet - now);
                        }
                    }
                }
                try
                {
                    int ms = timeout is TimeSpan t ? (int)Math.Max(0, Math.Ceiling(t.TotalMilliseconds)) : Timeout.Infinite;
                    Task.WaitAny(tasks.ToArray(), ms, Cancellation);
                }
                catch (OperationCanceledException)
                {
                    return; // Ctrl+C
                }
            }
        }

        private static TimeSpan Min(TimeSpan? a, TimeSpan b) => a is TimeSpan x && x < b ? x : b;

        private sealed class Losses
        {
            public long DroppedOut;
            public long DroppedErr;
            public long LostOut;
            public long LostErr;

            public void Add(bool isErr, long dropped, long lost)
            {
                if (isErr)
                {
                    DroppedErr += dropped;
                    LostErr += lost;
                }
                else
                {
                    DroppedOut += dropped;
                    LostOut += lost;
                }
            }
        }

        private sealed class StreamState
        {
            public StreamState(OutputBuffer buffer, StreamKind kind)
            {
                Buffer = buffer;
                Kind = kind;
            }

            public readonly OutputBuffer Buffer;
            public readonly StreamKind Kind;
            public long SeenVersion = -1;
            public DateTime LastChange;
        }

        private sealed class Watch
        {
            public Watch(ChildProcess child)
            {
                Child = child;
                // Records first: a scriptblock child's objects before the plain text its code wrote around them.
                Streams = new[]
                {
                    new StreamState(child.Records, StreamKind.Records),
                    new StreamState(child.StandardOutput, StreamKind.Out),
                    new StreamState(child.StandardError, StreamKind.Err),
                };
            }

            public readonly ChildProcess Child;
            public readonly StreamState[] Streams;
            public DateTime? DrainDeadline;
            public bool Finished;
        }
    }
}
