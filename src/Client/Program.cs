using System.CommandLine;
using Streaming.Client.Commands;

var root = new RootCommand("streaming: the command-line client of the Streaming continual pre-training service")
{
    StatusCommand.Create(),
    RunCommand.Create(),
    IngestCommand.Create(),
    AnnealCommand.Create(),
    ExportCommand.Create(),
    EvalCommand.Create(),
    ScheduleCommand.Create(),
    CompareCommand.Create(),
    WatchCommand.Create(),
    CredentialsCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
