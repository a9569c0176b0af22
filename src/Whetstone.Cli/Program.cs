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
    PretrainVlmCommand.Create(),
    FewShotVisionCommand.Create(),
    ChartCommand.Create(),
    PlanCommand.Create(),
    LoopCommand.Create(),
    RunCommand.Create(),
    CheckpointCommand.Create(),
    DeploymentCommand.Create(),
    ChatCommand.Create(),
    SimulateUsersCommand.Create(),
    LoadTestCommand.Create(),
};
var parsed = root.Parse(args);
int exitCode = parsed.Invoke();
// The parser's refusals (a missing or unknown option, a value of the wrong type) print their
// message and help like System.CommandLine does, but exit as the bad arguments they are (2), not 1.
return parsed.Errors.Count > 0 ? CommandErrors.BadArguments : exitCode;
