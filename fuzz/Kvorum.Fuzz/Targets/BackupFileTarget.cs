using System.Security.Cryptography;
using Kvorum.Server.Backup;
using Kvorum.Server.Mvcc;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// A backup file, as <c>kvorum snapshot restore</c> and <c>status</c> read it (<see cref="BackupFile"/>): any file is
/// read or refused with <see cref="InvalidDataException"/>. When the first byte is even the rest gets its correct
/// SHA-256 appended, so that damage inside the snapshot reaches the readers behind the digest check.
/// </summary>
internal static class BackupFileTarget
{
    private static readonly string FilePath = Path.Combine(Path.GetTempPath(), $"kvorum-fuzz-backup-{Environment.ProcessId}.db");

    /// <summary>Checks <paramref name="input"/>.</summary>
    public static void Run(byte[] input)
    {
        if (input.Length == 0)
            return;
        var body = input.AsSpan(1);
        File.WriteAllBytes(FilePath, input[0] % 2 == 0 ? [.. body, .. SHA256.HashData(body)] : body.ToArray());
        try
        {
            BackupFile.ReadHeader(FilePath, new MvccStore());
        }
        catch (InvalidDataException)
        {
            // The documented refusal.
        }
    }

    /// <summary>Backups of the snapshots <see cref="NodeSnapshotTarget"/> starts from, without and with their digest.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        var seeds = new List<byte[]>();
        foreach (var snapshot in NodeSnapshotTarget.Seeds())
        {
            using var file = new MemoryStream();
            BackupFile.Write(file, stream => stream.Write(snapshot));
            var bytes = file.ToArray();
            seeds.Add([0, .. bytes.AsSpan(0, bytes.Length - SHA256.HashSizeInBytes)]);
            seeds.Add([1, .. bytes]);
        }
        return seeds;
    }
}
