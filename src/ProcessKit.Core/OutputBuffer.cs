using System;
using System.Collections.Generic;
using System.Text;

namespace ProcessKit
{
    /// <summary>One captured stream of a child: bytes in, UTF-8 lines out, bounded in memory.
    /// When the bound is reached the oldest lines are dropped and counted, so a reader is told
    /// what it missed instead of the session growing without limit or the child blocking on a full pipe.</summary>
    public sealed class OutputBuffer
    {
        /// <summary>Characters kept per stream (~8 MiB of UTF-16). Large enough for ordinary chatter and
        /// object output; small enough that 100 chatty children stay under a gigabyte.</summary>
        public const int DefaultMaxChars = 4 * 1024 * 1024;

        private readonly object _sync = new object();
        private readonly System.Threading.Tasks.TaskCompletionSource<bool> _completion =
            new System.Threading.Tasks.TaskCompletionSource<bool>(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Queue<string> _lines = new Queue<string>();
        private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
        private readonly StringBuilder _partial = new StringBuilder();
        private readonly int _maxChars;
        private char[] _chars = new char[4096];
        private long _bufferedChars;
        private bool _skipLineFeed;
        private bool _discardingLine;

        public OutputBuffer(int maxChars = DefaultMaxChars)
        {
            _maxChars = maxChars;
        }

        /// <summary>Sees every complete line first; a line it returns true for is consumed and not buffered
        /// (a scriptblock child's log frames go to the session's log, not to its output).</summary>
        public Func<string, bool>? LineFilter { get; set; }

        /// <summary>True for framed output (a scriptblock child's records): a line longer than the bound is dropped
        /// and counted rather than handed over in pieces that could not be decoded.</summary>
        public bool KeepLongLinesWhole { get; set; }

        /// <summary>Lines dropped because the bound was reached (never reset: the total so far).</summary>
        public long DroppedLines { get; private set; }

        /// <summary>Lines dropped and not yet reported to a reader.</summary>
        public long UnreportedDroppedLines { get; private set; }

        /// <summary>True once the stream reached end of file and the last partial line was flushed.</summary>
        public bool Completed { get; private set; }

        /// <summary>Completes at end of stream (what Receive-ChildProcess -Wait waits on, event-driven).</summary>
        internal System.Threading.Tasks.Task Completion => _completion.Task;

        /// <summary>Feeds raw bytes read from the pipe.</summary>
        public void Append(byte[] bytes, int count)
        {
            lock (_sync)
            {
                int needed = _decoder.GetCharCount(bytes, 0, count, flush: false);
                if (_chars.Length < needed)
                {
                    _chars = new char[Math.Max(needed, _chars.Length * 2)];
                }
                int n = _decoder.GetChars(bytes, 0, count, _chars, 0, flush: false);
                for (int i = 0; i < n; i++)
                {
                    char c = _chars[i];
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
                        if (_discardingLine)
                        {
                            _discardingLine = false; // the end of a line that was too long to keep whole
                        }
                        else
                        {
                            EnqueueLine(_partial.ToString());
                        }
                        _partial.Clear();
                    }
                    else if (!_discardingLine)
                    {
                        _partial.Append(c);
                        if (_partial.Length >= _maxChars)
                        {
                            if (KeepLongLinesWhole)
                            {
                                // A record (one object of a scriptblock child) cannot be cut: drop it, and say so.
                                _partial.Clear();
                                _discardingLine = true;
                                DroppedLines++;
                                UnreportedDroppedLines++;
                            }
                            else
                            {
                                // A text line longer than the whole bound: hand it over in pieces.
                                EnqueueLine(_partial.ToString());
                                _partial.Clear();
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Marks end of stream; a last line without a newline still counts.</summary>
        public void Complete()
        {
            lock (_sync)
            {
                if (Completed)
                {
                    return;
                }
                int n = _decoder.GetChars(Array.Empty<byte>(), 0, 0, _chars, 0, flush: true);
                _partial.Append(_chars, 0, n);
                if (_partial.Length > 0)
                {
                    EnqueueLine(_partial.ToString());
                    _partial.Clear();
                }
                Completed = true;
            }
            _completion.TrySetResult(true);
        }

        /// <summary>Returns the buffered lines; removes them unless <paramref name="keep"/>.
        /// <paramref name="dropped"/> tells how many lines were lost to the bound since the last consuming read.</summary>
        public IReadOnlyList<string> Read(bool keep, out long dropped)
        {
            lock (_sync)
            {
                var result = new List<string>(_lines);
                dropped = UnreportedDroppedLines;
                if (!keep)
                {
                    _lines.Clear();
                    _bufferedChars = 0;
                    UnreportedDroppedLines = 0;
                }
                return result;
            }
        }

        /// <summary>Frees the buffered lines.</summary>
        public void Clear()
        {
            lock (_sync)
            {
                _lines.Clear();
                _bufferedChars = 0;
            }
        }

        private void EnqueueLine(string line)
        {
            if (LineFilter != null && LineFilter(line))
            {
                return;
            }
            _lines.Enqueue(line);
            _bufferedChars += line.Length;
            while (_bufferedChars > _maxChars && _lines.Count > 1)
            {
                _bufferedChars -= _lines.Dequeue().Length;
                DroppedLines++;
                UnreportedDroppedLines++;
            }
        }
    }
}
