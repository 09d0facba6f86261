namespace Kvorum.Cli.Client;

/// <summary>
/// The exit codes of etcdctl that scripts test for and that <c>kvorum</c>'s watch, lease and elect commands keep
/// (etcdctl's <c>ExitBadConnection</c>, <c>ExitInvalidInput</c>, <c>ExitInterrupted</c> and <c>ExitBadArgs</c>).
/// </summary>
internal static class EtcdctlExitCodes
{
    /// <summary><c>lease keep-alive --once</c> of a lease the server does not know.</summary>
    public const int BadConnection = 2;

    /// <summary><c>watch -i</c> at the end of its standard input.</summary>
    public const int InvalidInput = 3;

    /// <summary>A watch that the server ended (a compacted start revision, a refused range).</summary>
    public const int Interrupted = 5;

    /// <summary><c>elect</c> with a proposal and <c>-l</c>, or with neither.</summary>
    public const int BadArgs = 128;
}
