using System.CommandLine;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>Options every command that talks to a silo shares, and the one place errors become one line.</summary>
public static class CommonOptions
{
    /// <summary>Set to 1 to print full exceptions (for developers); users get one line.</summary>
    public const string DebugVariable = "STREAMING_DEBUG";

    public static readonly Option<int> Gateway = new("--gateway")
    {
        Description = "The silo's client gateway port on localhost",
        DefaultValueFactory = _ => SiloConnection.DefaultGatewayPort,
    };

    /// <summary>Beside <see cref="Gateway"/> on every command that talks to a silo: the cluster credential to show it.</summary>
    public static readonly Option<string?> Credentials = new("--credentials")
    {
        Description = $"The cluster credential (PFX) shown to the silo; default: ${Streaming.Security.CredentialLocation.Variable}, else the file a silo "
            + "on this machine created (~/.config/streaming/cluster.pfx, or under $XDG_CONFIG_HOME)",
    };

    /// <summary>The silo this command's --gateway and --credentials name.</summary>
    public static SiloTarget Target(ParseResult parse) => new(parse.GetValue(Gateway), parse.GetValue(Credentials));

    public static readonly Option<string> Progress = new Option<string>("--progress")
    {
        Description = "Progress bars: auto (on a terminal: stdout, or stderr when stdout is redirected), always (stderr when not a terminal), never",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "always", "never");

    /// <summary>Where the bars go: a terminal if there is one; none for a script unless asked (it keeps stderr to the one error line).</summary>
    public static IAnsiConsole? ProgressConsole(ParseResult parse)
    {
        var mode = parse.GetValue(Progress);
        if (mode == "never") return null;
        if (!Console.IsOutputRedirected) return AnsiConsole.Console;
        if (mode == "auto" && Console.IsErrorRedirected) return null;
        return AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    }

    /// <summary>Calls a grain; whatever comes back instead of a result (a refusal, a lost silo) becomes a <see cref="UserError"/>.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not (OperationCanceledException or UserError))
        {
            Debug(e);
            throw new UserError(Describe(e));
        }
    }

    /// <summary>
    /// Runs a command body. A <see cref="UserError"/> prints `error: ...` on stderr and exits 2; Ctrl+C exits 130;
    /// anything else (a bug) still prints one line, and exits 1.
    /// </summary>
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
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("error: interrupted (what the silo was asked to do goes on there)");
            return 130;
        }
        catch (Exception e) when (UnreadableStateException.In(e) is not null)
        {
            Debug(e);
            Console.Error.WriteLine($"error: {Describe(e)}");
            return 1;
        }
        catch (Exception e)
        {
            Debug(e);
            Console.Error.WriteLine($"error: {Describe(e)} (unexpected; {DebugVariable}=1 shows details)");
            return 1;
        }
    }

    /// <summary>The silo went away or did not answer: no grain's answer, good or bad, came back.</summary>
    public static bool IsConnectionLost(Exception e) =>
        e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException;

    /// <summary>One line for an exception that came back from a grain call.</summary>
    public static string Describe(Exception e) => e switch
    {
        _ when UnreadableStateException.In(e) is { } unreadable => $"{unreadable.Message} (details in the silo's log)",
        IngestFailedException or ArgumentException or InvalidOperationException or IOException => OneLine(e.Message),
        TimeoutException => $"the silo did not answer in time ({OneLine(e.Message)})",
        SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException
            => $"lost the connection to the silo (did it stop?): {OneLine(e.Message)}",
        _ => $"{OneLine(e.Message)} ({e.GetType().Name})",
    };

    public static string OneLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).Trim();
    }

    static void Debug(Exception e)
    {
        if (Environment.GetEnvironmentVariable(DebugVariable) == "1") Console.Error.WriteLine(e);
    }
}
