using System.Net;
using System.Net.Sockets;

namespace Streaming.Silo;

/// <summary>A port already taken (most often by another silo) fails at once in one line, instead of as stack traces from
/// Kestrel's or Orleans' start.</summary>
public sealed class PortInUseException(string message) : Exception(message);

public static class PortCheck
{
    public static void EnsureFree(SiloSettings settings)
    {
        foreach (var (flag, port) in new[] { ("--http-port", settings.HttpPort), ("--silo-port", settings.SiloPort), ("--gateway-port", settings.GatewayPort) })
        {
            if (port == 0) continue;   // 0: the system picks a free one
            var listener = new TcpListener(IPAddress.Any, port);
            try
            {
                listener.Start();
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
                throw new PortInUseException(e.SocketErrorCode == SocketError.AccessDenied
                    ? $"port {port} ({flag}) may not be used by this user: choose another with {flag}"
                    : $"port {port} ({flag}) is already in use, perhaps by another silo: stop it, or choose another port with {flag}");
            }
            finally
            {
                listener.Stop();
            }
        }
    }
}
