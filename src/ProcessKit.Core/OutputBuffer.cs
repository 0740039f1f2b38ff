using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace ProcessKit
{
    /// <summary>One captured stream of a child: bytes in, UTF-8 lines out. Complete lines are kept in memory up to
    /// <see cref="DefaultMaxMemoryBytes"/> (real bytes: string objects plus queue slots); what does not fit goes on, in
    /// order, to a temporary spill file owned by this buffer (unlinked as soon as it is created, so it is gone when the
    /// buffer is cleared, collected, or the process ends). Nothing is dropped until a program's unread text reaches
    /// <see cref="DefaultMaxDiskBytes"/> on disk; then its oldest lines are dropped and counted, so a reader is told what
    /// it missed and the child never blocks on a full pipe. Records (<see cref="KeepLongLinesWhole"/>: a scriptblock
    /// child's objects) are never dropped: the disk cap does not apply to them; only a failing spill write (disk full)
    /// can lose them, and that is counted in <see cref="LostLines"/> with the reason, for an error, not a warning.</summary>
    public sealed class OutputBuffer
    {
        /// <summary>Memory per stream for complete lines (16 MiB): ordinary chatter and object output stays in memory,
        /// and 100 chatty children cost at most 1.6 GB even before anything is read (everything beyond goes to disk).</summary>
        public const long DefaultMaxMemoryBytes = 16L * 1024 * 1024;

        /// <summary>Unread spilled text per stream of a program (1 GiB) before its oldest lines are dropped: far more than
        /// anyone reads back through a pipeline, small enough that a runaway <c>yes</c> cannot fill the disk.</summary>
        public const long DefaultMaxDiskBytes = 1024L * 1024 * 1024;

        /// <summary>A text line longer than this (4 Mi characters, 8 MiB) is handed over in pieces, so one endless
        /// line without a newline cannot grow the line being assembled without limit. Records are never cut. Half the
        /// memory bound: a long JSON document or base64 blob on one line (a few MB) still comes back as one string.</summary>
        public const int DefaultMaxLineChars = 4 * 1024 * 1024;

        /// <summary>A consuming read hands over about this much (memory cost) at a time, so a reader holds at most this
        /// much besides what its pipeline keeps.</summary>
        internal const long ReadChunkBytes = 1024 * 1024;

        /// <summary>What one buffered line costs besides its characters: the string object (8-byte header, 8-byte method
        /// table pointer, 4-byte length, 2-byte terminator, padded to 24 on 64-bit). Queue slots (8 bytes each, over the
        /// queue's whole capacity) are counted separately.</summary>
        internal const long StringOverheadBytes = 24;

        /// <summary>One queue slot (a reference on 64-bit).</summary>
        internal const long SlotBytes = 8;

        /// <summary>Spill segments per disk cap: the file is split so consumed data is given back to the disk (a whole
        /// segment at a time) while a reader keeps up, and so the oldest text is dropped a segment at a time.</summary>
        private const int SegmentsPerCap = 16;

        /// <summary>An assembled line longer than this leaves its StringBuilder behind, so one huge record does not keep
        /// megabytes of builder capacity alive for the rest of the child's life.</summary>
        private const int KeepBuilderChars = 4096;

        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, false);

        /// <summary>Decoding scratch shared by every buffer appended to on the same thread (the supervisor), so a
        /// buffer allocates nothing until its child writes, and a chatty child only what it needs.</summary>
        [ThreadStatic]
        private static char[]? _scratch;

        private readonly object _sync = new object();
        /// <summary>Serialises access to the spill files (the writer's appends and the consuming reads), so the
        /// memory state under <see cref="_sync"/> is never held during file I/O. Order: _spillLock, then _sync.</summary>
        private readonly object _spillLock = new object();
        private readonly TaskCompletionSource<bool> _completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly long _maxMemoryBytes;
        private readonly long _maxDiskBytes;
        private readonly int _maxLineChars;
        private readonly long _segmentBytes;

        // State under _sync. Everything is allocated on first use (a silent child costs only this object).
        private Queue<string>? _lines;
        private long _stringBytes;
        private Decoder? _decoder;
        private StringBuilder? _partial;
        private bool _skipLineFeed;
        private bool _partialTaken;
        private bool _spilling;
        private long _inFlight;
        private long _spillUnreadBytes;
        private long _version;
        private bool _cleared;
        private TaskCompletionSource<bool>? _changed;
        private string? _lossReason;

        // State under _spillLock (segment positions also read under _sync when both are held).
        private List<Segment>? _segments;
        private List<string>? _pendingSpill;

        public OutputBuffer(long maxMemoryBytes = DefaultMaxMemoryBytes, long maxDiskBytes = DefaultMaxDiskBytes, int maxLineChars = DefaultMaxLineChars)
        {
            _maxMemoryBytes = maxMemoryBytes;
            _maxDiskBytes = maxDiskBytes;
            _maxLineChars = maxLineChars;
            _segmentBytes = Math.Max(1, maxDiskBytes / SegmentsPerCap);
        }

        /// <summary>Sees every complete line first; a line it returns true for is consumed and not buffered
        /// (a scriptblock child's log frames go to the session's log, not to its output).</summary>
        public Func<string, bool>? LineFilter { get; set; }

        /// <summary>True for framed output (a scriptblock child's records): lines are never cut, never dropped, and a
        /// line still being written is not handed over before its newline.</summary>
        public bool KeepLongLinesWhole { get; set; }

        /// <summary>Text lines dropped because the disk cap was reached (never reset: the total so far).</summary>
        public long DroppedLines { get; private set; }

        /// <summary>Lines dropped and not yet reported to a reader.</summary>
        public long UnreportedDroppedLines { get; private set; }

        /// <summary>Lines lost because the spill file could not be written (disk full, I/O error); never reset.</summary>
        public long LostLines { get; private set; }

        /// <summary>Lost lines not yet reported to a reader.</summary>
        internal long UnreportedLostLines { get; private set; }

        /// <summary>Why lines were lost (the I/O error), once any were.</summary>
        internal string? LossReason
        {
            get { lock (_sync) { return _lossReason; } }
        }

        /// <summary>True once the stream reached end of file and the last partial line was flushed.</summary>
        public bool Completed { get; private set; }

        /// <summary>Completes at end of stream (what Receive-ChildProcess -Wait waits on, event-driven).</summary>
        internal Task Completion => _completion.Task;

        /// <summary>Memory the buffered complete lines take now (strings and queue slots), in bytes.</summary>
        internal long MemoryBytes
        {
            get { lock (_sync) { return MemoryBytesLocked(); } }
        }

        /// <summary>Spilled bytes not read yet.</summary>
        internal long SpilledBytes
        {
            get { lock (_sync) { return _spillUnreadBytes; } }
        }

        /// <summary>Spill files open now (each already unlinked on Unix).</summary>
        internal int SpillFileCount
        {
            get { lock (_spillLock) { return _segments?.Count ?? 0; } }
        }

        internal long MaxMemoryBytes => _maxMemoryBytes;

        /// <summary>Changes on every append, completion and clear: a reader remembers it before a read and then waits
        /// with <see cref="WaitForChange"/>, so nothing that arrives in between is missed.</summary>
        internal long Version
        {
            get { lock (_sync) { return _version; } }
        }

        /// <summary>True when a text line is being written (no newline yet) and a consuming read could hand it over.</summary>
        internal bool HasPartialLine
        {
            get { lock (_sync) { return !KeepLongLinesWhole && _partial != null && _partial.Length > 0; } }
        }

        /// <summary>Completes once <see cref="Version"/> differs from <paramref name="seenVersion"/> (at once if it
        /// already does): "data arrived, the stream ended or was cleared", without polling.</summary>
        internal Task WaitForChange(long seenVersion)
        {
            lock (_sync)
            {
                // Not "|| Completed": a stream that ended while its child runs on would wake its waiter for ever.
                // Completing and clearing change the version once, which is all a waiter needs to see.
                if (_version != seenVersion)
                {
                    return Task.CompletedTask;
                }
                _changed ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                return _changed.Task;
            }
        }

        /// <summary>Feeds raw bytes read from the pipe (one writer thread per buffer: the supervisor or its pump).</summary>
        public void Append(byte[] bytes, int count)
        {
            TaskCompletionSource<bool>? changed;
            bool spill;
            lock (_sync)
            {
                if (_cleared || Completed)
                {
                    return;
                }
                _decoder ??= Utf8.GetDecoder();
                int needed = _decoder.GetCharCount(bytes, 0, count, flush: false);
                char[] chars = Scratch(needed);
                int n = _decoder.GetChars(bytes, 0, count, chars, 0, flush: false);
                for (int i = 0; i < n; i++)
                {
                    char c = chars[i];
                    if (_skipLineFeed)
                    {
                        _skipLineFeed = false;
                        if (c == '\n')
                        {
                            continue;
                        }
                    }
                    if (c == '\n' || c == '\r')
                    {
                        _skipLineFeed = c == '\r';
                        EndLine();
                        continue;
                    }
                    if (!KeepLongLinesWhole && _partial != null && _partial.Length >= _maxLineChars && !char.IsLowSurrogate(c))
                    {
                        // A text line longer than the limit: hand it over in pieces (never between a surrogate pair).
                        // Cut when a character beyond the limit arrives, not when the limit is reached: a line of
                        // exactly the limit is then ended by its own newline, with no empty line after it.
                        AddLine(TakePartialText());
                    }
                    _partial ??= new StringBuilder();
                    _partial.Append(c);
                }
                spill = _pendingSpill != null && _pendingSpill.Count > 0;
                changed = Changed();
            }
            if (spill)
            {
                WriteSpill();
            }
            changed?.TrySetResult(true);
        }

        /// <summary>Marks end of stream; a last line without a newline still counts.</summary>
        public void Complete()
        {
            TaskCompletionSource<bool>? changed;
            bool spill;
            lock (_sync)
            {
                if (Completed)
                {
                    return;
                }
                if (_decoder != null)
                {
                    char[] chars = Scratch(16);
                    int n = _decoder.GetChars(Array.Empty<byte>(), 0, 0, chars, 0, flush: true);
                    if (n > 0)
                    {
                        _partial ??= new StringBuilder();
                        _partial.Append(chars, 0, n);
                    }
                }
                if (_partial != null && _partial.Length > 0)
                {
                    EndLine();
                }
                spill = _pendingSpill != null && _pendingSpill.Count > 0;
            }
            if (spill)
            {
                WriteSpill();
            }
            lock (_sync)
            {
                Completed = true;
                changed = Changed();
            }
            changed?.TrySetResult(true);
            _completion.TrySetResult(true);
        }

        /// <summary>Returns the buffered lines (and, for text, the line still being written); removes them unless
        /// <paramref name="keep"/>. <paramref name="dropped"/> tells how many lines were lost to the bound since the
        /// last consuming read. Everything at once: a reader of a big capture should use <see cref="Take"/> and
        /// <see cref="ReadKept"/>, which hand it over in chunks.</summary>
        public IReadOnlyList<string> Read(bool keep, out long dropped)
        {
            var result = new List<string>();
            if (keep)
            {
                lock (_sync)
                {
                    dropped = UnreportedDroppedLines;
                }
                foreach (var chunk in ReadKept())
                {
                    result.AddRange(chunk);
                }
                return result;
            }
            dropped = 0;
            while (true)
            {
                var chunk = Take(ReadChunkBytes, includePartial: true, out long d, out _);
                dropped += d;
                if (chunk.Count == 0)
                {
                    return result;
                }
                result.AddRange(chunk);
            }
        }

        /// <summary>A consuming read of about <paramref name="maxBytes"/> (memory cost; at least one line): the oldest
        /// lines first, from memory, then from the spill file. When nothing else is left and
        /// <paramref name="includePartial"/>, a text line still being written is handed over as it is; the rest of that
        /// line arrives later as a line of its own (no empty line is made when only its newline follows). Records never
        /// come in parts. An empty result means nothing is buffered now.</summary>
        internal IReadOnlyList<string> Take(long maxBytes, bool includePartial, out long dropped, out long lost)
        {
            var result = new List<string>();
            lock (_sync)
            {
                dropped = UnreportedDroppedLines;
                UnreportedDroppedLines = 0;
                lost = UnreportedLostLines;
                UnreportedLostLines = 0;
                if (_cleared)
                {
                    return result;
                }
                if (_lines != null && _lines.Count > 0)
                {
                    long taken = 0;
                    while (_lines.Count > 0 && (result.Count == 0 || taken < maxBytes))
                    {
                        string line = _lines.Dequeue();
                        long cost = StringOverheadBytes + 2L * line.Length;
                        _stringBytes -= cost;
                        taken += cost + SlotBytes;
                        result.Add(line);
                    }
                    ShrinkQueue();
                    return result;
                }
                if (_spillUnreadBytes == 0 && _inFlight == 0)
                {
                    if (includePartial && !KeepLongLinesWhole && _partial != null && _partial.Length > 0)
                    {
                        result.Add(TakePartialText());
                        _partialTaken = true;
                    }
                    return result;
                }
            }
            ReadSpill(maxBytes, result);
            return result;
        }

        /// <summary>A non-consuming read, in chunks: the memory lines as they are now, then the spilled lines (read from
        /// the file while it is kept open for this reader), then the text line still being written.</summary>
        internal IEnumerable<IReadOnlyList<string>> ReadKept()
        {
            var ranges = new List<(Segment Segment, long From, long To)>();
            if (!Snapshot(ranges, out var memory, out string? partial))
            {
                yield break;
            }
            try
            {
                if (memory.Count > 0)
                {
                    yield return memory;
                }
                foreach (var (segment, from, to) in ranges)
                {
                    long pos = from;
                    while (pos < to)
                    {
                        var lines = new List<string>();
                        pos += segment.ReadLines(pos, to, ReadChunkBytes, lines);
                        yield return lines;
                    }
                }
                if (partial != null)
                {
                    yield return new[] { partial };
                }
            }
            finally
            {
                var toClose = new List<Segment>();
                lock (_sync)
                {
                    foreach (var (segment, _, _) in ranges)
                    {
                        if (--segment.Refs == 0 && segment.Retired)
                        {
                            toClose.Add(segment);
                        }
                    }
                }
                toClose.ForEach(s => s.Dispose());
            }
        }

        /// <summary>What a kept read returns, taken at one instant; the spilled ranges' segments stay open (Refs) until
        /// the reader is done with them.</summary>
        private bool Snapshot(List<(Segment Segment, long From, long To)> ranges, out List<string> memory, out string? partial)
        {
            lock (_spillLock)
            {
                lock (_sync)
                {
                    memory = _lines is null ? new List<string>() : new List<string>(_lines);
                    partial = !KeepLongLinesWhole && _partial != null && _partial.Length > 0 ? _partial.ToString() : null;
                    if (_cleared)
                    {
                        return false;
                    }
                    if (_segments != null)
                    {
                        foreach (var s in _segments)
                        {
                            if (s.ReadPos < s.WriteLen)
                            {
                                s.Refs++;
                                ranges.Add((s, s.ReadPos, s.WriteLen));
                            }
                        }
                    }
                    return true;
                }
            }
        }

        /// <summary>Frees the buffered lines and the spill file; later output of the child is discarded.</summary>
        public void Clear()
        {
            TaskCompletionSource<bool>? changed;
            var toClose = new List<Segment>();
            lock (_spillLock)
            {
                lock (_sync)
                {
                    _cleared = true;
                    _lines = null;
                    _stringBytes = 0;
                    _partial = null;
                    _pendingSpill = null;
                    _spillUnreadBytes = 0;
                    _inFlight = 0;
                    RetireAll(toClose);
                    changed = Changed();
                }
            }
            toClose.ForEach(s => s.Dispose());
            changed?.TrySetResult(true);
        }

        private static char[] Scratch(int needed)
        {
            if (_scratch is null || _scratch.Length < needed)
            {
                _scratch = new char[Math.Max(needed, 1024)];
            }
            return _scratch;
        }

        private long MemoryBytesLocked() =>
            _stringBytes + (_lines is null ? 0 : SlotBytes * _lines.EnsureCapacity(0));

        private TaskCompletionSource<bool>? Changed()
        {
            _version++;
            var changed = _changed;
            _changed = null;
            return changed;
        }

        private string TakePartialText()
        {
            string text = _partial!.ToString();
            if (_partial.Length > KeepBuilderChars)
            {
                _partial = null;
            }
            else
            {
                _partial.Clear();
            }
            return text;
        }

        /// <summary>A newline: the line so far is complete, unless a reader already took all of it as a partial line
        /// (then only its newline arrived, and an empty line here would be spurious).</summary>
        private void EndLine()
        {
            bool empty = _partial is null || _partial.Length == 0;
            if (empty && _partialTaken)
            {
                _partialTaken = false;
                return;
            }
            _partialTaken = false;
            AddLine(empty ? string.Empty : TakePartialText());
        }

        /// <summary>Under _sync: a complete line goes to memory while it fits and nothing is spilled; otherwise, so the
        /// order holds, it is queued for the spill file (written by <see cref="WriteSpill"/> outside _sync).</summary>
        private void AddLine(string line)
        {
            if (LineFilter != null && LineFilter(line))
            {
                return;
            }
            if (_spilling && _spillUnreadBytes == 0 && _inFlight == 0 && (_lines is null || _lines.Count == 0))
            {
                _spilling = false; // the reader caught up: back to memory
            }
            if (!_spilling)
            {
                long cost = StringOverheadBytes + 2L * line.Length;
                int count = _lines?.Count ?? 0;
                int capacity = _lines?.EnsureCapacity(0) ?? 0;
                long slots = count < capacity ? capacity : Math.Max(4, 2L * capacity); // Queue doubles when full
                if (_stringBytes + cost + SlotBytes * slots <= _maxMemoryBytes)
                {
                    _lines ??= new Queue<string>();
                    _lines.Enqueue(line);
                    _stringBytes += cost;
                    return;
                }
                _spilling = true;
            }
            _pendingSpill ??= new List<string>();
            _pendingSpill.Add(line);
            _inFlight++;
        }

        /// <summary>After a consuming read emptied most of the queue, give its array back (Queue never shrinks itself).</summary>
        private void ShrinkQueue()
        {
            if (_lines is null)
            {
                return;
            }
            if (_lines.Count == 0)
            {
                _lines = null;
            }
            else if (_lines.Count < _lines.EnsureCapacity(0) / 4)
            {
                _lines.TrimExcess();
            }
        }

        /// <summary>The writer's half of spilling: writes the queued lines to the last segment, publishes them, and for a
        /// program drops the oldest text once the unread spill passes the disk cap.</summary>
        private void WriteSpill()
        {
            var toClose = new List<Segment>();
            TaskCompletionSource<bool>? changed = null;
            lock (_spillLock)
            {
                List<string> lines;
                lock (_sync)
                {
                    if (_cleared || _pendingSpill is null || _pendingSpill.Count == 0)
                    {
                        return;
                    }
                    lines = _pendingSpill;
                    _pendingSpill = null;
                }
                long written = 0;
                string? error = null;
                try
                {
                    written = WriteLines(lines);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ObjectDisposedException)
                {
                    error = e.Message;
                }
                lock (_sync)
                {
                    _inFlight -= lines.Count;
                    if (error != null)
                    {
                        LostLines += lines.Count;
                        UnreportedLostLines += lines.Count;
                        _lossReason = $"the spill file in {Path.GetTempPath()} could not be written: {error}";
                    }
                    else
                    {
                        _spillUnreadBytes += written;
                    }
                    if (!KeepLongLinesWhole)
                    {
                        DropOldestBeyondCap(toClose);
                    }
                    changed = Changed();
                }
            }
            toClose.ForEach(s => s.Dispose());
            changed?.TrySetResult(true);
        }

        /// <summary>Under _spillLock (only the spill lock's holder touches the segment list).</summary>
        private long WriteLines(List<string> lines)
        {
            _segments ??= new List<Segment>();
            if (_segments.Count == 0 || _segments[_segments.Count - 1].WriteLen >= _segmentBytes)
            {
                _segments.Add(Segment.Create());
            }
            var segment = _segments[_segments.Count - 1];
            long total = 0;
            foreach (string line in lines)
            {
                total += Utf8.GetByteCount(line) + 1;
            }
            // Written in slices of at most a few MiB, so a flood of lines never needs one huge array.
            var bytes = new byte[(int)Math.Min(total, 4 * 1024 * 1024)];
            int used = 0;
            long pos = segment.WriteLen;
            foreach (string line in lines)
            {
                int size = Utf8.GetByteCount(line) + 1;
                if (size > bytes.Length - used)
                {
                    RandomAccess.Write(segment.Handle, bytes.AsSpan(0, used), pos);
                    pos += used;
                    used = 0;
                    if (size > bytes.Length)
                    {
                        bytes = new byte[size];
                    }
                }
                used += Utf8.GetBytes(line, 0, line.Length, bytes, used);
                bytes[used++] = (byte)'\n';
            }
            RandomAccess.Write(segment.Handle, bytes.AsSpan(0, used), pos);
            lock (_sync)
            {
                segment.WriteLen += total;
                segment.Lines += lines.Count;
            }
            return total;
        }

        /// <summary>Under both locks: drop the oldest text, whole segments at a time (and the memory lines, which are
        /// older still), until the unread spill is within the disk cap.</summary>
        private void DropOldestBeyondCap(List<Segment> toClose)
        {
            if (_spillUnreadBytes <= _maxDiskBytes || _segments is null)
            {
                return;
            }
            if (_lines != null && _lines.Count > 0)
            {
                DroppedLines += _lines.Count;
                UnreportedDroppedLines += _lines.Count;
                _lines = null;
                _stringBytes = 0;
            }
            while (_spillUnreadBytes > _maxDiskBytes && _segments.Count > 0)
            {
                var head = _segments[0];
                long lines = head.Lines - head.LinesRead;
                DroppedLines += lines;
                UnreportedDroppedLines += lines;
                _spillUnreadBytes -= head.WriteLen - head.ReadPos;
                head.ReadPos = head.WriteLen;
                head.LinesRead = head.Lines;
                Retire(head, toClose);
                _segments.RemoveAt(0);
            }
        }

        /// <summary>The reader's half: reads whole lines from the oldest segment, then gives back segments read to the end.</summary>
        private void ReadSpill(long maxBytes, List<string> result)
        {
            var toClose = new List<Segment>();
            lock (_spillLock)
            {
                if (_segments is null || _segments.Count == 0)
                {
                    return;
                }
                Segment head;
                long from, to;
                lock (_sync)
                {
                    if (_cleared)
                    {
                        return;
                    }
                    head = _segments[0];
                    from = head.ReadPos;
                    to = head.WriteLen;
                }
                long consumed = 0;
                int before = result.Count;
                string? error = null;
                if (from < to)
                {
                    try
                    {
                        consumed = head.ReadLines(from, to, maxBytes, result);
                    }
                    catch (IOException e)
                    {
                        error = e.Message;
                        consumed = to - from; // unreadable: count what it held as lost rather than retry for ever
                    }
                }
                lock (_sync)
                {
                    head.ReadPos += consumed;
                    head.LinesRead = error is null ? head.LinesRead + (result.Count - before) : head.Lines;
                    _spillUnreadBytes -= consumed;
                    if (error != null)
                    {
                        long lost = head.Lines - head.LinesRead;
                        LostLines += Math.Max(0, lost);
                        UnreportedLostLines += Math.Max(0, lost);
                        _lossReason = $"the spill file could not be read: {error}";
                    }
                    // Segments read to the end are given back; the last one too once everything was read (the writer
                    // starts a new one), so a reader that keeps up keeps the disk use near zero.
                    while (_segments.Count > 0 && _segments[0].ReadPos >= _segments[0].WriteLen
                        && (_segments.Count > 1 || _inFlight == 0))
                    {
                        Retire(_segments[0], toClose);
                        _segments.RemoveAt(0);
                    }
                }
            }
            toClose.ForEach(s => s.Dispose());
        }

        private void RetireAll(List<Segment> toClose)
        {
            if (_segments != null)
            {
                foreach (var s in _segments)
                {
                    Retire(s, toClose);
                }
                _segments = null;
            }
        }

        /// <summary>Under _sync: a segment no longer in the list closes once no kept read is still reading it.</summary>
        private static void Retire(Segment s, List<Segment> toClose)
        {
            s.Retired = true;
            if (s.Refs == 0)
            {
                toClose.Add(s);
            }
        }

        /// <summary>One spill file. Created in the temp folder with owner-only permissions and unlinked at once on Unix
        /// (DeleteOnClose on Windows), so it can never outlive the handle: closing it, collecting it, or the end of the
        /// process gives its space back. Only complete lines (UTF-8, newline-terminated) are written; bytes below
        /// <see cref="WriteLen"/> never change, so kept reads may read them without a lock.</summary>
        private sealed class Segment : IDisposable
        {
            private readonly FileStream _stream;

            private Segment(FileStream stream)
            {
                _stream = stream;
            }

            public SafeFileHandle Handle => _stream.SafeFileHandle;

            // Under the buffer's _sync.
            public long WriteLen;
            public long ReadPos;
            public long Lines;
            public long LinesRead;
            public int Refs;
            public bool Retired;

            public static Segment Create()
            {
                string path = Path.Combine(Path.GetTempPath(), $"processkit-{Environment.ProcessId}-{Guid.NewGuid():N}.spill");
                var options = new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.Delete,
                    Options = FileOptions.DeleteOnClose,
                };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }
                var stream = new FileStream(path, options);
                if (!OperatingSystem.IsWindows())
                {
                    try
                    {
                        File.Delete(path); // unlink-on-create: the open handle keeps the data, nothing is left behind
                    }
                    catch (IOException)
                    {
                        // DeleteOnClose still removes it when the handle closes
                    }
                }
                return new Segment(stream);
            }

            /// <summary>Decodes whole lines in [from, to) until about <paramref name="maxBytes"/> of memory cost is
            /// read (at least one line, however long); returns the bytes consumed.</summary>
            public long ReadLines(long from, long to, long maxBytes, List<string> lines)
            {
                long pos = from;
                long cost = 0;
                int size = (int)Math.Min(to - from, Math.Max(4096, Math.Min(maxBytes, 1024 * 1024)));
                var bytes = new byte[size];
                while (pos < to && (lines.Count == 0 || cost < maxBytes))
                {
                    int want = (int)Math.Min(bytes.Length, to - pos);
                    int got = RandomAccess.Read(Handle, bytes.AsSpan(0, want), pos);
                    if (got <= 0)
                    {
                        throw new IOException("unexpected end of the spill file");
                    }
                    int start = 0;
                    int nl;
                    while (start < got && (nl = Array.IndexOf(bytes, (byte)'\n', start, got - start)) >= 0)
                    {
                        string line = Utf8.GetString(bytes, start, nl - start);
                        lines.Add(line);
                        cost += StringOverheadBytes + SlotBytes + 2L * line.Length;
                        start = nl + 1;
                        if (cost >= maxBytes)
                        {
                            break;
                        }
                    }
                    if (start == 0)
                    {
                        // One line longer than the read size: read it whole with a bigger array.
                        bytes = new byte[(int)Math.Min(to - pos, 2L * bytes.Length)];
                        continue;
                    }
                    pos += start;
                }
                return pos - from;
            }

            public void Dispose() => _stream.Dispose();
        }
    }
}
