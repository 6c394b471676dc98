using StackExchange.Redis;
using Streaming.Grains;

namespace Streaming.Silo;

/// <summary>An unreachable --redis fails at once in one line, instead of as stack traces from deep inside Orleans' start.</summary>
public sealed class RedisUnreachableException(string message) : Exception(message);

public static class RedisCheck
{
    public static async Task EnsureReachableAsync(string? connectionString)
    {
        var options = StreamingSiloBuilderExtensions.ParseRedis(connectionString, "--redis");
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.ConnectTimeout = 5_000;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options, TextWriter.Null);
            await connection.GetDatabase().PingAsync();
        }
        catch (RedisException e)
        {
            throw new RedisUnreachableException($"cannot reach Redis at '{StreamingSiloBuilderExtensions.Redacted(connectionString)}': {e.Message.Split('\n')[0].Split(". ")[0]}");
        }
    }
}
