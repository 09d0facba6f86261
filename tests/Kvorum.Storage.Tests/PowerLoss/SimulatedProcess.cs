using Microsoft.Win32.SafeHandles;

namespace Kvorum.Storage.Tests.PowerLoss;

/// <summary>
/// One process's view of a <see cref="SimulatedDisk"/>: the file system a storage opened in it uses. Killing the
/// process makes its every later call throw, as if it were gone, while the disk (page cache included) stays.
/// </summary>
internal sealed class SimulatedProcess(SimulatedDisk disk) : IFileSystem
{
    private static readonly object Locks = new();
    private static readonly HashSet<(SimulatedDisk, string)> Held = [];
    private volatile bool _killed;

    /// <summary>Kill the process once the disk has run this many mutating operations (never if null).</summary>
    public long? KillAfter { get; init; }

    /// <summary>True once killed.</summary>
    public bool Killed => _killed;

    /// <summary>Kills the process: nothing it calls afterwards reaches the disk.</summary>
    public void Kill()
    {
        _killed = true;
        lock (Locks)
            Held.RemoveWhere(h => ReferenceEquals(h.Item1, disk));
    }

    public IStorageFile Open(string path, FileMode mode, FileAccess access)
    {
        SimulatedDisk.Inode? inode = null;
        void Find()
        {
            var (parent, name) = disk.Locate(path);
            var exists = parent.Entries.TryGetValue(name, out var node);
            if (mode == FileMode.CreateNew && exists)
                throw new IOException($"{path} exists");
            if (mode == FileMode.Open && !exists)
                throw new FileNotFoundException(path);
            if (exists && mode != FileMode.Create)
            {
                inode = (SimulatedDisk.Inode)node!;
                return;
            }
            if (exists)
            {
                // O_TRUNC: the same file, cut to nothing.
                inode = (SimulatedDisk.Inode)node!;
                inode.SetLength(0);
                return;
            }
            var created = inode = new SimulatedDisk.Inode();
            parent.Change(e => e[name] = created);
        }
        if (mode == FileMode.Open)
            Checked(() => disk.Read(() => { Find(); return 0; }));
        else
            Checked(() => disk.Mutate(Find, this, $"open {path} {mode}"));
        return new File(this, inode!, path);
    }

    public byte[] ReadAllBytes(string path) => Checked(() => disk.Read(() =>
    {
        var (parent, name) = disk.Locate(path);
        return parent.Entries.TryGetValue(name, out var node) && node is SimulatedDisk.Inode inode
            ? inode.Data.ToArray()
            : throw new FileNotFoundException(path);
    }));

    public bool FileExists(string path) => Checked(() => disk.Read(() =>
        disk.FindDirectory(Path.GetDirectoryName(path)!) is { } parent && parent.Entries.TryGetValue(Path.GetFileName(path), out var n) && n is SimulatedDisk.Inode));

    public IEnumerable<string> EnumerateFiles(string directory, string suffix) => Checked(() => disk.Read(() =>
    {
        var dir = disk.FindDirectory(directory) ?? throw new DirectoryNotFoundException(directory);
        return dir.Entries.Where(e => e.Value is SimulatedDisk.Inode && e.Key.EndsWith(suffix, StringComparison.Ordinal))
            .Select(e => Path.Combine(directory, e.Key)).ToList();
    }));

    public bool DirectoryExists(string path) => Checked(() => disk.Read(() => disk.FindDirectory(path) is not null));

    public bool CreateDirectory(string path)
    {
        var created = false;
        Checked(() => disk.Mutate(() =>
        {
            var dir = disk.Root;
            foreach (var part in SimulatedDisk.Split(path))
            {
                if (!dir.Entries.TryGetValue(part, out var node))
                {
                    var child = new SimulatedDisk.Directory();
                    dir.Change(e => e[part] = child);
                    node = child;
                    created = true;
                }
                dir = (SimulatedDisk.Directory)node;
            }
        }, this, $"mkdir {path}"));
        return created;
    }

    public void Delete(string path) => Checked(() => disk.Mutate(() =>
    {
        var (parent, name) = disk.Locate(path);
        if (parent.Entries.ContainsKey(name))
            parent.Change(e => e.Remove(name));
    }, this, $"delete {path}"));

    public void Move(string from, string to) => Checked(() => disk.Mutate(() =>
    {
        var (fromParent, fromName) = disk.Locate(from);
        var (toParent, toName) = disk.Locate(to);
        if (!ReferenceEquals(fromParent, toParent))
            throw new NotSupportedException("renames across directories are not simulated");
        var node = fromParent.Entries.TryGetValue(fromName, out var n) ? n : throw new FileNotFoundException(from);
        fromParent.Change(e =>
        {
            // Replayed after a cut only if the file is there in that replay.
            if (e.Remove(fromName))
                e[toName] = node;
        });
    }, this, $"rename {from} {to}"));

    public void SyncDirectory(string path) => Checked(() => disk.Mutate(() =>
        (disk.FindDirectory(path) ?? throw new DirectoryNotFoundException(path)).Sync(), this, $"fsync dir {path}"));

    public IDisposable Lock(string dataDirectory)
    {
        CreateDirectory(dataDirectory);
        lock (Locks)
        {
            if (!Held.Add((disk, dataDirectory)))
                throw new IOException($"{dataDirectory} is locked");
        }
        return new Releaser(() =>
        {
            lock (Locks)
                Held.Remove((disk, dataDirectory));
        });
    }

    private T Checked<T>(Func<T> call)
    {
        if (_killed)
            throw new PowerCutException("simulated process killed");
        return call();
    }

    private void Checked(Action call) => Checked(() =>
    {
        call();
        return 0;
    });

    private sealed class Releaser(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    private sealed class File(SimulatedProcess process, SimulatedDisk.Inode inode, string path) : IStorageFile
    {
        public long Length => process.Checked(() => process.Disk.Read(() => (long)inode.Data.Length));

        public SafeFileHandle? Handle => null;

        public int Read(long offset, Span<byte> buffer)
        {
            var data = process.Checked(() => process.Disk.Read(() => inode.Data));
            if (offset >= data.Length)
                return 0;
            var n = (int)Math.Min(buffer.Length, data.Length - offset);
            data.AsSpan((int)offset, n).CopyTo(buffer);
            return n;
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            var copy = data.ToArray();
            process.Checked(() => process.Disk.Mutate(() => inode.Write(offset, copy), process, $"write {path} [{offset}, {offset + copy.Length})"));
        }

        public void SetLength(long length) => process.Checked(() => process.Disk.Mutate(() => inode.SetLength(length), process, $"truncate {path} {length}"));

        public void Sync() => process.Checked(() => process.Disk.Mutate(inode.Sync, process, $"fsync {path}"));

        public bool TryPreallocate(long length)
        {
            process.Checked(() => process.Disk.Mutate(() =>
            {
                if (inode.Data.Length < length)
                    inode.SetLength(length);
            }, process, $"fallocate {path} {length}"));
            return true;
        }

        public void Dispose()
        {
        }
    }

    private SimulatedDisk Disk => disk;
}
