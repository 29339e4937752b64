import CLAPACK
import Foundation
import TensorCore

/// Why a symmetric eigen-decomposition failed.
public struct LAPACKError: Error, CustomStringConvertible {
    public var routine: String
    public var info: Int32
    public var description: String { "\(routine) failed (info \(info))" }
}

/// Eigen-decomposition of a real symmetric matrix with LAPACK's DSYEVD (OpenBLAS), in Double.
public enum SymmetricEigen {
    /// Eigenvalues (ascending) and the eigenvectors as columns of a row-major n×n matrix
    /// (`vectors[i * n + j]` is component i of eigenvector j). `matrix` is row-major n×n, symmetric.
    public static func decompose(_ matrix: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n && n > 0, "a symmetric eigen-decomposition needs an n×n matrix")
        // Row-major and column-major agree for a symmetric matrix; the eigenvectors come back in
        // columns of the column-major result, i.e. a[j * n + i] is component i of vector j.
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workSize = 0.0
        var iworkSize: Int32 = 0
        let jobz: CChar = 86 /* V */, uplo: CChar = 85 /* U */
        var jz = jobz, ul = uplo
        dsyevd_(&jz, &ul, &nn, &a, &lda, &w, &workSize, &lwork, &iworkSize, &liwork, &info, 1, 1)
        guard info == 0 else { throw LAPACKError(routine: "dsyevd (workspace query)", info: info) }
        lwork = Int32(workSize.rounded(.up))
        liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jz, &ul, &nn, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        guard info == 0 else { throw LAPACKError(routine: "dsyevd", info: info) }
        var vectors = [Double](repeating: 0, count: n * n)
        for j in 0..<n { for i in 0..<n { vectors[i * n + j] = a[j * n + i] } }
        return (w, vectors)
    }
}

/// The Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, FID):
/// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}). Tr((Σ₁Σ₂)^{1/2}) = Tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}), the
/// square root of a symmetric positive semi-definite matrix, so two symmetric eigen-decompositions
/// suffice (tiny negative eigenvalues from round-off count as 0). Covariances are unbiased (N − 1).
public enum FrechetDistance {
    /// Mean and covariance (row-major d×d) of the rows of `x` [N, d].
    public static func moments(_ x: Tensor) -> (mean: [Double], covariance: [Double]) {
        precondition(x.rank == 2 && x.shape[0] >= 2, "moments need [N ≥ 2, d] features")
        let n = x.shape[0], d = x.shape[1]
        let v = x.scalars.map(Double.init)
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += v[i * d + j] } }
        mean = mean.map { $0 / Double(n) }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for a in 0..<d {
                let da = v[i * d + a] - mean[a]
                for b in a..<d { cov[a * d + b] += da * (v[i * d + b] - mean[b]) }
            }
        }
        for a in 0..<d { for b in a..<d { cov[a * d + b] /= Double(n - 1); cov[b * d + a] = cov[a * d + b] } }
        return (mean, cov)
    }

    /// The distance between two Gaussians given by their moments.
    public static func distance(mean1: [Double], covariance1: [Double], mean2: [Double], covariance2: [Double]) throws -> Double {
        let d = mean1.count
        precondition(mean2.count == d && covariance1.count == d * d && covariance2.count == d * d, "moments of different dimensions")
        let meanTerm = zip(mean1, mean2).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let root1 = try squareRoot(covariance1, n: d)
        let m = multiply(multiply(root1, covariance2, n: d), root1, n: d)
        // Symmetrize against round-off before the second decomposition.
        var sym = m
        for a in 0..<d { for b in 0..<d { sym[a * d + b] = (m[a * d + b] + m[b * d + a]) / 2 } }
        let traceRoot = try SymmetricEigen.decompose(sym, n: d).values.reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
        let trace1 = (0..<d).reduce(0) { $0 + covariance1[$1 * d + $1] }
        let trace2 = (0..<d).reduce(0) { $0 + covariance2[$1 * d + $1] }
        return meanTerm + trace1 + trace2 - 2 * traceRoot
    }

    /// The distance between the Gaussians fitted to the rows of `x` and of `y`.
    public static func distance(_ x: Tensor, _ y: Tensor) throws -> Double {
        let (m1, c1) = moments(x), (m2, c2) = moments(y)
        return try distance(mean1: m1, covariance1: c1, mean2: m2, covariance2: c2)
    }

    /// The PSD square root V·diag(√max(λ, 0))·Vᵀ of a symmetric matrix.
    static func squareRoot(_ s: [Double], n: Int) throws -> [Double] {
        let (values, vectors) = try SymmetricEigen.decompose(s, n: n)
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let r = Swift.max(values[k], 0).squareRoot()
            guard r > 0 else { continue }
            for a in 0..<n {
                let va = vectors[a * n + k] * r
                for b in 0..<n { out[a * n + b] += va * vectors[b * n + k] }
            }
        }
        return out
    }

    static func multiply(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for k in 0..<n {
            let aik = a[i * n + k]
            for j in 0..<n { out[i * n + j] += aik * b[k * n + j] }
        } }
        return out
    }
}
