import Foundation
import PolicyDiffusion

/// The `diffuse` command-line tool: dispatches to one subcommand per user task.
public enum Diffuse {
    public static let version = "0.1.0"

    /// Every subcommand, in help order.
    public static var commands: [any Command.Type] { [
        EnvListCommand.self,
        EnvReferencesCommand.self,
        EnvReplayCommand.self,
        DatasetCollectCommand.self,
        DatasetInfoCommand.self,
        DatasetConvertCommand.self,
        DatasetShapesCommand.self,
        TrainAgentCommand.self,
        TrainOnlineCommand.self,
        EvalAgentCommand.self,
        TrainTrajectoryCommand.self,
        PGDGenerateCommand.self,
        PGDEvaluateCommand.self,
        PGDTrainAgentCommand.self,
        FISORTrainCommand.self,
        FISORRolloutCommand.self,
        TrainWorldModelCommand.self,
        WorldModelRolloutCommand.self,
        SePPOTrainBaseCommand.self,
        SePPOTrainScorerCommand.self,
        SePPOAlignCommand.self,
        SePPOScoreCommand.self,
        TrainRegressionCommand.self,
        TrainToyCommand.self,
        TrainImageCommand.self,
        SampleCommand.self,
        ScheduleCommand.self,
        EvalRegressionCommand.self,
        CheckpointInfoCommand.self,
        CheckpointExportCommand.self,
        PlotTrajectoriesCommand.self,
        PlotCurvesCommand.self,
        BenchCoreCommand.self,
        BenchConvCommand.self,
        BenchEnvCommand.self,
    ] }

    static var help: String {
        var lines = ["diffuse \(version) — diffusion models for offline RL and small-scale generation", "",
                     "USAGE: diffuse <command> [options]   (diffuse <command> --help for details)", "", "COMMANDS:"]
        for c in commands {
            lines.append("  " + c.path.joined(separator: " ").padding(toLength: 26, withPad: " ", startingAt: 0) + c.abstract)
        }
        lines += ["", "Every command accepts --help (or: diffuse help <command>) and --quiet; most accept --seed, --threads and --json."]
        return lines.joined(separator: "\n")
    }

    /// Runs the tool on `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String], console: Console = Console()) -> Int32 {
        if arguments.isEmpty || arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
            console.out(help)
            return 0
        }
        if arguments == ["--version"] { console.out(version); return 0 }
        // `diffuse help train agent` is `diffuse train agent --help`.
        if arguments.first == "help" { return main(Array(arguments.dropFirst()) + ["--help"], console: console) }
        // Longest matching command path (or alias).
        let candidates = commands.flatMap { c in ([c.path] + c.aliases).map { (command: c, path: $0) } }
        let match = candidates.filter { Array(arguments.prefix($0.path.count)) == $0.path }.max { $0.path.count < $1.path.count }
        guard let (command, matchedPath) = match else {
            let word = arguments.prefix { !$0.hasPrefix("-") }.joined(separator: " ")
            let group = commands.filter { $0.path.first == arguments[0] }
            if !group.isEmpty {
                let subs = group.map { $0.path.dropFirst().joined(separator: " ") }.joined(separator: ", ")
                console.err("diffuse: error: '\(word)' needs a subcommand: \(subs)")
            } else {
                let names = Set(commands.map { $0.path.joined(separator: " ") } + commands.map { $0.path[0] })
                let typed = word.isEmpty ? arguments[0] : word
                let hint = didYouMean(typed, among: names)
                console.err("diffuse: error: unknown command '\(typed)'" + (hint.isEmpty ? " (see diffuse --help)" : hint))
            }
            return 2
        }
        let rest = Array(arguments.dropFirst(matchedPath.count))
        if rest.contains("--help") || rest.contains("-h") { console.out(command.usage); return 0 }
        // --quiet (any command): no progress or log lines on stderr; results and the error line remain.
        let quiet = rest.contains(Option.quiet.key)
        let commandConsole = quiet ? Console(out: console.out, err: { _ in }, errRedraw: nil) : console
        do {
            var parsed = try ParsedArguments.parse(rest.filter { $0 != Option.quiet.key }, options: command.options,
                                                   positionals: command.arguments.count)
            parsed.invocation = (["diffuse"] + arguments).joined(separator: " ")
            // The count applies to work this call starts (the CLI's whole run), not to other threads of
            // the process (tests drive commands concurrently in one process).
            var runConsole = commandConsole
            if parsed.flag(.distributed) {
                let group = try startGroup(parsed, command: command)
                ProcessGroup.active = group
                // Rank 0 speaks for the job; every rank's error line still prints (below).
                if !group.isRoot { runConsole = Console(out: { _ in }, err: { _ in }, errRedraw: nil) }
            }
            defer {
                if let group = ProcessGroup.active {
                    ProcessGroup.active = nil
                    group.finish()
                }
            }
            if command.options.contains(where: { $0.key == Option.threads.key }), let n = try parsed.int(.threads, range: 1...256) {
                try Threads.withCount(n) { try command.run(parsed, console: runConsole) }
            } else {
                try command.run(parsed, console: runConsole)
            }
            return 0
        } catch let e as CLIError {
            console.err("diffuse \(command.path.joined(separator: " ")): error: \(e.message.oneLine())")
            return e.isUsage ? 2 : 1
        } catch {
            console.err("diffuse \(command.path.joined(separator: " ")): error: \(String(describing: error).oneLine())")
            return 1
        }
    }

    /// Joins the mpirun job for `--distributed`; the global batch must split evenly over the ranks.
    static func startGroup(_ parsed: ParsedArguments, command: any Command.Type) throws -> ProcessGroup {
        let group: ProcessGroup
        do { group = try ProcessGroup.start() } catch let e as ProcessGroupError { throw CLIError("--distributed: \(e.description)") }
        if let option = command.options.first(where: { $0.key == "--batch-size" }), let b = try parsed.int(option), b % group.size != 0 {
            group.finish()
            throw CLIError("--distributed: --batch-size \(b) (the global batch) must be a multiple of the \(group.size) ranks", usage: true)
        }
        return group
    }
}
