using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>
/// A client that speaks just enough HTTP/2 to open gRPC calls and then misbehave: it sends the preface, its own
/// SETTINGS, HEADERS and DATA frames, and never reads what the member sends, so it never acknowledges anything nor
/// opens its flow-control windows beyond the protocol's initial 65,535 bytes.
/// </summary>
internal sealed class RawHttp2Connection : IDisposable
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly int _port;
    private int _nextStream = 1;

    private RawHttp2Connection(Socket socket, int port)
    {
        _socket = socket;
        _port = port;
    }

    /// <summary>Connects to a plaintext client port and sends the connection preface and an empty SETTINGS frame.</summary>
    public static async Task<RawHttp2Connection> OpenAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            var connection = new RawHttp2Connection(socket, port);
            await connection.SendAsync([.. Preface, .. Frame(type: 4, flags: 0, stream: 0, [])]);
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a gRPC call to <paramref name="path"/> (e.g. <c>/etcdserverpb.KV/Range</c>) and sends
    /// <paramref name="request"/> as its one message; <paramref name="endStream"/> half-closes the call after it.
    /// </summary>
    public Task CallAsync(string path, IMessage request, bool endStream)
    {
        var stream = _nextStream;
        _nextStream += 2;
        var message = request.ToByteArray();
        var grpc = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(grpc.AsSpan(1), message.Length);
        message.CopyTo(grpc, 5);
        return SendAsync([.. Frame(type: 1, flags: 0x4, stream, Headers(path)), .. Frame(type: 0, flags: endStream ? (byte)0x1 : (byte)0, stream, grpc)]);
    }

    /// <summary>Whether the member has closed (or reset) the connection: a read would return nothing more, ever.</summary>
    public bool ClosedByPeer()
    {
        try
        {
            if (!_socket.Poll(0, SelectMode.SelectRead))
                return false;
            // Readable: either data the member sent (drained here, though this client never looks at it) or the end.
            var buffer = new byte[64 * 1024];
            while (_socket.Available > 0)
                _ = _socket.Receive(buffer);
            return _socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>Sends raw bytes, whatever they are.</summary>
    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes);

    public void Dispose() => _socket.Dispose();

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame, 9);
        return frame;
    }

    // HPACK without Huffman coding or indexing: static-table entries where they exist (RFC 7541, appendix A).
    private byte[] Headers(string path)
    {
        var block = new List<byte> { 0x83, 0x86 }; // :method POST, :scheme http
        block.Add(0x04); // :path, literal value
        String(block, path);
        block.Add(0x01); // :authority, literal value
        String(block, $"127.0.0.1:{_port}");
        block.AddRange([0x0F, 0x10]); // content-type (static index 31), literal value
        String(block, "application/grpc");
        block.Add(0x00); // a new name, literal value
        String(block, "te");
        String(block, "trailers");
        return [.. block];
    }

    private static void String(List<byte> block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length < 127)
        {
            block.Add((byte)bytes.Length);
        }
        else
        {
            block.Add(0x7F);
            var rest = bytes.Length - 127;
            while (rest >= 128)
            {
                block.Add((byte)(rest % 128 + 128));
                rest /= 128;
            }
            block.Add((byte)rest);
        }
        block.AddRange(bytes);
    }
}
