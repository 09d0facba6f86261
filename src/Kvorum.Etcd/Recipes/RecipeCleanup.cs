using Grpc.Core;
using Kvorum.Etcd.Errors;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// The cleanup a recipe does when a wait fails (leaving the lock queue, resigning): best effort, as in etcd's
/// concurrency package, so that a failed cleanup does not hide the failure that caused it.
/// </summary>
internal static class RecipeCleanup
{
    /// <summary>Runs <paramref name="cleanup"/> and ignores a call failure, as etcd discards these errors.</summary>
    /// <param name="cleanup">Unlock or resign.</param>
    public static async Task IgnoringFailureAsync(Func<Task> cleanup)
    {
        try
        {
            await cleanup().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or EtcdException or OperationCanceledException or InvalidOperationException or IOException)
        {
            // The key stays until its lease expires, as it does in etcd.
        }
    }
}
