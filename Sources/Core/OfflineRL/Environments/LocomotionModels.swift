import Foundation

/// The MJCF models of the locomotion robots, written by our code from their published physical
/// parameters (docs/environments.md §5): the geometry, joints, actuators and contact settings of
/// Gymnasium v4's HalfCheetah, Hopper and Walker2d. Only what affects the dynamics is emitted (no
/// lights, cameras, textures or materials). Numbers are written in Swift's shortest round-trip form,
/// so every parameter reaches MuJoCo as exactly the double given here — the tests compare the
/// dynamics with Gymnasium to 1e-9, which needs the same bits, not just the same decimals.
enum LocomotionModels {
    /// A joint of the kinematic tree. nil attributes inherit the model's defaults.
    struct Joint {
        var name: String
        var type = "hinge"
        var axis: [Double]
        var pos: [Double] = [0, 0, 0]
        var range: [Double]? = nil
        var ref: Double? = nil
        var damping: Double? = nil
        var stiffness: Double? = nil
        var armature: Double? = nil
        var limited: Bool? = nil
    }

    /// A capsule, given either by `fromto` or by (pos, size = [radius, half-length], orientation).
    struct Capsule {
        var name: String
        var size: [Double]
        var fromto: [Double]? = nil
        var pos: [Double]? = nil
        var axisangle: [Double]? = nil
        var quat: [Double]? = nil
        var friction: [Double]? = nil
    }

    struct Body {
        var name: String
        var pos: [Double]
        var joints: [Joint]
        var geoms: [Capsule]
        var children: [Body] = []
    }

    struct Robot {
        var model: String
        /// <compiler> attributes (angle units, inertia from geometry, total mass).
        var compiler: [(String, String)]
        var option: [(String, String)]
        var jointDefaults: [(String, String)]
        var geomDefaults: [(String, String)]
        var motorDefaults: [(String, String)] = []
        var size: [(String, String)] = []
        /// The ground plane: half-sizes and its contact attributes.
        var floorSize: [Double]
        var torso: Body
        /// (joint, gear, ctrlrange) per actuator, in action order.
        var motors: [(joint: String, gear: Double, ctrlRange: [Double]?)]
    }

    static func number(_ v: Double) -> String { v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
    static func numbers(_ v: [Double]) -> String { v.map(number).joined(separator: " ") }
    static func attributes(_ a: [(String, String)]) -> String { a.map { " \($0.0)=\"\($0.1)\"" }.joined() }

    static func xml(_ joint: Joint) -> String {
        var a: [(String, String)] = [("name", joint.name), ("type", joint.type), ("axis", numbers(joint.axis)), ("pos", numbers(joint.pos))]
        if let l = joint.limited { a.append(("limited", l ? "true" : "false")) }
        if let r = joint.range { a.append(("range", numbers(r))) }
        if let r = joint.ref { a.append(("ref", number(r))) }
        if let d = joint.damping { a.append(("damping", number(d))) }
        if let s = joint.stiffness { a.append(("stiffness", number(s))) }
        if let m = joint.armature { a.append(("armature", number(m))) }
        return "<joint\(attributes(a))/>"
    }

    static func xml(_ g: Capsule) -> String {
        var a: [(String, String)] = [("name", g.name), ("type", "capsule"), ("size", numbers(g.size))]
        if let f = g.fromto { a.append(("fromto", numbers(f))) }
        if let p = g.pos { a.append(("pos", numbers(p))) }
        if let r = g.axisangle { a.append(("axisangle", numbers(r))) }
        if let q = g.quat { a.append(("quat", numbers(q))) }
        if let f = g.friction { a.append(("friction", numbers(f))) }
        return "<geom\(attributes(a))/>"
    }

    static func xml(_ b: Body, indent: String) -> String {
        var lines = ["\(indent)<body name=\"\(b.name)\" pos=\"\(numbers(b.pos))\">"]
        lines += b.joints.map { "\(indent)  \(xml($0))" }
        lines += b.geoms.map { "\(indent)  \(xml($0))" }
        lines += b.children.map { xml($0, indent: indent + "  ") }
        lines.append("\(indent)</body>")
        return lines.joined(separator: "\n")
    }

    static func xml(_ r: Robot) -> String {
        var lines = ["<mujoco model=\"\(r.model)\">",
                     "  <compiler\(attributes(r.compiler))/>",
                     "  <default>",
                     "    <joint\(attributes(r.jointDefaults))/>",
                     "    <geom\(attributes(r.geomDefaults))/>"]
        if !r.motorDefaults.isEmpty { lines.append("    <motor\(attributes(r.motorDefaults))/>") }
        lines.append("  </default>")
        if !r.size.isEmpty { lines.append("  <size\(attributes(r.size))/>") }
        lines += ["  <option\(attributes(r.option))/>",
                  "  <worldbody>",
                  "    <geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"\(numbers(r.floorSize))\" conaffinity=\"1\" condim=\"3\"/>",
                  xml(r.torso, indent: "    "),
                  "  </worldbody>",
                  "  <actuator>"]
        for m in r.motors {
            var a: [(String, String)] = [("name", m.joint), ("joint", m.joint), ("gear", number(m.gear))]
            if let c = m.ctrlRange { a += [("ctrllimited", "true"), ("ctrlrange", numbers(c))] }
            lines.append("    <motor\(attributes(a))/>")
        }
        lines += ["  </actuator>", "</mujoco>"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The planar root of every robot: slide x, slide z, hinge about y, unlimited, undamped.
    /// `anchor` is where the slide joints sit relative to the torso; `zReference` makes qpos[1]
    /// the torso height (qpos0 = 1.25 for Hopper and Walker2d).
    static func planarRoot(anchor: [Double], zReference: Double?) -> [Joint] {
        [Joint(name: "rootx", type: "slide", axis: [1, 0, 0], pos: anchor, damping: 0, stiffness: 0, armature: 0, limited: false),
         Joint(name: "rootz", type: "slide", axis: [0, 0, 1], pos: anchor, ref: zReference, damping: 0, stiffness: 0, armature: 0, limited: false),
         Joint(name: "rooty", axis: [0, 1, 0], damping: 0, stiffness: 0, armature: 0, limited: false)]
    }

    /// HalfCheetah (Wawrzyński 2009, as in Gym/Gymnasium v4): a 14 kg planar body on two three-link
    /// legs; capsules of radius 0.046; joint stiffness and damping per joint; Euler, dt 0.01.
    static var halfCheetah: String {
        let r = 0.046
        func limb(_ name: String, pos: [Double], range: [Double], damping: Double, stiffness: Double,
                  geomPos: [Double], tilt: Double, halfLength: Double, children: [Body] = []) -> Body {
            Body(name: name, pos: pos,
                 joints: [Joint(name: name, axis: [0, 1, 0], range: range, damping: damping, stiffness: stiffness)],
                 geoms: [Capsule(name: name, size: [r, halfLength], pos: geomPos, axisangle: [0, 1, 0, tilt])], children: children)
        }
        let back = limb("bthigh", pos: [-0.5, 0, 0], range: [-0.52, 1.05], damping: 6, stiffness: 240, geomPos: [0.1, 0, -0.13], tilt: -3.8, halfLength: 0.145,
                        children: [limb("bshin", pos: [0.16, 0, -0.25], range: [-0.785, 0.785], damping: 4.5, stiffness: 180,
                                        geomPos: [-0.14, 0, -0.07], tilt: -2.03, halfLength: 0.15,
                                        children: [limb("bfoot", pos: [-0.28, 0, -0.14], range: [-0.4, 0.785], damping: 3, stiffness: 120,
                                                        geomPos: [0.03, 0, -0.097], tilt: -0.27, halfLength: 0.094)])])
        let front = limb("fthigh", pos: [0.5, 0, 0], range: [-1, 0.7], damping: 4.5, stiffness: 180, geomPos: [-0.07, 0, -0.12], tilt: 0.52, halfLength: 0.133,
                         children: [limb("fshin", pos: [-0.14, 0, -0.24], range: [-1.2, 0.87], damping: 3, stiffness: 120,
                                         geomPos: [0.065, 0, -0.09], tilt: -0.6, halfLength: 0.106,
                                         children: [limb("ffoot", pos: [0.13, 0, -0.18], range: [-0.5, 0.5], damping: 1.5, stiffness: 60,
                                                         geomPos: [0.045, 0, -0.07], tilt: -0.6, halfLength: 0.07)])])
        let torso = Body(name: "torso", pos: [0, 0, 0.7], joints: planarRoot(anchor: [0, 0, 0], zReference: nil),
                         geoms: [Capsule(name: "torso", size: [r], fromto: [-0.5, 0, 0, 0.5, 0, 0]),
                                 Capsule(name: "head", size: [r, 0.15], pos: [0.6, 0, 0.1], axisangle: [0, 1, 0, 0.87])],
                         children: [back, front])
        return xml(Robot(model: "halfcheetah",
                         compiler: [("angle", "radian"), ("inertiafromgeom", "true"), ("settotalmass", "14")],
                         option: [("gravity", "0 0 -9.81"), ("timestep", "0.01")],
                         jointDefaults: [("armature", "0.1"), ("damping", "0.01"), ("limited", "true"), ("solimplimit", "0 0.8 0.03"),
                                         ("solreflimit", "0.02 1"), ("stiffness", "8")],
                         geomDefaults: [("conaffinity", "0"), ("condim", "3"), ("contype", "1"), ("friction", "0.4 0.1 0.1"),
                                        ("solimp", "0 0.8 0.01"), ("solref", "0.02 1")],
                         motorDefaults: [("ctrllimited", "true"), ("ctrlrange", "-1 1")],
                         size: [("nstack", "300000")],
                         floorSize: [40, 40, 40], torso: torso,
                         motors: [("bthigh", 120, nil), ("bshin", 90, nil), ("bfoot", 60, nil), ("fthigh", 120, nil), ("fshin", 60, nil), ("ffoot", 30, nil)]))
    }

    /// One leg of Hopper / Walker2d: thigh (hip), leg (knee), foot (ankle), hinges about −y with
    /// ranges in degrees. Lengths are those of Gym's model after its conversion from `fromto`
    /// (hence 0.22500000000000003 and friends: the exact doubles, not their rounded decimals).
    static func leg(suffix: String, footX: Double, footHalfLength: Double, footFriction: Double) -> Body {
        let foot = Body(name: "foot" + suffix, pos: [footX, 0, -0.35],
                        joints: [Joint(name: "foot\(suffix)_joint", axis: [0, -1, 0], pos: [-footX, 0, 0.1], range: [-45, 45])],
                        geoms: [Capsule(name: "foot\(suffix)_geom", size: [0.06, footHalfLength], pos: [-footX / 2, 0, 0.1],
                                        quat: [0.70710678118654757, 0, -0.70710678118654746, 0], friction: [footFriction])])
        let shin = Body(name: "leg" + suffix, pos: [0, 0, -0.70000000000000007],
                        joints: [Joint(name: "leg\(suffix)_joint", axis: [0, -1, 0], pos: [0, 0, 0.25], range: [-150, 0])],
                        geoms: [Capsule(name: "leg\(suffix)_geom", size: [0.04, 0.25], friction: [0.9])], children: [foot])
        return Body(name: "thigh" + suffix, pos: [0, 0, -0.19999999999999996],
                    joints: [Joint(name: "thigh\(suffix)_joint", axis: [0, -1, 0], range: [-150, 0])],
                    geoms: [Capsule(name: "thigh\(suffix)_geom", size: [0.05, 0.22500000000000003], pos: [0, 0, -0.22500000000000009], friction: [0.9])],
                    children: [shin])
    }

    static func biped(legs: [Body]) -> Body {
        Body(name: "torso", pos: [0, 0, 1.25], joints: planarRoot(anchor: [0, 0, -1.25], zReference: 1.25),
             geoms: [Capsule(name: "torso_geom", size: [0.05, 0.19999999999999996], friction: [0.9])], children: legs)
    }

    /// Hopper (Erez, Tassa & Todorov 2011, as in Gym/Gymnasium v4): one leg, RK4, dt 0.002.
    static var hopper: String {
        xml(Robot(model: "hopper",
                  compiler: [("angle", "degree"), ("inertiafromgeom", "true")],
                  option: [("integrator", "RK4"), ("timestep", "0.002")],
                  jointDefaults: [("armature", "1"), ("damping", "1"), ("limited", "true")],
                  geomDefaults: [("conaffinity", "1"), ("condim", "1"), ("contype", "1"), ("margin", "0.001"),
                                 ("solimp", "0.8 0.8 0.01"), ("solref", "0.02 1")],
                  motorDefaults: [("ctrllimited", "true"), ("ctrlrange", "-0.4 0.4")],
                  floorSize: [20, 20, 0.125],
                  torso: biped(legs: [leg(suffix: "", footX: 0.13, footHalfLength: 0.195, footFriction: 2)]),
                  motors: ["thigh_joint", "leg_joint", "foot_joint"].map { ($0, 200, [-1, 1]) }))
    }

    /// Walker2d (Gym/Gymnasium v4): two Hopper-like legs (foot friction 0.9 right, 1.9 left), RK4, dt 0.002.
    static var walker2d: String {
        xml(Robot(model: "walker2d",
                  compiler: [("angle", "degree"), ("inertiafromgeom", "true")],
                  option: [("integrator", "RK4"), ("timestep", "0.002")],
                  jointDefaults: [("armature", "0.01"), ("damping", "0.1"), ("limited", "true")],
                  geomDefaults: [("conaffinity", "0"), ("condim", "3"), ("contype", "1"), ("density", "1000"), ("friction", "0.7 0.1 0.1")],
                  floorSize: [40, 40, 40],
                  torso: biped(legs: [leg(suffix: "", footX: 0.2, footHalfLength: 0.1, footFriction: 0.9),
                                      leg(suffix: "_left", footX: 0.2, footHalfLength: 0.1, footFriction: 1.9)]),
                  motors: ["thigh_joint", "leg_joint", "foot_joint", "thigh_left_joint", "leg_left_joint", "foot_left_joint"].map { ($0, 100, [-1, 1]) }))
    }
}
