using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ProcessKit.Unix
{
    /// <summary>What the event loop sleeps in: a set of descriptors, each with the object it belongs to (a capture, a
    /// child whose pidfd it is, the wake pipe). Used by the loop thread alone. Readiness is level-triggered, as poll(2)'s:
    /// a descriptor with unread data is reported again on the next wait.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal abstract class Poller
    {
        /// <summary>epoll where the kernel has it (Linux), poll(2) elsewhere (macOS).</summary>
        public static Poller Create()
        {
            if (!LibC.IsMacOS)
            {
                int epfd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
                if (epfd >= 0)
                {
                    return new EpollPoller(new FileDescriptor(epfd));
                }
            }
            return new PollPoller();
        }

        /// <summary>Watches <paramref name="fd"/> for input (end of file and errors included) until <see cref="Remove"/>.
        /// False (errno set) when the kernel refuses it (ENOMEM, the user's epoll watch limit): never an exception,
        /// since the loop thread must not die.</summary>
        public abstract bool Add(FileDescriptor fd, object owner);

        /// <summary>Stops watching <paramref name="fd"/>; called before it is closed.</summary>
        public abstract void Remove(FileDescriptor fd);

        /// <summary>Sleeps until a descriptor is ready or <paramref name="timeoutMs"/> passed; the owners of the ready
        /// ones go to <paramref name="ready"/>. Returns their number, 0 on timeout, -1 on an error (errno set).</summary>
        public abstract int Wait(int timeoutMs, List<object> ready);
    }

    /// <summary>poll(2) over every watched descriptor: each wait costs O(watched) in the kernel and here.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed unsafe class PollPoller : Poller
    {
        private readonly Dictionary<int, (FileDescriptor Fd, object Owner)> _watched = new Dictionary<int, (FileDescriptor, object)>();
        private LibC.PollFd[] _array = Array.Empty<LibC.PollFd>();
        private object[] _owners = Array.Empty<object>();
        private bool _changed = true;

        public override bool Add(FileDescriptor fd, object owner)
        {
            _watched[fd.Number] = (fd, owner);
            _changed = true;
            return true;
        }

        public override void Remove(FileDescriptor fd)
        {
            _changed |= _watched.Remove(fd.Number);
        }

        public override int Wait(int timeoutMs, List<object> ready)
        {
            if (_changed)
            {
                _array = new LibC.PollFd[_watched.Count];
                _owners = new object[_watched.Count];
                int i = 0;
                foreach (var entry in _watched.Values)
                {
                    _array[i] = new LibC.PollFd { Fd = entry.Fd.Number, Events = LibC.POLLIN };
                    _owners[i] = entry.Owner;
                    i++;
                }
                _changed = false;
            }
            int n;
            fixed (LibC.PollFd* p = _array)
            {
                n = LibC.poll(p, (nuint)_array.Length, timeoutMs);
            }
            for (int i = 0; n > 0 && i < _array.Length; i++)
            {
                if (_array[i].Revents != 0)
                {
                    _array[i].Revents = 0;
                    ready.Add(_owners[i]);
                }
            }
            return n;
        }
    }

    /// <summary>epoll(7): a descriptor is registered once, and a wait costs O(ready), so a start or an exit among a
    /// thousand running children costs the loop as much as among one.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed unsafe class EpollPoller : Poller
    {
        /// <summary>Events taken per epoll_wait; more ready ones are reported by the next (level-triggered).</summary>
        private const int MaxEvents = 256;

        private readonly FileDescriptor _epoll;
        private readonly Dictionary<long, object> _owners = new Dictionary<long, object>();
        private readonly Dictionary<int, long> _tokens = new Dictionary<int, long>();
        private readonly byte[] _events = new byte[MaxEvents * LibC.EpollEventSize];
        private long _nextToken;

        public EpollPoller(FileDescriptor epoll)
        {
            _epoll = epoll;
        }

        public override bool Add(FileDescriptor fd, object owner)
        {
            // A token, not the descriptor's number, identifies the owner: a number closed and reused can never be
            // taken for its former owner.
            long token = ++_nextToken;
            byte* ev = stackalloc byte[16];
            new Span<byte>(ev, 16).Clear();
            *(uint*)ev = LibC.EPOLLIN;
            *(long*)(ev + LibC.EpollDataOffset) = token;
            if (LibC.epoll_ctl(_epoll.Number, LibC.EPOLL_CTL_ADD, fd.Number, ev) != 0)
            {
                return false;
            }
            _owners[token] = owner;
            _tokens[fd.Number] = token;
            return true;
        }

        public override void Remove(FileDescriptor fd)
        {
            if (!_tokens.Remove(fd.Number, out long token))
            {
                return;
            }
            _owners.Remove(token);
            byte* ev = stackalloc byte[16];
            new Span<byte>(ev, 16).Clear();
            LibC.epoll_ctl(_epoll.Number, LibC.EPOLL_CTL_DEL, fd.Number, ev); // fails only if already gone
        }

        public override int Wait(int timeoutMs, List<object> ready)
        {
            int n;
            fixed (byte* events = _events)
            {
                n = LibC.epoll_wait(_epoll.Number, events, MaxEvents, timeoutMs);
                for (int i = 0; i < n; i++)
                {
                    long token = *(long*)(events + i * LibC.EpollEventSize + LibC.EpollDataOffset);
                    if (_owners.TryGetValue(token, out object? owner))
                    {
                        ready.Add(owner);
                    }
                }
            }
            return n;
        }
    }
}
