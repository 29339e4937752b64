import Foundation
import PolicyDiffusion

/// A generative model as `diffuse sample` uses it, whatever its kind.
struct SampleableModel {
    /// What the model generates, for messages and plot titles.
    var name: String
    /// The shape of one sample.
    var sampleShape: [Int]
    var objective: DiffusionObjective
    var network: DenoisingNetwork
    /// Lines describing a batch of samples (quality metrics against the training data).
    var describe: (Tensor) -> [String]
    /// Class-conditional models: the number of classes, and the network conditioned on one label per row.
    var classes: Int? = nil
    var conditionalNetwork: (([Int]) -> DenoisingNetwork)? = nil
    /// Class-conditional models: classifier-free guidance with weight w, w·f(x, c) + (1 − w)·f(x, ∅).
    var guidedNetwork: (([Int], Float) -> DenoisingNetwork)? = nil
}

/// A policy checkpoint as `diffuse eval` uses it.
struct PolicyCheckpoint {
    var policy: any Policy
    var observationDim: Int
    var actionDim: Int
    /// The environment it was trained on, if recorded.
    var environment: String?
}

/// The one place that knows which checkpoint kinds each command can load (by the `model` in a
/// checkpoint's metadata). A new model kind adds one `register` line here.
enum Loaders {
    static var sampleable: CheckpointRegistry<SampleableModel> {
        var r = CheckpointRegistry<SampleableModel>(purpose: "sampling (diffuse sample)")
        r.register(MLPDenoiser.self) { url, metadata in
            guard let text = metadata["training"], let training = try? JSONDecoder().decode(ToyTrainingSettings.self, from: Data(text.utf8)) else {
                throw CLIError("\(url.path) is not a `diffuse train toy` checkpoint (no training record in its metadata)")
            }
            let (net, _, _) = try Checkpoint.load(MLPDenoiser.self, from: url)
            net.eval()
            let dist = training.distribution
            return SampleableModel(name: dist.rawValue, sampleShape: [net.config.dataDim], objective: training.objective, network: net.network()) { x in
                let n = Swift.min(x.shape[0], 2000)
                let real = dist.sample(n, rng: RandomGenerator(seed: 12345))
                return [String(format: "MMD² to fresh data %.5f", mmdSquared(x.slice(axis: 0, 0..<n), real)), dist.structure(of: x).description]
            }
        }
        r.register(UNet2D.self) { url, _ in
            let (net, objective) = try ImageModel.load(url)
            let c = net.config
            // classes 0: an unconditional model (`diffuse train image` on unlabelled images), sampled with the null class.
            let conditional = c.classes > 0
            return SampleableModel(name: "\(conditional ? "class-conditional" : "unconditional") \(c.size)×\(c.size)×\(c.channels) images",
                                   sampleShape: [c.channels, c.size, c.size], objective: objective, network: net.network(),
                                   describe: { _ in conditional ? ["rows cycle through the classes 0…\(c.classes - 1)"] : [] }, classes: conditional ? c.classes : nil,
                                   conditionalNetwork: conditional ? { labels in net.network(condition: Tensor(labels.map(Float.init))) } : nil,
                                   guidedNetwork: conditional ? { labels, w in
                                       classifierFree({ x, t, c in net.network(condition: c)(x, t) }, condition: Tensor(labels.map(Float.init)), weight: w)
                                   } : nil)
        }
        return r
    }

    static var policies: CheckpointRegistry<PolicyCheckpoint> {
        var r = CheckpointRegistry<PolicyCheckpoint>(purpose: "evaluation (diffuse eval)")
        r.register(AgentNetworks.self) { url, _ in
            let agent = try AgentPolicy.load(url)
            return PolicyCheckpoint(policy: agent, observationDim: agent.observationDim, actionDim: agent.actionDim, environment: agent.metadata["env"])
        }
        r.register(DiffusionPolicyNetworks.self) { url, _ in
            let agent = try DiffusionAgentPolicy.load(url)
            return PolicyCheckpoint(policy: agent, observationDim: agent.observationDim, actionDim: agent.actionDim, environment: agent.metadata["env"])
        }
        r.register(FISORNetworks.self) { url, _ in
            let fisor = try FISORPolicy.load(url)
            return PolicyCheckpoint(policy: fisor, observationDim: fisor.observationDim, actionDim: fisor.actionDim, environment: fisor.metadata["env"])
        }
        return r
    }
}

extension Loaders {
    /// An agent checkpoint that must act on `observationDim`-d observations and `actionDim`-d actions
    /// (`what` names the data it must fit, for the one-line error).
    static func agent(_ path: String, observationDim: Int, actionDim: Int, what: String) throws -> AgentPolicy {
        let agent = try AgentPolicy.load(URL(fileURLWithPath: path))
        guard agent.observationDim == observationDim, agent.actionDim == actionDim else {
            throw CLIError("\(path) acts on \(agent.observationDim)-d observations and \(agent.actionDim)-d actions; \(what) has \(observationDim) and \(actionDim)")
        }
        return agent
    }
}

