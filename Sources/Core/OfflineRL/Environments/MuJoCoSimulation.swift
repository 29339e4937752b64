import CMuJoCo
import Foundation

/// Failures of the MuJoCo layer: a model that does not compile, or a simulation that went unstable.
public enum SimulationError: Error, Equatable, CustomStringConvertible {
    case modelDoesNotCompile(String, message: String)
    case unstable(String)

    public var description: String {
        switch self {
        case let .modelDoesNotCompile(m, message): return "MuJoCo could not compile the \(m) model: \(message)"
        case let .unstable(why): return why
        }
    }
}

/// A compiled MuJoCo model (read-only once compiled; any number of `MuJoCoData` may share it).
final class MuJoCoModel {
    let pointer: UnsafeMutablePointer<mjModel>
    let name: String

    init(name: String, xml: String) throws {
        cmj_silence_warnings()
        var error = [CChar](repeating: 0, count: 1000)
        let compiled = xml.withCString { cmj_load_xml_string($0, &error, Int32(error.count)) }
        guard let compiled else {
            let message = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw SimulationError.modelDoesNotCompile(name, message: message)
        }
        pointer = compiled
        self.name = name
    }

    deinit { mj_deleteModel(pointer) }

    var nq: Int { Int(pointer.pointee.nq) }
    var nv: Int { Int(pointer.pointee.nv) }
    var nu: Int { Int(pointer.pointee.nu) }
    var timestep: Double { pointer.pointee.opt.timestep }
    /// qpos0: the model's initial positions (Gymnasium's init_qpos).
    var initialPositions: [Double] { Array(UnsafeBufferPointer(start: pointer.pointee.qpos0, count: nq)) }
}

/// One simulation state of a model, driven with Gymnasium's call sequence (docs/environments.md §5):
/// reset = mj_resetData, set qpos/qvel, mj_forward exactly once; step = ctrl, mj_step × frame skip,
/// mj_rnePostConstraint.
final class MuJoCoData {
    let model: MuJoCoModel
    let pointer: UnsafeMutablePointer<mjData>

    init(model: MuJoCoModel) {
        self.model = model
        pointer = mj_makeData(model.pointer)
    }

    deinit { mj_deleteData(pointer) }

    var qpos: UnsafeMutablePointer<mjtNum> { pointer.pointee.qpos }
    var qvel: UnsafeMutablePointer<mjtNum> { pointer.pointee.qvel }

    /// Gymnasium's reset + set_state. A second mj_forward would change qacc_warmstart, and with it
    /// the trajectory (Walker2d drifts by step ~1000), so it is called once.
    func setState(qpos p: [Double], qvel v: [Double]) {
        precondition(p.count == model.nq && v.count == model.nv, "MuJoCoData.setState: wrong sizes")
        mj_resetData(model.pointer, pointer)
        for i in 0..<p.count { qpos[i] = p[i] }
        for i in 0..<v.count { qvel[i] = v[i] }
        mj_forward(model.pointer, pointer)
    }

    /// `frameSkip` physics steps under control `ctrl` (MuJoCo clamps it to ctrlrange itself).
    /// Throws when MuJoCo finds a NaN, infinite or huge (> 1e10) value: it has then reset the state,
    /// so the rollout cannot continue honestly.
    func step(ctrl: [Double], frameSkip: Int) throws {
        let c = pointer.pointee.ctrl!
        for i in 0..<ctrl.count { c[i] = ctrl[i] }
        let before = cmj_instability_count(pointer)
        for _ in 0..<frameSkip { mj_step(model.pointer, pointer) }
        mj_rnePostConstraint(model.pointer, pointer)
        guard cmj_instability_count(pointer) == before else {
            throw SimulationError.unstable("\(model.name): the simulation became unstable (NaN, infinite or huge position, velocity or acceleration) at t = \(pointer.pointee.time)")
        }
    }
}
