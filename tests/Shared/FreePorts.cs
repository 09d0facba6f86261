using System.Net;
using System.Net.Sockets;

namespace Kvorum.Tests.Shared;

/// <summary>
/// The one place tests take loopback ports from. A port is handed out at most once per test process, and only after
/// a listener could bind it. Test classes run in parallel, each with its own cluster: with ports the kernel picks
/// (bind to 0), a port just probed and closed could be picked again for another member, which then fails to bind
/// while a test talks to the other cluster's member. The ports come from below the kernel's ephemeral range (read
/// from /proc), where outgoing connections take their source ports: a port there with nothing listening yet can be
/// taken by a client socket, or even connect to itself. Linked into each test project that needs it.
/// </summary>
internal static class FreePorts
{
    private const int Lowest = 15_000;

    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Given = [];
    private static readonly int Highest = EphemeralStart() - 1;
    private static int _next = Lowest + Random.Shared.Next(Highest - Lowest);

    /// <summary>A loopback port that nothing listened on a moment ago and that no other caller in this process got.</summary>
    /// <exception cref="InvalidOperationException">Every port of the range was handed out or is in use.</exception>
    public static int Next()
    {
        lock (Gate)
        {
            for (var tries = 0; tries <= Highest - Lowest; tries++)
            {
                var port = _next;
                _next = _next >= Highest ? Lowest : _next + 1;
                if (!Given.Contains(port) && CanBind(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }
        throw new InvalidOperationException($"no free loopback port left between {Lowest} and {Highest}");
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int EphemeralStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (int.TryParse(range[0], out var start) && start > Lowest + 1000)
                return start;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
        }
        return 32_768; // Linux's default
    }
}
