namespace Kvorum.Lab.Checking;

/// <summary>Entry point for the common case: checking a history against <see cref="RegisterModel"/>.</summary>
internal static class Linearizability
{
    private static readonly LinearizabilityChecker<string?> Register = new(RegisterModel.Instance);

    /// <summary>Checks <paramref name="history"/> as a map of registers; see <see cref="LinearizabilityChecker{TState}.Check"/>.</summary>
    public static CheckResult Check(History history, CheckOptions? options = null, CancellationToken cancellation = default) =>
        Register.Check(history, options, cancellation);
}
