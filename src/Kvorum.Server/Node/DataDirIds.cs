using System.Globalization;
using System.Text;
using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// The ids a data directory records beside its log: <c>member_id</c>, the member it belongs to, and <c>cluster_id</c>,
/// the cluster that member belongs to, each in hex. Written when the directory is made (a new member's bootstrap or a
/// restore); a restart takes its id from here, not from the flags, which may name new peer URLs since
/// (<c>member update</c>).
/// </summary>
internal static class DataDirIds
{
    /// <summary>The file that holds the member's id.</summary>
    public const string MemberIdFile = "member_id";

    /// <summary>The file that holds the cluster's id (directories made before it existed have none).</summary>
    public const string ClusterIdFile = "cluster_id";

    /// <summary>The id in <paramref name="file"/> of <paramref name="dataDir"/>, or null when it is missing or unreadable.</summary>
    public static ulong? Read(string dataDir, string file)
    {
        var path = Path.Combine(dataDir, file);
        if (!File.Exists(path))
            return null;
        return ulong.TryParse(File.ReadAllText(path).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    /// <summary>
    /// Writes both ids into <paramref name="dataDir"/>, an id already there and equal left alone; each file is written
    /// beside its name, fsynced and renamed over it, then the directory's entries are flushed, so a crash leaves each
    /// file whole, old or new, never empty.
    /// </summary>
    public static void Write(string dataDir, ulong memberId, ulong clusterId)
    {
        if (Read(dataDir, MemberIdFile) != memberId)
            WriteDurably(dataDir, MemberIdFile, memberId);
        if (Read(dataDir, ClusterIdFile) != clusterId)
            WriteDurably(dataDir, ClusterIdFile, clusterId);
        DirectorySync.Flush(dataDir);
    }

    private static void WriteDurably(string dataDir, string name, ulong id)
    {
        var path = Path.Combine(dataDir, name);
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(Encoding.ASCII.GetBytes(id.ToString("x16", CultureInfo.InvariantCulture)));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
