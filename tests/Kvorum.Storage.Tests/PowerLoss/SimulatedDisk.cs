namespace Kvorum.Storage.Tests.PowerLoss;

/// <summary>
/// A disk in memory that remembers what was made durable and, at a power cut, keeps exactly that plus an
/// arbitrary (seeded) part of what was not: file bytes are durable once the file was fsynced, names (creates,
/// renames, deletes) once their directory was fsynced. Storage instances reach it through a
/// <see cref="SimulatedProcess"/>, so that a process can be killed (its page cache survives) apart from a power cut.
/// </summary>
/// <remarks>
/// At <see cref="PowerCut"/>, for each file: its content at its last fsync, then each 512-byte sector as after
/// any prefix of the later writes to it (torn at sector boundaries), each later size change kept or not; for each
/// directory: its entries at its last fsync, then a prefix of the later name changes (a journaling file system
/// commits them in order). Operations that change the disk are counted; <see cref="CrashAfter"/> cuts the power
/// once that many have run, and every operation after it throws <see cref="PowerCutException"/>.
/// </remarks>
internal sealed class SimulatedDisk
{
    public const int SectorSize = 512;

    private readonly object _lock = new();
    private readonly Directory _root = new();

    /// <summary>Mutating operations so far.</summary>
    public long Operations { get; private set; }

    /// <summary>Cut the power after this many mutating operations (never if null).</summary>
    public long? CrashAfter { get; set; }

    /// <summary>True once the power was cut.</summary>
    public bool PoweredOff { get; private set; }

    /// <summary>A new process on this disk.</summary>
    public SimulatedProcess Start(long? killAfter = null) => new(this) { KillAfter = killAfter };

    /// <summary>The disk as a reboot after a power cut now finds it; <paramref name="random"/> decides what of the non-durable survives.</summary>
    public SimulatedDisk PowerCut(Random random)
    {
        lock (_lock)
        {
            PoweredOff = true;
            var image = new SimulatedDisk();
            var files = new Dictionary<Inode, Inode>();
            CopyAfterCut(_root, image._root, random, files);
            return image;
        }
    }

    private static void CopyAfterCut(Directory from, Directory to, Random random, Dictionary<Inode, Inode> files)
    {
        var entries = new Dictionary<string, object>(from.DurableEntries, StringComparer.Ordinal);
        var keep = random.Next(from.Pending.Count + 1);
        foreach (var change in from.Pending.Take(keep))
            change(entries);
        foreach (var (name, node) in entries)
        {
            if (node is Directory d)
            {
                var copy = new Directory();
                CopyAfterCut(d, copy, random, files);
                to.Entries[name] = copy;
            }
            else
            {
                var inode = (Inode)node;
                if (!files.TryGetValue(inode, out var copy))
                    files[inode] = copy = inode.AfterCut(random);
                to.Entries[name] = copy;
            }
            to.DurableEntries[name] = to.Entries[name];
        }
    }

    /// <summary>Counts a mutating operation, cutting the power if it is time; throws once the power is off.</summary>
    /// <summary>The mutating operations so far, one line each (kept only if <see cref="Tracing"/>).</summary>
    public List<string> Trace { get; } = [];

    /// <summary>Whether to keep <see cref="Trace"/>.</summary>
    public bool Tracing { get; set; }

    internal void Mutate(Action change, SimulatedProcess process, string what)
    {
        lock (_lock)
        {
            if (Tracing)
                Trace.Add($"{Operations}: {what}");
            ThrowIfOff();
            if (Operations == CrashAfter)
            {
                if (Tracing)
                    Trace.Add("power cut");
                PoweredOff = true;
                ThrowIfOff();
            }
            if (Operations == process.KillAfter)
            {
                if (Tracing)
                    Trace.Add("process killed");
                process.Kill();
                throw new PowerCutException("simulated process killed");
            }
            Operations++;
            change();
        }
    }

    internal T Read<T>(Func<T> read)
    {
        lock (_lock)
        {
            ThrowIfOff();
            return read();
        }
    }

    private void ThrowIfOff()
    {
        if (PoweredOff)
            throw new PowerCutException();
    }

    /// <summary>The directory at <paramref name="path"/> (absolute), or null.</summary>
    internal Directory? FindDirectory(string path)
    {
        var dir = _root;
        foreach (var part in Split(path))
        {
            if (!dir.Entries.TryGetValue(part, out var node) || node is not Directory d)
                return null;
            dir = d;
        }
        return dir;
    }

    internal (Directory Parent, string Name) Locate(string path)
    {
        var parent = FindDirectory(Path.GetDirectoryName(path)!) ?? throw new DirectoryNotFoundException(path);
        return (parent, Path.GetFileName(path));
    }

    internal Directory Root => _root;

    internal static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A directory: its entries now, at its last fsync, and the changes since, in order.</summary>
    internal sealed class Directory
    {
        public Dictionary<string, object> Entries { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, object> DurableEntries { get; } = new(StringComparer.Ordinal);

        public List<Action<Dictionary<string, object>>> Pending { get; } = [];

        /// <summary>Makes a name change, now and as a change not yet durable.</summary>
        public void Change(Action<Dictionary<string, object>> change)
        {
            change(Entries);
            Pending.Add(change);
        }

        public void Sync()
        {
            DurableEntries.Clear();
            foreach (var (k, v) in Entries)
                DurableEntries[k] = v;
            Pending.Clear();
        }
    }

    /// <summary>A file's content now and at its last fsync, and the writes and size changes since.</summary>
    internal sealed class Inode
    {
        private byte[] _durable = [];
        private readonly List<(long Offset, byte[]? Data, long Length)> _pending = [];

        public byte[] Data { get; private set; } = [];

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            Data = Apply(Data, offset, data);
            _pending.Add((offset, data.ToArray(), 0));
        }

        public void SetLength(long length)
        {
            Data = Resize(Data, length);
            _pending.Add((0, null, length));
        }

        public void Sync()
        {
            _durable = Data.ToArray();
            _pending.Clear();
        }

        /// <summary>
        /// The file after a power cut: its content at its last fsync, then the later writes as the disk may have
        /// received them. The page cache writes a sector back whole, as it is at that moment, so each sector ends
        /// up as it was after some prefix of the writes that touched it (any prefix, independently of the other
        /// sectors); each size change is kept or not.
        /// </summary>
        public Inode AfterCut(Random random)
        {
            var writesTo = new Dictionary<long, int>();
            foreach (var (offset, bytes, _) in _pending)
            {
                if (bytes is null)
                    continue;
                for (var sector = offset / SectorSize; sector * SectorSize < offset + bytes.Length; sector++)
                    writesTo[sector] = writesTo.GetValueOrDefault(sector) + 1;
            }
            var kept = writesTo.ToDictionary(e => e.Key, e => random.Next(e.Value + 1));
            var seen = new Dictionary<long, int>();
            var data = _durable;
            foreach (var (offset, bytes, length) in _pending)
            {
                if (bytes is null)
                {
                    if (random.Next(2) == 0)
                        data = Resize(data, length);
                    continue;
                }
                for (var lo = offset; lo < offset + bytes.Length;)
                {
                    var sector = lo / SectorSize;
                    var hi = Math.Min(offset + bytes.Length, (sector + 1) * SectorSize);
                    var ordinal = seen.GetValueOrDefault(sector);
                    seen[sector] = ordinal + 1;
                    if (ordinal < kept[sector])
                        data = Apply(data, lo, bytes.AsSpan((int)(lo - offset), (int)(hi - lo)));
                    lo = hi;
                }
            }
            var inode = new Inode { Data = data };
            inode.Sync();
            return inode;
        }

        private static byte[] Apply(byte[] data, long offset, ReadOnlySpan<byte> bytes)
        {
            if (offset + bytes.Length > data.Length)
                data = Resize(data, offset + bytes.Length);
            else
                data = data.ToArray();
            bytes.CopyTo(data.AsSpan((int)offset));
            return data;
        }

        private static byte[] Resize(byte[] data, long length)
        {
            var copy = new byte[length];
            data.AsSpan(0, (int)Math.Min(length, data.Length)).CopyTo(copy);
            return copy;
        }
    }
}

/// <summary>What every operation on a simulated disk throws once its power was cut (or its process killed).</summary>
internal sealed class PowerCutException : IOException
{
    public PowerCutException()
        : base("simulated power cut")
    {
    }

    public PowerCutException(string message)
        : base(message)
    {
    }

    public PowerCutException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
