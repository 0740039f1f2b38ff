using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ProcessKit
{
    /// <summary>Log levels, with Python's logging numbers so ordering and child hand-over are simple.</summary>
    public enum LogLevel
    {
        Debug = 10,
        Info = 20,
        Warning = 30,
        Error = 40,
    }

    /// <summary>One lifecycle record, as Get-ChildProcessLog returns it.</summary>
    public sealed class LogRecord
    {
        public LogRecord(DateTime time, LogLevel level, string processName, int processId, string message)
        {
            Time = time;
            Level = level;
            ProcessName = processName;
            ProcessId = processId;
            Message = message;
        }

        public DateTime Time { get; }
        public LogLevel Level { get; }
        public string ProcessName { get; }
        public int ProcessId { get; }
        public string Message { get; }

        /// <summary>Python's default <c>log_to_stderr</c> format, <see cref="ChildProtocol.LogLineFormat"/>.</summary>
        public override string ToString() => ChildProtocol.FormatLogLine(Level, ProcessName, Message);

        /// <summary>The <c>[LEVEL/ProcessName]</c> part, handed to the helpers that log without us (the guardian).</summary>
        internal static string Prefix(LogLevel level, string processName) => ChildProtocol.FormatLogLine(level, processName, string.Empty).TrimEnd();

        internal static string LevelName(LogLevel level) => level switch
        {
            LogLevel.Debug => "DEBUG",
            LogLevel.Info => "INFO",
            LogLevel.Warning => "WARNING",
            _ => "ERROR",
        };
    }

    /// <summary>Process-wide lifecycle log (Python's multiprocessing logger is per process too).
    /// Off until enabled; when on, records go to stderr or a file and into a bounded ring for Get-ChildProcessLog.</summary>
    public static class ProcessLog
    {
        /// <summary>Records kept for Get-ChildProcessLog; older ones fall off.</summary>
        public const int RingSize = 1000;

        /// <summary>The name the session itself logs under, as Python's parent process.</summary>
        public const string MainProcessName = "MainProcess";

        private static readonly object Sync = new object();
        private static readonly Queue<LogRecord> Ring = new Queue<LogRecord>();
        private static LogLevel? _level;
        private static string? _path;
        private static Stream? _sink;

        /// <summary>The enabled level, or null when logging is off.</summary>
        public static LogLevel? Level
        {
            get { lock (Sync) { return _level; } }
        }

        /// <summary>The name this process logs under: its ProcessKit name when it is itself a child.</summary>
        public static string SelfName =>
            Environment.GetEnvironmentVariable(ChildEnvironment.NameVariable) is { Length: > 0 } n ? n : MainProcessName;

        public static bool IsEnabled(LogLevel level)
        {
            lock (Sync)
            {
                return _level.HasValue && level >= _level.Value;
            }
        }

        /// <summary>The -Path file records are appended to, or null for stderr (or when logging is off).</summary>
        internal static string? Path
        {
            get { lock (Sync) { return _path; } }
        }

        /// <summary>Raised when the log file changes (null: none), so the lifeline guardians write where the session does.</summary>
        internal static event Action<string?>? PathChanged;

        /// <summary>Turns logging on. The sink (fd 2, or the file opened for append) is opened here, once: a path that
        /// cannot be written throws now (IOException, UnauthorizedAccessException) instead of losing records later.</summary>
        public static void Enable(LogLevel level, string? path)
        {
            Stream sink = path is null
                ? Console.OpenStandardError()
                : new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            Use(sink, level, path);
        }

        public static void Disable() => Use(null, null, null);

        /// <summary>Swaps the sink under the lock and closes the old one after it, outside.</summary>
        private static void Use(Stream? sink, LogLevel? level, string? path)
        {
            Stream? old;
            lock (Sync)
            {
                old = _sink;
                _sink = sink;
                _level = level;
                _path = path;
            }
            old?.Dispose();
            PathChanged?.Invoke(path);
        }

        /// <summary>Records of the ring, oldest first; the last <paramref name="last"/> when given.</summary>
        public static IReadOnlyList<LogRecord> Recent(int? last = null)
        {
            lock (Sync)
            {
                var all = new List<LogRecord>(Ring);
                if (last.HasValue && last.Value < all.Count)
                {
                    all.RemoveRange(0, all.Count - last.Value);
                }
                return all;
            }
        }

        public static void Debug(string message) => Write(LogLevel.Debug, message);

        public static void Info(string message) => Write(LogLevel.Info, message);

        public static void Warning(string message) => Write(LogLevel.Warning, message);

        public static void Error(string message) => Write(LogLevel.Error, message);

        /// <summary>Writes a record of this process when its level is enabled.</summary>
        public static void Write(LogLevel level, string message) =>
            Write(level, SelfName, Environment.ProcessId, message);

        /// <summary>Writes a record on behalf of a process (a child relaying its own side).</summary>
        public static void Write(LogLevel level, string processName, int processId, string message)
        {
            lock (Sync)
            {
                if (!_level.HasValue || level < _level.Value)
                {
                    return;
                }
                var record = new LogRecord(DateTime.Now, level, processName, processId, message);
                Ring.Enqueue(record);
                while (Ring.Count > RingSize)
                {
                    Ring.Dequeue();
                }
                Emit(record);
            }
        }

        /// <summary>One line to the sink, under the lock so lines from many threads never interleave. Straight to fd 2
        /// (or the file), as Python's log_to_stderr: not through the host's error stream.</summary>
        private static void Emit(LogRecord record)
        {
            try
            {
                byte[] bytes = Encoding.UTF8.GetBytes(record + Environment.NewLine);
                _sink?.Write(bytes, 0, bytes.Length);
                _sink?.Flush();
            }
            catch (IOException)
            {
                // Logging must never break the lifecycle it describes (closed terminal, full disk).
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
