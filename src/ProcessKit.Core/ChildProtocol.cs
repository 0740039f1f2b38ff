using System;
using System.Globalization;
using System.Text;

namespace ProcessKit
{
    /// <summary>The wire protocol between the session and a scriptblock child, written once. The child-side half is
    /// the bootstrap (the ProcessKit assembly's embedded ChildBootstrap.ps1), which receives every value below from
    /// <see cref="BootstrapParameters"/> instead of repeating it. See docs/protocol.md.
    ///
    /// <para>Channels. Session → child: stdin carries one CLIXML payload (a hashtable: Protocol version, Start, Script,
    /// Args, Using, HasInput, Input, Mode). Child → session: the records channel — fd 3, a pipe of its own — carries
    /// frames; stdout and stderr stay the child's plain text streams, so nothing the child's own code writes
    /// (<c>[Console]::Write</c>, <c>$Host.UI.Write</c>, a native program inheriting stdout) can corrupt a record.
    /// A platform without a records pipe falls back to frames on stdout (<see cref="RecordsOnStdout"/>).</para>
    ///
    /// <para>Frame: one line, <c>RS "PK" version SP tag SP body</c> (RS = U+001E, never produced by formatting). The
    /// body of a CLIXML frame is the UTF-8 CLIXML of one object, base64 (so it has no newline); primitive frames carry
    /// invariant text. Tags (one character; a receiver ignores a tag it does not know, which is how frames are added
    /// without a version bump; a changed meaning of a tag bumps <see cref="Version"/>):</para>
    /// <list type="bullet">
    /// <item><c>O</c> output object (CLIXML); <c>S</c> single-line string; <c>i</c> int; <c>l</c> long; <c>d</c> double
    /// ("R" format); <c>b</c> bool.</item>
    /// <item><c>E</c> ErrorRecord, <c>W</c> WarningRecord, <c>V</c> VerboseRecord, <c>D</c> DebugRecord,
    /// <c>I</c> InformationRecord (whole: Source, Tags, HostInformationMessage with NoNewLine), <c>P</c> ProgressRecord
    /// — all CLIXML.</item>
    /// <item><c>L</c> log record: <c>L level message</c> (Python's numeric level), relayed into the session's log
    /// under the child's name and pid; never reaches the output.</item>
    /// <item>Reserved for the long-lived worker (pool, warm hosts), defined here so the child side can grow into them:
    /// <c>T</c> start (session → worker; CLIXML hashtable Name, Environment (name → value, $null removes),
    /// Location: what a pre-started host takes on before it runs anything — the payload's Start entry uses the same
    /// shape today), <c>Q</c> request (session → worker; CLIXML hashtable Id, Script, Args, Using, Input),
    /// <c>R</c> response end (worker → session; <c>R id status</c>: every record framed between a <c>Q</c> and its
    /// <c>R</c> belongs to that request; status is <c>ok</c> or <c>failed</c>), <c>X</c> exit (either side:
    /// the worker finishes its current request and ends).</item>
    /// </list>
    /// </summary>
    public static class ChildProtocol
    {
        /// <summary>Version 2: records moved from stdout to fd 3, progress frames, the start entry. Version 1 framed on
        /// stdout with the prefix "RS PK1".</summary>
        public const int Version = 2;

        /// <summary>Start of every frame line.</summary>
        public static readonly string FramePrefix = "\u001ePK" + Version.ToString(CultureInfo.InvariantCulture) + " ";

        /// <summary>The child's descriptor for frames (a pipe set up by the spawner; stdin/stdout/stderr are 0–2).</summary>
        public const int RecordsDescriptor = 3;

        /// <summary>A pool worker's descriptor for requests (the session writes frames to it over time); its stdin stays
        /// /dev/null, so an item that reads stdin (a native program, [Console]::In) reads end of file, never a frame.</summary>
        public const int RequestsDescriptor = 4;

        /// <summary>The environment variable that tells a worker its requests descriptor (unset: requests on stdin, as
        /// over an ssh connection).</summary>
        public const string RequestsVariable = "PROCESSKIT_REQUESTS_FD";

        /// <summary>Serialization depth of arguments, $using: values and output. Start-Job uses 1; 2 keeps one more
        /// level (an object's properties' properties), at a cost still small for ordinary records.</summary>
        public const int SerializationDepth = 2;

        /// <summary>The frame tags (see the type's comment).</summary>
        public static class Tags
        {
            public const char Output = 'O';
            public const char String = 'S';
            public const char Int = 'i';
            public const char Long = 'l';
            public const char Double = 'd';
            public const char Bool = 'b';
            public const char Error = 'E';
            public const char Warning = 'W';
            public const char Verbose = 'V';
            public const char Debug = 'D';
            public const char Information = 'I';
            public const char Progress = 'P';
            public const char Log = 'L';
            public const char Start = 'T';
            public const char Request = 'Q';
            public const char Response = 'R';
            public const char Exit = 'X';
        }

        /// <summary>How the child writes its records (the payload's Mode).</summary>
        public static class Modes
        {
            /// <summary>Frames on fd 3; stdout/stderr plain text.</summary>
            public const string Records = "records";

            /// <summary>Frames on stdout (a platform without the records pipe).</summary>
            public const string RecordsOnStdout = "stdout";

            /// <summary>No frames: output formatted by the child's host as at a prompt, errors once each to stderr, log
            /// records to stderr in <see cref="LogLineFormat"/> (-UseConsole, stdout redirected to a file).</summary>
            public const string Plain = "plain";
        }

        /// <summary>Python's <c>log_to_stderr</c> format, <c>[LEVEL/ProcessName] message</c>: {0} level name, {1} process
        /// name, {2} message. The session's own log and the child's plain-mode log both use it.</summary>
        public const string LogLineFormat = "[{0}/{1}] {2}";

        /// <summary>One log line in <see cref="LogLineFormat"/>.</summary>
        public static string FormatLogLine(LogLevel level, string processName, string message) =>
            string.Format(CultureInfo.InvariantCulture, LogLineFormat, LogRecord.LevelName(level), processName, message);

        /// <summary>A decoded frame line: its tag and body (still encoded).</summary>
        public readonly struct Frame
        {
            public Frame(char tag, string body)
            {
                Tag = tag;
                Body = body;
            }

            public char Tag { get; }

            public string Body { get; }
        }

        /// <summary>Splits a frame line; false for a line that is not a frame of this version.</summary>
        public static bool TryParse(string line, out Frame frame)
        {
            frame = default;
            if (line is null || !line.StartsWith(FramePrefix, StringComparison.Ordinal) || line.Length < FramePrefix.Length + 1)
            {
                return false;
            }
            char tag = line[FramePrefix.Length];
            int bodyStart = FramePrefix.Length + 1;
            if (line.Length > bodyStart)
            {
                if (line[bodyStart] != ' ')
                {
                    return false; // tags are one character
                }
                bodyStart++;
            }
            frame = new Frame(tag, line.Substring(bodyStart));
            return true;
        }

        /// <summary>The status words of an <c>R id status</c> frame (the end of one pool item).</summary>
        public const string ResponseOk = "ok";
        public const string ResponseFailed = "failed";

        /// <summary>The id and outcome of a response frame's body (<c>id ok|failed</c>); false when it is not one.</summary>
        public static bool TryParseResponse(string body, out long id, out bool ok)
        {
            ok = false;
            id = -1;
            int space = body.IndexOf(' ');
            if (space <= 0 || !long.TryParse(body.AsSpan(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture, out id))
            {
                return false;
            }
            string status = body.Substring(space + 1);
            ok = status == ResponseOk;
            return ok || status == ResponseFailed;
        }

        /// <summary>A frame line for <paramref name="tag"/> with an already-encoded body.</summary>
        public static string EncodeLine(char tag, string body) => FramePrefix + tag + " " + body;

        /// <summary>A CLIXML frame: the body is the base64 of the UTF-8 CLIXML.</summary>
        public static string EncodeClixml(char tag, string clixml) => EncodeLine(tag, Convert.ToBase64String(Encoding.UTF8.GetBytes(clixml)));

        /// <summary>The CLIXML of a CLIXML frame's body; false when it is not base64.</summary>
        public static bool TryDecodeClixml(string body, out string clixml)
        {
            try
            {
                clixml = Encoding.UTF8.GetString(Convert.FromBase64String(body));
                return true;
            }
            catch (FormatException)
            {
                clixml = string.Empty;
                return false;
            }
        }

        /// <summary>A primitive frame's value (S, i, l, d, b); false for other tags or a body that does not parse.</summary>
        public static bool TryDecodePrimitive(Frame frame, out object? value)
        {
            var inv = CultureInfo.InvariantCulture;
            value = null;
            switch (frame.Tag)
            {
                case Tags.String:
                    value = frame.Body;
                    return true;
                case Tags.Int when int.TryParse(frame.Body, NumberStyles.Integer, inv, out int i):
                    value = i;
                    return true;
                case Tags.Long when long.TryParse(frame.Body, NumberStyles.Integer, inv, out long l):
                    value = l;
                    return true;
                case Tags.Double when double.TryParse(frame.Body, NumberStyles.Float, inv, out double d):
                    value = d;
                    return true;
                case Tags.Bool when bool.TryParse(frame.Body, out bool b):
                    value = b;
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>A log frame line (the child side writes the same shape).</summary>
        public static string EncodeLog(LogLevel level, string message) =>
            EncodeLine(Tags.Log, ((int)level).ToString(CultureInfo.InvariantCulture) + " " + message);

        /// <summary>Decodes a log frame; false for any other line.</summary>
        public static bool TryDecodeLog(string line, out LogLevel level, out string message)
        {
            level = default;
            message = string.Empty;
            if (!TryParse(line, out Frame f) || f.Tag != Tags.Log)
            {
                return false;
            }
            int space = f.Body.IndexOf(' ');
            if (space <= 0 || !int.TryParse(f.Body.Substring(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
                || !Enum.IsDefined(typeof(LogLevel), n))
            {
                return false;
            }
            level = (LogLevel)n;
            message = f.Body.Substring(space + 1);
            return true;
        }

        /// <summary>The line filter of a child's frame buffer: a log frame is consumed and relayed into this session's
        /// log under the child's name and pid (Python's child-process records); everything else is kept.</summary>
        public static bool TryRelayLog(string line, string childName, int childId)
        {
            if (!line.StartsWith(FramePrefix, StringComparison.Ordinal) || line.Length <= FramePrefix.Length || line[FramePrefix.Length] != Tags.Log)
            {
                return false;
            }
            if (TryDecodeLog(line, out LogLevel level, out string message))
            {
                ProcessLog.Write(level, childName, childId, message);
            }
            return true; // a malformed log frame is still not output
        }

        /// <summary>The values the child-side bootstrap is parametrised with, as PowerShell source: assignments put in
        /// front of the bootstrap text so it never repeats a constant of this type.</summary>
        public static string BootstrapParameters()
        {
            var inv = CultureInfo.InvariantCulture;
            var sb = new StringBuilder();
            sb.Append("$__pkProtocol = @{ Version = ").Append(Version.ToString(inv))
              .Append("; Prefix = \"`u{1e}PK").Append(Version.ToString(inv)).Append(' ').Append('"')
              .Append("; Depth = ").Append(SerializationDepth.ToString(inv))
              .Append("; RecordsFd = ").Append(RecordsDescriptor.ToString(inv))
              .Append("; RequestsVariable = '").Append(RequestsVariable).Append('\'')
              .Append("; LogFormat = '").Append(LogLineFormat).Append('\'')
              .Append("; LevelNames = @{ ");
            foreach (LogLevel level in Enum.GetValues(typeof(LogLevel)))
            {
                sb.Append(((int)level).ToString(inv)).Append(" = '").Append(LogRecord.LevelName(level)).Append("'; ");
            }
            sb.Append("}; Tags = @{ ");
            foreach (var field in typeof(Tags).GetFields())
            {
                sb.Append(field.Name).Append(" = [char]'").Append((char)field.GetValue(null)!).Append("'; ");
            }
            sb.Append("}; Modes = @{ Records = '").Append(Modes.Records).Append("'; RecordsOnStdout = '").Append(Modes.RecordsOnStdout)
              .Append("'; Plain = '").Append(Modes.Plain).Append("' }")
              .Append("; ResponseOk = '").Append(ResponseOk).Append("'; ResponseFailed = '").Append(ResponseFailed).Append("' }\n");
            return sb.ToString();
        }
    }
}
