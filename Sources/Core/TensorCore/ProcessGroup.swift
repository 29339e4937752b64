import CMPI
import Foundation

/// Why a process group cannot start.
public struct ProcessGroupError: Error, CustomStringConvertible {
    public var description: String
}

/// The ranks of a data-parallel run started by `mpirun` (docs/distributed.md): rank 0 … size − 1, with
/// the collectives training needs. Open MPI is loaded at run time, so a machine without MPI builds
/// and runs everything else; asking for a group there is a one-line error.
///
/// Data parallelism here keeps every rank's state identical: each rank draws the same global
/// minibatch and noise (same seed, same generator), works on its `shard` of the rows, and the
/// optimizer averages gradients over ranks before its step — so R ranks on a global batch B take the
/// steps one process takes on B, up to float summation order.
public final class ProcessGroup: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Seconds spent in gradient all-reduce and the bytes reduced per rank, since start (docs/distributed.md).
    public private(set) var allReduceSeconds = 0.0
    public private(set) var allReduceBytes = 0
    public private(set) var allReduceCalls = 0
    /// Set while an update runs on this rank's shard of a global batch of this many rows (an
    /// offline-RL update): whoever draws per-row noise draws it for the global batch and keeps the
    /// shard's rows, as `DiffusionObjective.loss` does.
    public var shardedBatch: Int?

    /// The group of the running data-parallel job; nil in a single process. Set once by the CLI
    /// (or a library user) before training starts.
    public nonisolated(unsafe) static var active: ProcessGroup?

    /// The active group when it has more than one rank: what sharding code asks for (a one-rank job
    /// behaves as a single process).
    public static var parallel: ProcessGroup? { active.flatMap { $0.size > 1 ? $0 : nil } }

    private init(rank: Int, size: Int) { self.rank = rank; self.size = size }

    /// Loads Open MPI and joins the job's world communicator.
    public static func start() throws -> ProcessGroup {
        var message = [CChar](repeating: 0, count: 512)
        guard pd_mpi_load(&message, message.count) == 0 else {
            let text = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            throw ProcessGroupError(description: String(decoding: text, as: UTF8.self))
        }
        guard pd_mpi_launched() != 0 else {
            throw ProcessGroupError(description: "--distributed needs the job to be started by mpirun (e.g. mpirun -n 2 diffuse …)")
        }
        var rank: Int32 = 0, size: Int32 = 0
        guard pd_mpi_init(&rank, &size) == 0 else { throw ProcessGroupError(description: "MPI_Init failed") }
        return ProcessGroup(rank: Int(rank), size: Int(size))
    }

    public var isRoot: Bool { rank == 0 }

    /// Runs `body` — work on this rank's shard of a global batch of `rows` — with `shardedBatch` set,
    /// so per-row draws inside it (diffusion noise, dropout masks) follow the global batch; the
    /// previous value is restored afterwards.
    public func onShard<R>(of rows: Int, _ body: () throws -> R) rethrows -> R {
        let previous = shardedBatch
        shardedBatch = rows
        defer { shardedBatch = previous }
        return try body()
    }

    /// This rank's rows of a global batch of `rows`: contiguous, sizes differing by at most one.
    public func shard(_ rows: Int) -> Range<Int> { (rows * rank / size)..<(rows * (rank + 1) / size) }

    /// In-place sum over ranks.
    public func allReduceSum(_ values: inout [Float]) {
        let started = pd_mpi_wtime()
        let status = values.withUnsafeMutableBufferPointer { pd_mpi_allreduce_sum_f32($0.baseAddress, Int64($0.count)) }
        precondition(status == 0, "MPI_Allreduce failed")
        allReduceSeconds += pd_mpi_wtime() - started
        allReduceBytes += values.count * MemoryLayout<Float>.size
        allReduceCalls += 1
    }

    /// In-place sum over ranks (doubles: counts and metrics).
    public func allReduceSum(_ values: inout [Double]) {
        let status = values.withUnsafeMutableBufferPointer { pd_mpi_allreduce_sum_f64($0.baseAddress, Int64($0.count)) }
        precondition(status == 0, "MPI_Allreduce failed")
    }

    /// Rank 0's `values` on every rank.
    public func broadcast(_ values: inout [Float]) {
        let status = values.withUnsafeMutableBytes { pd_mpi_bcast($0.baseAddress, Int64($0.count), 0) }
        precondition(status == 0, "MPI_Bcast failed")
    }

    /// Every rank's bytes, in rank order, on rank 0 (nil on the others).
    public func gather(_ data: Data) -> [Data]? {
        var counts = [Int64](repeating: 0, count: size)
        precondition(pd_mpi_allgather_count(Int64(data.count), &counts) == 0, "MPI_Allgather failed")
        let total = Int(counts.reduce(0, +))
        var received = [UInt8](repeating: 0, count: isRoot ? Swift.max(total, 1) : 1)
        let status = data.withUnsafeBytes { send in
            received.withUnsafeMutableBytes { pd_mpi_gather_bytes(send.baseAddress, Int64(data.count), $0.baseAddress, counts, 0) }
        }
        precondition(status == 0, "MPI_Gatherv failed (more than 2 GiB from one rank?)")
        guard isRoot else { return nil }
        var parts: [Data] = [], offset = 0
        for c in counts.map(Int.init) {
            parts.append(Data(received[offset..<(offset + c)]))
            offset += c
        }
        return parts
    }

    public func barrier() { precondition(pd_mpi_barrier() == 0, "MPI_Barrier failed") }

    /// Leaves the job (after the last collective).
    public func finish() { _ = pd_mpi_finalize() }
}

extension Parameter {
    /// Rank 0's values of `parameters` on every rank (one broadcast for all of them).
    public static func broadcast(_ parameters: [Parameter], in group: ProcessGroup) {
        var flat = parameters.flatMap { $0.value.scalars }
        group.broadcast(&flat)
        var offset = 0
        for p in parameters {
            let n = p.value.count
            p.value = Tensor(Array(flat[offset..<(offset + n)]), shape: p.shape)
            offset += n
        }
    }

    /// Replaces every gradient by its mean over the ranks: one all-reduce over all gradients packed
    /// into one buffer (a single bucket; a parameter without a gradient contributes zeros so every
    /// rank packs the same layout).
    public static func averageGradients(_ parameters: [Parameter], in group: ProcessGroup) {
        var flat: [Float] = []
        flat.reserveCapacity(parameters.reduce(0) { $0 + $1.value.count })
        for p in parameters { flat += p.grad?.scalars ?? [Float](repeating: 0, count: p.value.count) }
        group.allReduceSum(&flat)
        let scale = 1 / Float(group.size)
        var offset = 0
        for p in parameters {
            let n = p.value.count
            if p.grad != nil { p.grad = Tensor(flat[offset..<(offset + n)].map { $0 * scale }, shape: p.shape) }
            offset += n
        }
    }
}
