using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// A data directory that appears whole or not at all: it is built and made durable in a staging directory, which then
/// takes the data directory's name in one rename. Anything that stops the building half-way (an error, a crash, a full
/// disk) leaves no directory that a later <c>kvorum serve</c> could take for a member's. Used by a new member's
/// bootstrap (<see cref="MemberBootstrap"/>) and by <c>snapshot restore</c> (<c>Backup/BackupRestore.cs</c>).
/// </summary>
internal static class StagedDirectory
{
    /// <summary>
    /// Makes <paramref name="target"/> with <paramref name="build"/>, which fills the staging directory it is given.
    /// <paramref name="target"/> must not exist, or, with <paramref name="commitEntry"/>, be an empty directory: then the
    /// staging directory is made inside it (a mount point cannot be replaced by a rename, and its parent may be another
    /// file system) and its entries are moved out one by one, <paramref name="commitEntry"/> last, so that the directory
    /// is taken for a member's only once that entry is there.
    /// </summary>
    /// <param name="target">The data directory to make.</param>
    /// <param name="purpose">Names the staging directory (<c>.NAME.PURPOSE-GUID</c>), so a leftover says what made it.</param>
    /// <param name="build">Writes the directory's contents into the staging directory it is given.</param>
    /// <param name="commitEntry">The entry that makes the directory a member's; null when the target must not exist.</param>
    /// <param name="beforeMove">For tests: runs with the complete staging directory just before it is moved.</param>
    /// <exception cref="IOException">The target exists (and is not an empty directory that may be filled), or a write failed.</exception>
    public static void Create(string target, string purpose, Action<string> build, string? commitEntry = null, Action<string>? beforeMove = null)
    {
        // Without a trailing separator, or "dir/" would have itself as its parent.
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        var parent = Path.GetDirectoryName(full) ?? throw new IOException($"data directory {target} has no parent directory");
        var intoEmpty = commitEntry is not null && Directory.Exists(full) && !Directory.EnumerateFileSystemEntries(full).Any();
        if (!intoEmpty && (Directory.Exists(full) || File.Exists(full)))
            throw new IOException($"data directory {target} exists");
        if (!intoEmpty)
            Directory.CreateDirectory(parent);
        var staging = intoEmpty
            ? Path.Combine(full, $".{purpose}-{Guid.NewGuid():N}")
            : Path.Combine(parent, $".{Path.GetFileName(full)}.{purpose}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
            build(staging);
            DirectorySync.Flush(staging);
            beforeMove?.Invoke(staging);
            if (intoEmpty)
            {
                MoveEntries(staging, full, commitEntry!);
                Directory.Delete(staging);
                DirectorySync.Flush(full);
            }
            else
            {
                Directory.Move(staging, full);
                DirectorySync.Flush(parent);
            }
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private static void MoveEntries(string staging, string target, string commitEntry)
    {
        var entries = Directory.EnumerateFileSystemEntries(staging)
            .OrderBy(e => Path.GetFileName(e) == commitEntry)
            .ToList();
        foreach (var entry in entries)
        {
            var destination = Path.Combine(target, Path.GetFileName(entry));
            if (Path.GetFileName(entry) == commitEntry)
                DirectorySync.Flush(target); // every other entry is in place before the one that makes it a member's
            if (Directory.Exists(entry))
                Directory.Move(entry, destination);
            else
                File.Move(entry, destination);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Reported through the original error; the directory stays for the user to remove.
        }
    }
}
