// swift-tools-version:6.0
// PolicyDiffusion: diffusion models for offline RL and small-scale generation.
// Layers (docs/architecture.md): CKernels (C) → TensorCore → NN → (Diffusion, OfflineRL) → PGD/FISOR/SePPO/DiffusionPolicies → diffuse.
import PackageDescription

// C kernels: -O3 lets clang vectorise the branch-free math loops; no -march (binaries run on any
// x86-64) — AVX2/AVX-512 clones are selected at run time through target_clones.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-Wall"])]

let package = Package(
    name: "PolicyDiffusion",
    products: [
        .library(name: "PolicyDiffusion", targets: ["PolicyDiffusion"]),
        .executable(name: "diffuse", targets: ["diffuse"]),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libfftw3-dev, libhdf5-dev, libmujoco-dev; see scripts/setup.sh).
        .systemLibrary(name: "CBLAS", path: "Sources/CLibraries/CBLAS"),
        .systemLibrary(name: "CFFTW", path: "Sources/CLibraries/CFFTW"),
        .systemLibrary(name: "CHDF5", path: "Sources/CLibraries/CHDF5", pkgConfig: "hdf5"),
        .systemLibrary(name: "CZlib", path: "Sources/CLibraries/CZlib", pkgConfig: "zlib"),
        // LAPACK inside OpenBLAS (symmetric eigen-decomposition for SePPO's Fréchet distance).
        .systemLibrary(name: "CLAPACK", path: "Sources/CLibraries/CLAPACK"),
        // MuJoCo (Debian: libmujoco-dev 2.2.2): physics of the locomotion tasks (docs/environments.md §5).
        .systemLibrary(name: "CMuJoCo", path: "Sources/CLibraries/CMuJoCo"),

        // Layer 0: C kernels (thread pool, GEMM split, vectorised math, optimiser updates).
        .target(
            name: "CKernels", dependencies: ["CBLAS", "CFFTW"], path: "Sources/CLibraries/CKernels", cSettings: kernelFlags,
            linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("fftw3f"),
                             .linkedLibrary("fftw3f_threads"), .linkedLibrary("m"), .linkedLibrary("pthread")]),

        // HDF5's macros do not import into Swift: a small C facade (docs/conventions.md, Swift 6 on Linux).
        .target(name: "CHDF5IO", dependencies: ["CHDF5"], path: "Sources/CLibraries/CHDF5IO", cSettings: kernelFlags),

        // Open MPI's collectives, loaded at run time (dlopen): no build dependency on MPI
        // (docs/distributed.md explains why this is not a system-library target).
        .target(name: "CMPI", path: "Sources/CLibraries/CMPI", cSettings: kernelFlags, linkerSettings: [.linkedLibrary("dl")]),

        // Layer 1: tensors, reverse-mode autodiff, RNG, safetensors, the data-parallel process group.
        .target(name: "TensorCore", dependencies: ["CKernels", "CBLAS", "CMPI"], path: "Sources/Core/TensorCore"),

        // Layer 2: modules, layers, losses, optimisers, checkpoints, training helpers.
        .target(name: "NN", dependencies: ["TensorCore"], path: "Sources/Core/NN"),

        // Layer 3: the score-network core: schedules, samplers, guidance, denoisers.
        .target(name: "Diffusion", dependencies: ["NN"], path: "Sources/Core/Diffusion"),

        // Pictures and distances a run reports: PNG grids (zlib) and the Fréchet distance (LAPACK).
        .target(name: "Imaging", dependencies: ["TensorCore", "CLAPACK", "CZlib"], path: "Sources/Core/Imaging"),

        // Layer 4: offline RL substrate: datasets (HDF5, NPZ), environments, collection, agents, evaluation.
        .target(name: "OfflineRL", dependencies: ["NN", "CHDF5IO", "CZlib", "CMuJoCo"], path: "Sources/Core/OfflineRL"),

        // Methods, one target each, built only from the layers above.
        // Policy-Guided Diffusion (Jackson et al. 2024): trajectory model, policy guidance, synthetic data.
        .target(name: "PGD", dependencies: ["Diffusion", "OfflineRL"], path: "Sources/Methods/PGD"),
        // SePPO (Zhang et al. 2024) with Diffusion-DPO, SFT and SPIN baselines on 8×8 digits and pointmaze windows (docs/seppo.md).
        // It aligns any `AlignableGenerator` (Diffusion); PGD's window model conforms in PGD, so SePPO never imports a method.
        .target(name: "SePPO", dependencies: ["Diffusion", "NN", "OfflineRL", "Imaging"], path: "Sources/Methods/SePPO"),

        // FISOR (Zheng et al. 2024): feasibility-guided diffusion policies for safe offline RL.
        .target(name: "FISOR", dependencies: ["Diffusion", "OfflineRL"], path: "Sources/Methods/FISOR"),

        // Diffusion policies for any offline dataset: diffusion BC, IDQL (Hansen-Estruch et al. 2023),
        // Diffusion-QL (Wang et al. 2023), on the diffusion actor FISOR also uses (Diffusion's DiffusionActorSampler).
        .target(name: "DiffusionPolicies", dependencies: ["Diffusion", "OfflineRL"], path: "Sources/Methods/DiffusionPolicies"),

        // The public library: re-exports every layer.
        .target(name: "PolicyDiffusion", dependencies: ["TensorCore", "NN", "Diffusion", "Imaging", "OfflineRL", "PGD", "FISOR", "SePPO", "DiffusionPolicies"],
                path: "Sources/Apps/PolicyDiffusion"),

        // The command-line tool: logic in a library so tests can drive it; a thin executable.
        .target(name: "DiffuseCLI", dependencies: ["PolicyDiffusion", "CKernels", "CFFTW"], path: "Sources/Apps/DiffuseCLI"),
        .executableTarget(name: "diffuse", dependencies: ["DiffuseCLI", "PolicyDiffusion"], path: "Sources/Apps/diffuse"),

        // libFuzzer targets for every parser (make fuzz); a plain build replays corpus files.
        .executableTarget(name: "FuzzParsers", dependencies: ["PolicyDiffusion", "DiffuseCLI"], path: "Sources/Apps/FuzzParsers"),

        // Samples: how a user's own code imports the library.
        .executableTarget(name: "QuickStart", dependencies: ["PolicyDiffusion"], path: "Samples/QuickStart"),
        .executableTarget(name: "OfflineAgent", dependencies: ["PolicyDiffusion"], path: "Samples/OfflineAgent"),
        .executableTarget(name: "CustomGuidance", dependencies: ["PolicyDiffusion"], path: "Samples/CustomGuidance"),
        .executableTarget(name: "PolicyGuidedData", dependencies: ["PolicyDiffusion"], path: "Samples/PolicyGuidedData"),
        .executableTarget(name: "SafePolicy", dependencies: ["PolicyDiffusion"], path: "Samples/SafePolicy"),
        .executableTarget(name: "AlignDigits", dependencies: ["PolicyDiffusion"], path: "Samples/AlignDigits"),
        .executableTarget(name: "DiffusionPolicy", dependencies: ["PolicyDiffusion"], path: "Samples/DiffusionPolicy"),

        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "CKernels", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "NN", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OfflineRLTests", dependencies: ["OfflineRL", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PGDTests", dependencies: ["PGD", "TestSupport"]),
        .testTarget(name: "SePPOTests", dependencies: ["SePPO", "PGD", "OfflineRL", "Imaging", "CZlib", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FISORTests", dependencies: ["FISOR", "TestSupport"]),
        .testTarget(name: "DiffusionPoliciesTests", dependencies: ["DiffusionPolicies", "TestSupport"]),
        .testTarget(name: "DiffuseCLITests", dependencies: ["DiffuseCLI", "PolicyDiffusion", "TestSupport"]),
    ]
)
