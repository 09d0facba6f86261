using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Kvorum.Cli.View;

/// <summary>
/// The view's controls, when it was started for a lab or a cluster (<see cref="IViewControls"/>): the fault state
/// relayed to the pages as <c>{"lab": …}</c> lines beside the members' events (so that replay shows it too), and
/// <c>POST /api/control</c>, which only the view's own page may call (<see cref="ControlGuard"/>).
/// </summary>
internal sealed partial class ViewServer
{
    /// <summary>How often the fault state is read.</summary>
    private static readonly TimeSpan PictureInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How often an unchanged fault state is relayed again, so that a page opened later finds one to replay.</summary>
    private static readonly TimeSpan PictureRepeat = TimeSpan.FromSeconds(10);

    private readonly IViewControls? _controls;
    private readonly ControlGuard _guard;
    private readonly TaskCompletionSource _systemGone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Completes when the controlled system is gone (the lab was taken down).</summary>
    public Task SystemGone => _systemGone.Task;

    private async Task FollowPictureAsync(IViewControls controls, CancellationToken cancellation)
    {
        string? last = null;
        var lastAt = 0L;
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                RelayPicture(controls, ref last, ref lastAt);
                FollowMembers(controls);
                await Task.Delay(PictureInterval, cancellation).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void RelayPicture(IViewControls controls, ref string? last, ref long lastAt)
    {
        string? picture;
        try
        {
            picture = controls.Picture();
        }
        catch (Exception e) when (e is CommandFailedException or IOException)
        {
            // The state file was being rewritten, or the lab is coming down: the next read decides.
            return;
        }

        if (picture is null)
        {
            _systemGone.TrySetResult();
            return;
        }

        if (picture == last && Environment.TickCount64 - lastAt < (long)PictureRepeat.TotalMilliseconds)
            return;
        last = picture;
        lastAt = Environment.TickCount64;
        var micros = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        _events.Add(string.Create(CultureInfo.InvariantCulture, $"{{\"lab\":{picture},\"unixMicros\":\"{micros}\"}}"));
    }

    private async Task<IResult> ControlAsync(HttpContext http, ControlRequest request)
    {
        if (_guard.Refusal(http.Request) is { } refusal)
            return Results.Json(new { error = refusal }, statusCode: StatusCodes.Status403Forbidden);
        if (_controls is null || request.Action is null || !_controls.Actions.Contains(request.Action))
            return Results.Json(new { error = $"no such control: {request.Action}" }, statusCode: StatusCodes.Status400BadRequest);

        // One act at a time: each rewrites the lab's state file and firewall rules.
        await _oneAtATime.WaitAsync(http.RequestAborted).ConfigureAwait(false);
        try
        {
            var done = await _controls.RunAsync(request, http.RequestAborted).ConfigureAwait(false);
            string? last = null;
            var lastAt = 0L;
            RelayPicture(_controls, ref last, ref lastAt);
            return Results.Json(new { done });
        }
        catch (CommandFailedException e)
        {
            return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status400BadRequest);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
