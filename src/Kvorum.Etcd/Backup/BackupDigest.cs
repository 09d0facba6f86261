using System.Security.Cryptography;

namespace Kvorum.Etcd.Backup;

/// <summary>
/// The SHA-256 that ends a backup, as Maintenance.Snapshot streams it: the digest of every byte before it, as etcd ends
/// its own snapshot stream. Checked by whoever receives a backup (<see cref="BackupDownload"/>) and again by the server
/// before it reads one.
/// </summary>
internal static class BackupDigest
{
    /// <summary>Bytes of the digest that ends the file.</summary>
    public const int Length = 32;

    // Fewer bytes before the digest than a state-machine snapshot's header (magic and format byte): not a backup.
    private const int SmallestSnapshot = 5;

    /// <summary>Checks that <paramref name="path"/> ends with the SHA-256 of the rest, without reading it as a snapshot.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">It does not.</exception>
    public static void Verify(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = OpenVerified(path);
    }

    /// <summary>Opens <paramref name="path"/>, checks its length and digest, and returns it positioned at 0.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The open file; its last <see cref="Length"/> bytes are the digest.</returns>
    /// <exception cref="InvalidDataException">The file is too short, or its digest does not match.</exception>
    public static FileStream OpenVerified(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            if (file.Length < Length + SmallestSnapshot)
                throw new InvalidDataException($"{path} is too short ({file.Length} bytes) to be a Kvorum snapshot");
            Check(file, file.Length - Length, path);
            file.Position = 0;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void Check(FileStream file, long snapshotLength, string path)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        var left = snapshotLength;
        while (left > 0)
        {
            var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
                throw new InvalidDataException($"{path} ended early");
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
        Span<byte> stored = stackalloc byte[Length];
        file.ReadExactly(stored);
        if (!stored.SequenceEqual(hash.GetHashAndReset()))
            throw new InvalidDataException($"{path} failed its SHA-256 check: the file is damaged or incomplete");
    }
}
