using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Server.Observe.Wire;

namespace Kvorum.Server.Tests.Observe;

/// <summary>Subscribes to one member's event stream and records every event, so a test can wait for one it expects.</summary>
internal sealed class EventRecorder : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ObserveEvent> _events = [];
    private readonly Task _reading;

    public EventRecorder(string url)
    {
        _channel = GrpcChannel.ForAddress(url);
        var call = new Kvorum.Server.Observe.Wire.Observe.ObserveClient(_channel).Events(new EventsRequest(), cancellationToken: _stop.Token);
        _reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    lock (_events)
                        _events.Add(e);
                }
            }
            catch (RpcException) when (_stop.IsCancellationRequested)
            {
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                call.Dispose();
            }
        });
    }

    /// <summary>The events recorded so far, in order.</summary>
    public IReadOnlyList<ObserveEvent> Events
    {
        get
        {
            lock (_events)
                return [.. _events];
        }
    }

    /// <summary>The first recorded event that matches, waiting up to <paramref name="seconds"/> for it.</summary>
    /// <exception cref="TimeoutException">None came.</exception>
    public async Task<ObserveEvent> WaitForAsync(Func<ObserveEvent, bool> match, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (Events.FirstOrDefault(match) is { } found)
                return found;
            if (DateTime.UtcNow > deadline || _reading.IsCompleted)
                throw new TimeoutException($"no such event among {Events.Count}: {string.Join("; ", Events.TakeLast(5))}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
        _channel.Dispose();
    }
}
