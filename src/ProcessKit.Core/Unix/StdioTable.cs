using System;
using System.Collections.Generic;
using System.Linq;

namespace ProcessKit.Unix
{
    /// <summary>The child's descriptor table, one entry per child descriptor (0, 1, 2, and any extra ones), described
    /// once in one place. <see cref="UnixSpawner"/> turns it into posix_spawn file actions; descriptors not named here
    /// are closed in the child.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed class StdioTable
    {
        internal enum SlotKind
        {
            /// <summary>/dev/null, opened for reading (fd 0) or writing.</summary>
            Null,
            /// <summary>The session's own descriptor of the same number (the console).</summary>
            Inherit,
            /// <summary>A pipe: the child writes, we read (captured output).</summary>
            CapturedPipe,
            /// <summary>A pipe: we write, the child reads (stdin fed by us, or a lifeline).</summary>
            FedPipe,
            /// <summary>A file opened (created, truncated) for writing.</summary>
            File,
            /// <summary>The same open file as a lower child descriptor (stderr to stdout's file).</summary>
            SameAs,
            /// <summary>A descriptor of ours, duplicated into the child (e.g. a pipe's read end handed on).</summary>
            Descriptor,
        }

        internal sealed class Slot
        {
            public Slot(SlotKind kind, string? path = null, int sameAs = -1, FileDescriptor? source = null)
            {
                Kind = kind;
                Path = path;
                SameAs = sameAs;
                Source = source;
            }

            public SlotKind Kind { get; }
            public string? Path { get; }
            public int SameAs { get; }
            public FileDescriptor? Source { get; }
        }

        private readonly SortedDictionary<int, Slot> _slots = new SortedDictionary<int, Slot>();

        /// <summary>Entries in ascending child descriptor order (a SameAs entry refers to a lower, earlier one).</summary>
        internal IEnumerable<KeyValuePair<int, Slot>> Slots => _slots;

        /// <summary>One past the highest child descriptor named: everything from here up is closed in the child.</summary>
        internal int Count => _slots.Count == 0 ? 3 : Math.Max(3, _slots.Keys.Max() + 1);

        /// <summary>True when <paramref name="fd"/> has an entry.</summary>
        internal bool Names(int fd) => _slots.ContainsKey(fd);

        public StdioTable Null(int fd) => Set(fd, new Slot(SlotKind.Null));

        public StdioTable Inherit(int fd) => Set(fd, new Slot(SlotKind.Inherit));

        public StdioTable Captured(int fd) => Set(fd, new Slot(SlotKind.CapturedPipe));

        public StdioTable Fed(int fd) => Set(fd, new Slot(SlotKind.FedPipe));

        public StdioTable File(int fd, string path) => Set(fd, new Slot(SlotKind.File, path));

        public StdioTable SameAs(int fd, int lowerFd)
        {
            if (lowerFd >= fd || !_slots.ContainsKey(lowerFd))
            {
                throw new ArgumentException($"descriptor {fd} can only share a lower descriptor already in the table", nameof(lowerFd));
            }
            return Set(fd, new Slot(SlotKind.SameAs, sameAs: lowerFd));
        }

        /// <summary>A descriptor of ours (null: /dev/null in its place).</summary>
        public StdioTable From(int fd, FileDescriptor? source) =>
            Set(fd, source is null ? new Slot(SlotKind.Null) : new Slot(SlotKind.Descriptor, source: source));

        private StdioTable Set(int fd, Slot slot)
        {
            _slots[fd] = slot;
            return this;
        }
    }
}
