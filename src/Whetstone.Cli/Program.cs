using System.CommandLine;
using Whetstone.Cli.Commands;

var root = new RootCommand("whet — Whetstone: post-train open-weight language models and keep them improving.")
{
    InfoCommand.Create(),
    SampleCommand.Create(),
    LogprobsCommand.Create(),
    InitModelCommand.Create(),
    MergeCommand.Create(),
    ExportCommand.Create(),
    ImportCommand.Create(),
    ServeCommand.Create(),
    KeysCommand.Create(),
    TrainSftCommand.Create(),
    CorpusCommand.Create(),
    EvalCommand.Create(),
    PretrainCommand.Create(),
    ChartCommand.Create(),
};
return root.Parse(args).Invoke();
