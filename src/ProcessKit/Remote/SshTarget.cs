using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;

namespace ProcessKit.Remote
{
    /// <summary>Where and how to reach a remote host with the <c>ssh</c> client: <c>[user@]host[:port]</c> and the
    /// -UserName/-Port/-KeyFilePath/-SSHOption/-ConnectTimeout parameters, turned into ssh's argv.</summary>
    internal sealed class SshTarget
    {
        /// <summary>Issue 12: an unreachable host is reported within this by default (ssh's ConnectTimeout).</summary>
        internal const int DefaultConnectTimeoutSeconds = 10;

        /// <summary>The ssh parameters that mean something only with -HostName (Start-ChildProcess, New-ChildProcessPool).</summary>
        private static readonly string[] RemoteOnlyParameters = { "UserName", "Port", "KeyFilePath", "SSHOption", "RemotePwsh", "ConnectTimeout" };

        /// <summary>The first of those given without -HostName (null: none), for the caller's "applies only to" error.</summary>
        internal static string? StrayRemoteOnlyParameter(System.Collections.Generic.IDictionary<string, object> bound) =>
            System.Linq.Enumerable.FirstOrDefault(RemoteOnlyParameters, bound.ContainsKey);

        /// <summary>A live connection whose peer stopped answering is given up after Interval × CountMax seconds, so
        /// a host that vanishes fails its child (and its pool items) in bounded time rather than at TCP's pace.</summary>
        private const int ServerAliveIntervalSeconds = 5;
        private const int ServerAliveCountMax = 3;

        public SshTarget(string hostName, string? userName, int? port, string? keyFilePath, IDictionary? options, int connectTimeoutSeconds)
        {
            string host = hostName.Trim();
            int at = host.LastIndexOf('@');
            if (at >= 0)
            {
                userName ??= host.Substring(0, at);
                host = host.Substring(at + 1);
            }
            if (host.StartsWith("[", StringComparison.Ordinal) && host.IndexOf(']') is int close && close > 0)
            {
                // [::1]:2222 or [::1]
                string rest = host.Substring(close + 1);
                host = host.Substring(1, close - 1);
                if (rest.StartsWith(":", StringComparison.Ordinal))
                {
                    port ??= ParsePort(rest.Substring(1), hostName);
                }
            }
            else if (host.IndexOf(':') is int colon && colon > 0 && host.IndexOf(':', colon + 1) < 0)
            {
                port ??= ParsePort(host.Substring(colon + 1), hostName);
                host = host.Substring(0, colon);
            }
            if (host.Length == 0 || host.StartsWith("-", StringComparison.Ordinal) || host.Any(char.IsWhiteSpace))
            {
                throw new ChildStartException($"'{hostName}' is not a host name ([user@]host[:port]).");
            }
            Host = host;
            UserName = string.IsNullOrEmpty(userName) ? null : userName;
            Port = port;
            KeyFilePath = keyFilePath;
            ConnectTimeoutSeconds = connectTimeoutSeconds;
            if (options != null)
            {
                foreach (DictionaryEntry e in options)
                {
                    string key = LanguagePrimitives.ConvertTo<string>(e.Key);
                    object? raw = e.Value is PSObject pso ? pso.BaseObject : e.Value;
                    string value = raw is bool b ? (b ? "yes" : "no") : LanguagePrimitives.ConvertTo<string>(raw) ?? string.Empty;
                    if (string.IsNullOrWhiteSpace(key) || key.Any(c => char.IsWhiteSpace(c) || c == '='))
                    {
                        throw new ChildStartException($"'{key}' is not an ssh option name (-SSHOption takes @{{ Name = 'value' }}).");
                    }
                    Options.Add(new KeyValuePair<string, string>(key, value));
                }
            }
        }

        public string Host { get; }

        public string? UserName { get; }

        public int? Port { get; }

        public string? KeyFilePath { get; }

        public int ConnectTimeoutSeconds { get; }

        public List<KeyValuePair<string, string>> Options { get; } = new List<KeyValuePair<string, string>>();

        /// <summary>How the host is named in records and Command: user@host:port as given.</summary>
        public string Display => (UserName is null ? string.Empty : UserName + "@") + (Host.Contains(':') ? "[" + Host + "]" : Host) + (Port is int p ? ":" + p.ToString(CultureInfo.InvariantCulture) : string.Empty);

        /// <summary>ssh's argv (after the program) to run <paramref name="remoteCommand"/> on the host. The user's
        /// -SSHOption values come first: ssh keeps the first value it sees of each option, so they override ours.</summary>
        public List<string> Arguments(string remoteCommand)
        {
            var args = new List<string> { "-T", "-e", "none" };
            foreach (var kv in Options)
            {
                args.Add("-o");
                args.Add(kv.Key + "=" + kv.Value);
            }
            // No prompt can be answered (stdin is the protocol): fail instead of waiting for a password.
            args.AddRange(new[] { "-o", "BatchMode=yes" });
            args.AddRange(new[] { "-o", "ConnectTimeout=" + ConnectTimeoutSeconds.ToString(CultureInfo.InvariantCulture) });
            args.AddRange(new[] { "-o", "ServerAliveInterval=" + ServerAliveIntervalSeconds.ToString(CultureInfo.InvariantCulture) });
            args.AddRange(new[] { "-o", "ServerAliveCountMax=" + ServerAliveCountMax.ToString(CultureInfo.InvariantCulture) });
            // Warnings such as "Permanently added ... to the list of known hosts" would be the child's stderr.
            args.AddRange(new[] { "-o", "LogLevel=ERROR" });
            if (Port is int port)
            {
                args.Add("-p");
                args.Add(port.ToString(CultureInfo.InvariantCulture));
            }
            if (UserName != null)
            {
                args.Add("-l");
                args.Add(UserName);
            }
            if (KeyFilePath != null)
            {
                args.Add("-i");
                args.Add(KeyFilePath);
            }
            args.Add("--");
            args.Add(Host);
            args.Add(remoteCommand);
            return args;
        }

        private static int ParsePort(string text, string hostName)
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port > 0 && port <= 65535)
            {
                return port;
            }
            throw new ChildStartException($"'{hostName}' has no valid port after ':' (1-65535).");
        }
    }
}
