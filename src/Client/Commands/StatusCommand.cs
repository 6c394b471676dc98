using System.CommandLine;

namespace Streaming.Client.Commands;

/// <summary>`streaming status`: the trainer's step, tokens and loss, per run.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Show each run's step, tokens trained and loss");
        command.SetAction((_, _) => Task.FromResult(0));
        return command;
    }
}
