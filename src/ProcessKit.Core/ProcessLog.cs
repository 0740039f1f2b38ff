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

        /// <summary>Python's default <c>log_to_stderr</c> format: <c>[LEVEL/ProcessName] message</c>.</summary>
        public override string ToString() => $"[{LevelName(Level)}/{ProcessName}] {Message}";

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

        public static void Enable(LogLevel level, string? path)
        {
            lock (Sync)
            {
                _level = level;
                _path = path;
            }
        }

        public static void Disable()
        {
            lock (Sync)
            {
                _level = null;
                _path = null;
            }
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
            LogRecord record;
            string? path;
            lock (Sync)
            {
                if (!_level.HasValue || level < _level.Value)
                {
                    return;
                }
                record = new LogRecord(DateTime.Now, level, processName, processId, message);
                Ring.Enqueue(record);
                while (Ring.Count > RingSize)
                {
                    Ring.Dequeue();
                }
                path = _path;
                Emit(record, path);
            }
        }

        private static void Emit(LogRecord record, string? path)
        {
            try
            {
                string line = record + Environment.NewLine;
                if (path is null)
                {
                    // Straight to fd 2, as Python's log_to_stderr: not through the host's error stream.
                    using Stream stderr = Console.OpenStandardError();
                    byte[] bytes = Encoding.UTF8.GetBytes(line);
                    stderr.Write(bytes, 0, bytes.Length);
                }
                else
                {
                    File.AppendAllText(path, line, new UTF8Encoding(false));
                }
            }
            catch (IOException)
            {
                // Logging must never break the lifecycle it describes (closed terminal, full disk).
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
