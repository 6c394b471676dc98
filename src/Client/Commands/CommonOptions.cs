using System.CommandLine;

namespace Streaming.Client.Commands;

/// <summary>Options every command that talks to a silo shares, and the one place user errors become one line.</summary>
public static class CommonOptions
{
    public static readonly Option<int> Gateway = new("--gateway")
    {
        Description = "The silo's client gateway port on localhost",
        DefaultValueFactory = _ => SiloConnection.DefaultGatewayPort,
    };

    /// <summary>Calls a grain; the grains' own refusals (bad input) become a <see cref="UserError"/>.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            throw new UserError(e.Message);
        }
    }

    /// <summary>Runs a command body; a <see cref="UserError"/> prints `error: ...` on stderr and exits 2.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (UserError e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
