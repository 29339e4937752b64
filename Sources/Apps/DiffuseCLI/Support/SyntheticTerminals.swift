import PolicyDiffusion

extension Option {
    /// How synthetic transitions end (pgd train-agent, pgd generate, world-model rollout).
    static let syntheticTerminals = Option("--terminals", value: "rule|model", default: "rule",
                                           help: "terminals of synthetic transitions: the environment's own termination rule on the next observation "
                                               + "(hopper, walker2d: Gymnasium's is_healthy; docs/pgd.md §6), or the generator's alone (model)")
}

extension ParsedArguments {
    /// Whether the environment's termination rule labels synthetic data (`--terminals rule`, the default).
    func terminalsByRule(_ o: Option) throws -> Bool {
        try choice(o, among: ["rule", "model"]) == "rule"
    }
}

extension OfflineDataset {
    /// Ends synthetic rows by `rule` (nil: the generator's own terminals) and records which in the attributes.
    mutating func endSynthetic(by rule: TerminationRule?) {
        if let rule { self = rule.label(self) }
        attributes["terminals"] = rule == nil ? "model" : "rule"
    }
}
