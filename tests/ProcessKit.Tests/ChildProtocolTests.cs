using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using ProcessKit.Commands;
using Xunit;

namespace ProcessKit.Tests
{
    /// <summary>The protocol type's encoding and decoding, and the bootstrap taking on the start entry.</summary>
    public class ChildProtocolTests
    {
        [Fact]
        public void FramePrefixCarriesTheVersion()
        {
            Assert.Equal("\u001ePK" + ChildProtocol.Version + " ", ChildProtocol.FramePrefix);
        }

        [Fact]
        public void ClixmlFrameRoundTrips()
        {
            string xml = "<Objs><S>ünïcödé\nline</S></Objs>";
            string line = ChildProtocol.EncodeClixml(ChildProtocol.Tags.Output, xml);
            Assert.DoesNotContain('\n', line);
            Assert.True(ChildProtocol.TryParse(line, out var frame));
            Assert.Equal(ChildProtocol.Tags.Output, frame.Tag);
            Assert.True(ChildProtocol.TryDecodeClixml(frame.Body, out string back));
            Assert.Equal(xml, back);
        }

        [Theory]
        [InlineData('i', "42", 42)]
        [InlineData('l', "9000000000", 9000000000L)]
        [InlineData('b', "True", true)]
        [InlineData('S', "text with spaces", "text with spaces")]
        public void PrimitiveFramesDecode(char tag, string body, object expected)
        {
            Assert.True(ChildProtocol.TryParse(ChildProtocol.EncodeLine(tag, body), out var frame));
            Assert.True(ChildProtocol.TryDecodePrimitive(frame, out object? value));
            Assert.Equal(expected, value);
        }

        [Fact]
        public void OtherVersionsAndPlainTextAreNotFrames()
        {
            Assert.False(ChildProtocol.TryParse("\u001ePK1 S old", out _));
            Assert.False(ChildProtocol.TryParse("50% done", out _));
            Assert.False(ChildProtocol.TryParse(ChildProtocol.FramePrefix + "SS two-letter tag", out _));
        }

        [Fact]
        public void LogFrameRoundTripsAndIsConsumedByTheRelay()
        {
            string line = ChildProtocol.EncodeLog(LogLevel.Warning, "child said so");
            Assert.True(ChildProtocol.TryDecodeLog(line, out LogLevel level, out string message));
            Assert.Equal(LogLevel.Warning, level);
            Assert.Equal("child said so", message);
            Assert.True(ChildProtocol.TryRelayLog(line, "c", 1));
            Assert.False(ChildProtocol.TryRelayLog(ChildProtocol.EncodeLine(ChildProtocol.Tags.String, "x"), "c", 1));
        }

        [Fact]
        public void LogLineFormatIsPythons()
        {
            Assert.Equal("[INFO/worker] hello", ChildProtocol.FormatLogLine(LogLevel.Info, "worker", "hello"));
            Assert.Equal("[INFO/worker] hello", new LogRecord(DateTime.Now, LogLevel.Info, "worker", 1, "hello").ToString());
        }

        [Fact]
        public void BootstrapIsTheEmbeddedResourceParametrisedByTheProtocol()
        {
            string bootstrap = ScriptBlockLauncher.Bootstrap;
            Assert.StartsWith("$__pkProtocol = @{ Version = " + ChildProtocol.Version, bootstrap);
            Assert.Contains("__pkFrame", bootstrap);
            Assert.DoesNotContain("PK1", bootstrap);
            Assert.DoesNotContain("PK" + ChildProtocol.Version, bootstrap.Substring(bootstrap.IndexOf('\n')));
        }

        /// <summary>A host takes on the start entry (name, environment with removals, location) before it runs the script:
        /// the bootstrap run directly, in plain mode, with a payload that carries one.</summary>
        [Fact]
        public void BootstrapTakesOnTheStartEntry()
        {
            if (OperatingSystem.IsWindows())
            {
                return;
            }
            string dir = Path.GetTempPath().TrimEnd('/');
            var env = new Dictionary<string, string?> { ["PK_START_SET"] = "set-value", ["PK_START_GONE"] = null };
            Hashtable start = ScriptBlockLauncher.StartEntry("warm-1", env, dir);
            byte[] payload;
            using (var rs = System.Management.Automation.Runspaces.RunspaceFactory.CreateRunspace(System.Management.Automation.Runspaces.InitialSessionState.CreateDefault2()))
            {
                rs.Open();
                using var ps = PowerShell.Create();
                ps.Runspace = rs;
                ps.AddScript("{ \"$env:PROCESSKIT_NAME|$env:PK_START_SET|$([bool](Test-Path env:PK_START_GONE))|$((Get-Location).Path)\" }, $ExecutionContext.SessionState");
                var results = ps.Invoke();
                var block = (ScriptBlock)results[0].BaseObject;
                var session = (SessionState)results[1].BaseObject;
                payload = ScriptBlockLauncher.Payload(block, null, null, ChildProtocol.Modes.Plain, session, start);
            }
            var (_, launcherArgs) = ScriptBlockLauncher.PwshCommand();
            var (file, args) = FindPwsh();
            args.AddRange(launcherArgs.GetRange(launcherArgs.Count - 7, 7)); // -NoProfile … -EncodedCommand <bootstrap>
            var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }
            psi.Environment["PK_START_GONE"] = "present";
            psi.Environment["PROCESSKIT_NAME"] = "spawned-name";
            using var p = Process.Start(psi)!;
            p.StandardInput.BaseStream.Write(payload);
            p.StandardInput.Close();
            string output = p.StandardOutput.ReadToEnd();
            string error = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(120_000));
            Assert.True(p.ExitCode == 0, error);
            Assert.Equal($"warm-1|set-value|False|{dir}", output.Trim());
        }

        /// <summary>The test host is not pwsh: use the pwsh of the repository's dotnet tool (dotnet pwsh.dll), or one on PATH.</summary>
        private static (string File, List<string> Args) FindPwsh()
        {
            string packages = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "powershell");
            if (Directory.Exists(packages))
            {
                foreach (string dll in Directory.EnumerateFiles(packages, "pwsh.dll", SearchOption.AllDirectories))
                {
                    if (dll.Contains($"{Path.DirectorySeparatorChar}unix{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                    {
                        return ("dotnet", new List<string> { dll });
                    }
                }
            }
            return ("pwsh", new List<string>());
        }
    }
}
