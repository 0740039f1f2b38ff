using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace ProcessKit.Tests
{
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // builds executables with Unix file modes
    public sealed class ProgramLocatorTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("pk-locate").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private string Script(string relative, bool executable)
        {
            string path = Path.Combine(_dir, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "#!/bin/sh\nexit 0\n");
            if (executable)
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            return path;
        }

        private static bool IsExec(string p) => ChildSupervisor.Default.IsExecutable(p);

        [Fact]
        public void BareNameIsFoundOnPathBeforeTheCurrentDirectory()
        {
            string onPath = Script("bin/tool", executable: true);
            Script("cwd/tool", executable: true);
            Assert.Equal(onPath, ProgramLocator.Resolve("tool", Path.Combine(_dir, "cwd"), Path.Combine(_dir, "bin"), IsExec));
        }

        [Fact]
        public void BareNameFallsBackToTheCurrentDirectory()
        {
            string inCwd = Script("cwd/tool", executable: true);
            Assert.Equal(inCwd, ProgramLocator.Resolve("tool", Path.Combine(_dir, "cwd"), "/nonexistent", IsExec));
        }

        [Fact]
        public void NonExecutableOnPathIsSkippedForAnExecutableLaterOn()
        {
            Script("a/tool", executable: false);
            string b = Script("b/tool", executable: true);
            Assert.Equal(b, ProgramLocator.Resolve("tool", _dir, Path.Combine(_dir, "a") + Path.PathSeparator + Path.Combine(_dir, "b"), IsExec));
        }

        [Fact]
        public void RelativePathIsResolvedAgainstTheCurrentDirectory()
        {
            string p = Script("sub/run.sh", executable: true);
            Assert.Equal(p, ProgramLocator.Resolve("./sub/run.sh", _dir, "", IsExec));
        }

        [Fact]
        public void NotExecutableSaysPermissionDenied()
        {
            Script("plain.txt", executable: false);
            var e = Assert.Throws<ChildStartException>(() => ProgramLocator.Resolve("./plain.txt", _dir, "", IsExec));
            Assert.Contains("Permission denied", e.Message);
            Assert.Equal(13, e.OsError);
        }

        [Fact]
        public void MissingSaysNoSuchFileAndWhereItLooked()
        {
            var e = Assert.Throws<ChildStartException>(() => ProgramLocator.Resolve("no-such-program-pk", _dir, "/usr/bin", IsExec));
            Assert.Contains("No such file or directory", e.Message);
            Assert.Contains("PATH", e.Message);
            Assert.Equal(2, e.OsError);
        }

        [Fact]
        public void ADirectoryIsNotAProgram()
        {
            Directory.CreateDirectory(Path.Combine(_dir, "dir"));
            Assert.Throws<ChildStartException>(() => ProgramLocator.Resolve("./dir", _dir, "", IsExec));
        }
    }

    public class ChildEnvironmentTests
    {
        private static readonly Hashtable Session = new Hashtable { ["KEEP"] = "1", ["OVERRIDE"] = "old", ["DROP"] = "x", [ChildEnvironment.LogLevelVariable] = "10" };

        [Fact]
        public void OverridesAddReplaceAndNullRemoves()
        {
            var env = ChildEnvironment.Build(Session, new Dictionary<string, string?> { ["NEW"] = "n", ["OVERRIDE"] = "new", ["DROP"] = null }, null);
            Assert.Equal("1", env["KEEP"]);
            Assert.Equal("n", env["NEW"]);
            Assert.Equal("new", env["OVERRIDE"]);
            Assert.False(env.ContainsKey("DROP"));
        }

        [Fact]
        public void LogLevelIsHandedOnOnlyWhenAsked()
        {
            Assert.False(ChildEnvironment.Build(Session, null, null).ContainsKey(ChildEnvironment.LogLevelVariable));
            Assert.Equal("20", ChildEnvironment.Build(Session, null, LogLevel.Info)[ChildEnvironment.LogLevelVariable]);
        }

        [Theory]
        [InlineData("")]
        [InlineData("A=B")]
        public void InvalidNamesAreRefused(string name)
        {
            Assert.Throws<ChildStartException>(() => ChildEnvironment.Build(Session, new Dictionary<string, string?> { [name] = "v" }, null));
        }
    }
}
