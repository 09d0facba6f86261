namespace Kvorum.Cli.Output;

/// <summary>How results are printed (<c>--write-out</c>), as etcdctl prints them.</summary>
internal enum OutputFormat
{
    /// <summary>etcdctl's default: plain lines, e.g. key then value for <c>get</c>.</summary>
    Simple,

    /// <summary>The response message as JSON.</summary>
    Json,

    /// <summary>A boxed table (status, member list, get); other commands fall back to simple.</summary>
    Table,
}
