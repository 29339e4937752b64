// The public library: `import PolicyDiffusion` gives every layer of the stack.
@_exported import NN
@_exported import TensorCore
@_exported import Diffusion
@_exported import Imaging
@_exported import OfflineRL
@_exported import PGD
@_exported import FISOR
@_exported import SePPO
@_exported import DiffusionPolicies
