using System;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace ProcessKit.Windows
{
    /// <summary>A kernel handle closed with CloseHandle: job objects and thread handles
    /// (processes use <see cref="SafeProcessHandle"/>, files and pipes <see cref="SafeFileHandle"/>).</summary>
    [SupportedOSPlatform("windows")]
    internal sealed class SafeKernelHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        /// <summary>For the marshaller, which fills in the handle a function returns.</summary>
        public SafeKernelHandle()
            : base(ownsHandle: true)
        {
        }

        internal SafeKernelHandle(IntPtr existing)
            : base(ownsHandle: true)
        {
            SetHandle(existing);
        }

        protected override bool ReleaseHandle() => Kernel32.CloseHandle(handle);
    }

    /// <summary>Every kernel32 call ProcessKit makes on Windows, in one place, named as the Win32 API names them.
    /// Structures are declared with the field names and order of the Windows SDK; sequential layout gives the
    /// SDK's alignment on both 32- and 64-bit processes.</summary>
    [SupportedOSPlatform("windows")]
    internal static unsafe class Kernel32
    {
        private const string Lib = "kernel32.dll";

        // CreateProcessW dwCreationFlags
        internal const uint CREATE_SUSPENDED = 0x00000004;
        internal const uint CREATE_NEW_PROCESS_GROUP = 0x00000200;
        internal const uint CREATE_UNICODE_ENVIRONMENT = 0x00000400;
        internal const uint EXTENDED_STARTUPINFO_PRESENT = 0x00080000;
        internal const uint CREATE_NO_WINDOW = 0x08000000;

        // STARTUPINFOW.dwFlags
        internal const int STARTF_USESTDHANDLES = 0x00000100;

        /// <summary>ProcThreadAttributeValue(2, FALSE, TRUE, FALSE): the handles a child may inherit.</summary>
        internal static readonly IntPtr PROC_THREAD_ATTRIBUTE_HANDLE_LIST = (IntPtr)0x00020002;

        // GetStdHandle
        internal const int STD_INPUT_HANDLE = -10;
        internal const int STD_OUTPUT_HANDLE = -11;
        internal const int STD_ERROR_HANDLE = -12;

        // Access rights, sharing, dispositions (CreateFileW, CreateNamedPipeW)
        internal const uint GENERIC_READ = 0x80000000;
        internal const uint GENERIC_WRITE = 0x40000000;
        internal const uint FILE_READ_ATTRIBUTES = 0x00000080;
        internal const uint FILE_WRITE_ATTRIBUTES = 0x00000100;
        internal const uint SYNCHRONIZE = 0x00100000;
        internal const uint FILE_SHARE_READ = 0x00000001;
        internal const uint FILE_SHARE_WRITE = 0x00000002;
        internal const uint FILE_SHARE_DELETE = 0x00000004;
        internal const uint CREATE_ALWAYS = 2;
        internal const uint OPEN_EXISTING = 3;
        internal const uint FILE_ATTRIBUTE_NORMAL = 0x00000080;
        internal const uint FILE_FLAG_OVERLAPPED = 0x40000000;
        internal const uint FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000;
        internal const uint PIPE_ACCESS_INBOUND = 0x00000001;
        internal const uint PIPE_ACCESS_OUTBOUND = 0x00000002;
        internal const uint PIPE_TYPE_BYTE = 0x00000000;
        internal const uint PIPE_READMODE_BYTE = 0x00000000;
        internal const uint PIPE_WAIT = 0x00000000;
        internal const uint PIPE_REJECT_REMOTE_CLIENTS = 0x00000008;

        // DuplicateHandle
        internal const uint DUPLICATE_SAME_ACCESS = 0x00000002;

        // GenerateConsoleCtrlEvent
        internal const uint CTRL_BREAK_EVENT = 1;

        // Job objects
        internal const int JobObjectExtendedLimitInformation = 9;
        internal const uint JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000;

        // Error codes
        internal const int ERROR_INSUFFICIENT_BUFFER = 122;

        [StructLayout(LayoutKind.Sequential)]
        internal struct SECURITY_ATTRIBUTES
        {
            public int nLength;
            public IntPtr lpSecurityDescriptor;
            public int bInheritHandle;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct STARTUPINFOW
        {
            public int cb;
            public IntPtr lpReserved;
            public IntPtr lpDesktop;
            public IntPtr lpTitle;
            public int dwX;
            public int dwY;
            public int dwXSize;
            public int dwYSize;
            public int dwXCountChars;
            public int dwYCountChars;
            public int dwFillAttribute;
            public int dwFlags;
            public short wShowWindow;
            public short cbReserved2;
            public IntPtr lpReserved2;
            public IntPtr hStdInput;
            public IntPtr hStdOutput;
            public IntPtr hStdError;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct STARTUPINFOEXW
        {
            public STARTUPINFOW StartupInfo;
            public IntPtr lpAttributeList;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct PROCESS_INFORMATION
        {
            public IntPtr hProcess;
            public IntPtr hThread;
            public int dwProcessId;
            public int dwThreadId;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct JOBOBJECT_BASIC_LIMIT_INFORMATION
        {
            public long PerProcessUserTimeLimit;
            public long PerJobUserTimeLimit;
            public uint LimitFlags;
            public UIntPtr MinimumWorkingSetSize;
            public UIntPtr MaximumWorkingSetSize;
            public uint ActiveProcessLimit;
            public UIntPtr Affinity;
            public uint PriorityClass;
            public uint SchedulingClass;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct IO_COUNTERS
        {
            public ulong ReadOperationCount;
            public ulong WriteOperationCount;
            public ulong OtherOperationCount;
            public ulong ReadTransferCount;
            public ulong WriteTransferCount;
            public ulong OtherTransferCount;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct JOBOBJECT_EXTENDED_LIMIT_INFORMATION
        {
            public JOBOBJECT_BASIC_LIMIT_INFORMATION BasicLimitInformation;
            public IO_COUNTERS IoInfo;
            public UIntPtr ProcessMemoryLimit;
            public UIntPtr JobMemoryLimit;
            public UIntPtr PeakProcessMemoryUsed;
            public UIntPtr PeakJobMemoryUsed;
        }

        // Processes

        [DllImport(Lib, SetLastError = true, CharSet = CharSet.Unicode, ExactSpelling = true)]
        internal static extern bool CreateProcessW(
            string? lpApplicationName,
            char* lpCommandLine,
            IntPtr lpProcessAttributes,
            IntPtr lpThreadAttributes,
            bool bInheritHandles,
            uint dwCreationFlags,
            char* lpEnvironment,
            string? lpCurrentDirectory,
            STARTUPINFOEXW* lpStartupInfo,
            PROCESS_INFORMATION* lpProcessInformation);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern uint ResumeThread(SafeKernelHandle hThread);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool TerminateProcess(SafeProcessHandle hProcess, uint uExitCode);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool GetExitCodeProcess(SafeProcessHandle hProcess, out uint lpExitCode);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool InitializeProcThreadAttributeList(IntPtr lpAttributeList, int dwAttributeCount, int dwFlags, ref IntPtr lpSize);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool UpdateProcThreadAttribute(IntPtr lpAttributeList, uint dwFlags, IntPtr attribute, IntPtr lpValue, IntPtr cbSize, IntPtr lpPreviousValue, IntPtr lpReturnSize);

        [DllImport(Lib, ExactSpelling = true)]
        internal static extern void DeleteProcThreadAttributeList(IntPtr lpAttributeList);

        // Job objects

        [DllImport(Lib, SetLastError = true, CharSet = CharSet.Unicode, ExactSpelling = true)]
        internal static extern SafeKernelHandle CreateJobObjectW(IntPtr lpJobAttributes, string? lpName);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool SetInformationJobObject(SafeKernelHandle hJob, int jobObjectInformationClass, void* lpJobObjectInformation, uint cbJobObjectInformationLength);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool AssignProcessToJobObject(SafeKernelHandle hJob, SafeProcessHandle hProcess);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool TerminateJobObject(SafeKernelHandle hJob, uint uExitCode);

        // Files, pipes, handles

        [DllImport(Lib, SetLastError = true, CharSet = CharSet.Unicode, ExactSpelling = true)]
        internal static extern SafeFileHandle CreateFileW(
            string lpFileName,
            uint dwDesiredAccess,
            uint dwShareMode,
            SECURITY_ATTRIBUTES* lpSecurityAttributes,
            uint dwCreationDisposition,
            uint dwFlagsAndAttributes,
            IntPtr hTemplateFile);

        [DllImport(Lib, SetLastError = true, CharSet = CharSet.Unicode, ExactSpelling = true)]
        internal static extern SafeFileHandle CreateNamedPipeW(
            string lpName,
            uint dwOpenMode,
            uint dwPipeMode,
            uint nMaxInstances,
            uint nOutBufferSize,
            uint nInBufferSize,
            uint nDefaultTimeOut,
            IntPtr lpSecurityAttributes);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern IntPtr GetStdHandle(int nStdHandle);

        [DllImport(Lib, ExactSpelling = true)]
        internal static extern IntPtr GetCurrentProcess();

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool DuplicateHandle(
            IntPtr hSourceProcessHandle,
            IntPtr hSourceHandle,
            IntPtr hTargetProcessHandle,
            out IntPtr lpTargetHandle,
            uint dwDesiredAccess,
            bool bInheritHandle,
            uint dwOptions);

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool CloseHandle(IntPtr hObject);

        // Consoles

        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern bool GenerateConsoleCtrlEvent(uint dwCtrlEvent, uint dwProcessGroupId);

        /// <summary>0 when this process has no console (the documented failure), so it tells whether one is attached.</summary>
        [DllImport(Lib, SetLastError = true, ExactSpelling = true)]
        internal static extern uint GetConsoleCP();
    }
}
