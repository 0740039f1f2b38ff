using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace ProcessKit.Windows
{
    /// <summary>What the platform keeps of a freshly started child: its id, a handle to wait on and read the exit
    /// code from, and its job.</summary>
    [SupportedOSPlatform("windows")]
    internal sealed class SpawnedProcess
    {
        public SpawnedProcess(int pid, SafeProcessHandle process, SafeKernelHandle job)
        {
            Pid = pid;
            Process = process;
            Job = job;
        }

        public int Pid { get; }
        public SafeProcessHandle Process { get; }
        public SafeKernelHandle Job { get; }
    }

    /// <summary>CreateProcessW as job-object supervisors (ProcessEx, swift-subprocess) use it: a job is created first,
    /// the child is created suspended, assigned to the job, and only then resumed, so neither it nor anything it
    /// starts ever runs outside the job. Only the child's own standard handles are inherited
    /// (PROC_THREAD_ATTRIBUTE_HANDLE_LIST); the child leads a new console process group (CREATE_NEW_PROCESS_GROUP),
    /// so Ctrl+C at the prompt does not reach it and CTRL_BREAK can be aimed at it alone.</summary>
    [SupportedOSPlatform("windows")]
    internal static unsafe class WindowsSpawner
    {
        public static SpawnedProcess Spawn(string name, SpawnRequest request, ChildStdio stdio)
        {
            var (application, commandLine) = WindowsCommandLine.Build(request.FileName, request.Arguments);
            string environment = EnvironmentBlock(request, name);
            SafeKernelHandle job = CreateJob(request.Daemon);
            try
            {
                Kernel32.PROCESS_INFORMATION info = CreateSuspended(request, application, commandLine, environment, stdio);
                var process = new SafeProcessHandle(info.hProcess, ownsHandle: true);
                // The thread handle is needed only to resume the child; it is closed at once, not kept until exit.
                using (var thread = new SafeKernelHandle(info.hThread))
                {
                    try
                    {
                        AssignToJob(job, process, request.FileName);
                        Resume(thread, request.FileName);
                    }
                    catch
                    {
                        Kernel32.TerminateProcess(process, 1); // still suspended: it never ran a line of its own
                        process.Dispose();
                        throw;
                    }
                }
                return new SpawnedProcess(info.dwProcessId, process, job);
            }
            catch
            {
                job.Dispose();
                throw;
            }
        }

        /// <summary>One job per child, so Stop can end the child's whole tree (TerminateJobObject), as kill(-pgid)
        /// does on Unix. A daemon's job also has JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: this process holds the only
        /// handle (not inheritable, and no child inherits anything but its stdio), so when this process ends, however
        /// it ends (exit, crash, TerminateProcess), the kernel closes the handle and ends every process in the job.
        /// That is the Windows lifeline: no guardian process is needed. Breakaway is not allowed (no
        /// JOB_OBJECT_LIMIT_BREAKAWAY_OK / SILENT_BREAKAWAY_OK), so nothing the child starts can leave the job.</summary>
        private static SafeKernelHandle CreateJob(bool daemon)
        {
            SafeKernelHandle job = Kernel32.CreateJobObjectW(IntPtr.Zero, null);
            if (job.IsInvalid)
            {
                int error = Marshal.GetLastPInvokeError();
                job.Dispose();
                throw ChildStdio.Failure("Cannot create a job object for the child", error);
            }
            if (daemon)
            {
                var limits = new Kernel32.JOBOBJECT_EXTENDED_LIMIT_INFORMATION();
                limits.BasicLimitInformation.LimitFlags = Kernel32.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                if (!Kernel32.SetInformationJobObject(job, Kernel32.JobObjectExtendedLimitInformation, &limits, (uint)sizeof(Kernel32.JOBOBJECT_EXTENDED_LIMIT_INFORMATION)))
                {
                    int error = Marshal.GetLastPInvokeError();
                    job.Dispose();
                    throw ChildStdio.Failure("Cannot make the daemon's job end with the session", error);
                }
            }
            return job;
        }

        private static Kernel32.PROCESS_INFORMATION CreateSuspended(SpawnRequest request, string application, string commandLine, string environment, ChildStdio stdio)
        {
            IntPtr[] inherited = stdio.InheritedHandles;
            IntPtr handleList = Marshal.AllocHGlobal(IntPtr.Size * inherited.Length);
            IntPtr attributes = IntPtr.Zero;
            bool attributesInitialized = false;
            try
            {
                Marshal.Copy(inherited, 0, handleList, inherited.Length);
                attributes = AllocateAttributeList();
                attributesInitialized = true;
                // The list points at handleList (it is not copied): both stay alive until CreateProcess returned.
                if (!Kernel32.UpdateProcThreadAttribute(attributes, 0, Kernel32.PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handleList,
                        (IntPtr)(IntPtr.Size * inherited.Length), IntPtr.Zero, IntPtr.Zero))
                {
                    throw ChildStdio.Failure("Cannot limit the handles the child inherits", Marshal.GetLastPInvokeError());
                }

                var startup = new Kernel32.STARTUPINFOEXW();
                startup.StartupInfo.cb = sizeof(Kernel32.STARTUPINFOEXW);
                startup.StartupInfo.dwFlags = Kernel32.STARTF_USESTDHANDLES;
                startup.StartupInfo.hStdInput = stdio.Input;
                startup.StartupInfo.hStdOutput = stdio.Output;
                startup.StartupInfo.hStdError = stdio.Error;
                startup.lpAttributeList = attributes;

                uint flags = Kernel32.CREATE_SUSPENDED | Kernel32.CREATE_NEW_PROCESS_GROUP | Kernel32.CREATE_UNICODE_ENVIRONMENT
                    | Kernel32.EXTENDED_STARTUPINFO_PRESENT;
                if (Kernel32.GetConsoleCP() == 0)
                {
                    // This session has no console (a service, a GUI host): without this flag every console child
                    // would open a console window of its own.
                    flags |= Kernel32.CREATE_NO_WINDOW;
                }

                var info = new Kernel32.PROCESS_INFORMATION();
                char[] mutableCommandLine = (commandLine + "\0").ToCharArray(); // CreateProcessW may write into it
                bool created;
                fixed (char* cmd = mutableCommandLine)
                fixed (char* env = environment)
                {
                    created = Kernel32.CreateProcessW(application, cmd, IntPtr.Zero, IntPtr.Zero, bInheritHandles: true, flags, env,
                        request.WorkingDirectory, &startup, &info);
                }
                if (!created)
                {
                    int error = Marshal.GetLastPInvokeError();
                    throw ChildStdio.Failure($"Cannot start '{request.FileName}'", error);
                }
                return info;
            }
            finally
            {
                if (attributesInitialized)
                {
                    Kernel32.DeleteProcThreadAttributeList(attributes);
                }
                if (attributes != IntPtr.Zero)
                {
                    Marshal.FreeHGlobal(attributes);
                }
                Marshal.FreeHGlobal(handleList);
            }
        }

        /// <summary>An initialized attribute list with room for one attribute (the handle list). The first call only
        /// asks for the size and fails by design.</summary>
        private static IntPtr AllocateAttributeList()
        {
            IntPtr size = IntPtr.Zero;
            Kernel32.InitializeProcThreadAttributeList(IntPtr.Zero, 1, 0, ref size);
            if (size == IntPtr.Zero)
            {
                throw ChildStdio.Failure("Cannot size the child's attribute list", Marshal.GetLastPInvokeError());
            }
            IntPtr list = Marshal.AllocHGlobal(size);
            if (!Kernel32.InitializeProcThreadAttributeList(list, 1, 0, ref size))
            {
                int error = Marshal.GetLastPInvokeError();
                Marshal.FreeHGlobal(list);
                throw ChildStdio.Failure("Cannot initialize the child's attribute list", error);
            }
            return list;
        }

        private static void AssignToJob(SafeKernelHandle job, SafeProcessHandle process, string fileName)
        {
            if (!Kernel32.AssignProcessToJobObject(job, process))
            {
                throw ChildStdio.Failure($"Cannot start '{fileName}': cannot put it in a job object", Marshal.GetLastPInvokeError());
            }
        }

        private static void Resume(SafeKernelHandle thread, string fileName)
        {
            if (Kernel32.ResumeThread(thread) == uint.MaxValue)
            {
                throw ChildStdio.Failure($"Cannot start '{fileName}': cannot resume it", Marshal.GetLastPInvokeError());
            }
        }

        /// <summary>The Unicode environment block: <c>NAME=value\0</c> per variable, sorted by name without regard to
        /// case (as CreateProcess documents), then one more <c>\0</c>. Names are case-insensitive on Windows, so a
        /// later duplicate that differs only in case replaces the earlier one. The ProcessKit variables are always set,
        /// as on Unix.</summary>
        internal static string EnvironmentBlock(SpawnRequest request, string name)
        {
            var variables = ChildEnvironment.ForChild(request.Environment, name); // case-insensitive names on Windows

            var names = new List<string>(variables.Keys);
            names.Sort(StringComparer.OrdinalIgnoreCase);
            var block = new StringBuilder();
            foreach (string key in names)
            {
                string value = variables[key];
                if (key.IndexOf('\0') >= 0 || value.IndexOf('\0') >= 0)
                {
                    throw new ChildStartException($"The environment variable '{key.Replace("\0", "")}' contains a NUL character, which Windows cannot pass to a child.");
                }
                block.Append(key).Append('=').Append(value).Append('\0');
            }
            if (names.Count == 0)
            {
                block.Append('\0'); // an empty block is still two NULs
            }
            block.Append('\0');
            return block.ToString();
        }
    }
}
