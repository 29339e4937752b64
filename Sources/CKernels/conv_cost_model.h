// Cost-model constants for pd_conv_choose: seconds per feature of pd_conv_cost_features
// (direct: GEMM flop, im2col entry, GEMM call; FFT: transform n·log2 n, complex-GEMM flop, copied
// entry, per-frequency GEMM call). Initial estimates, to be replaced by the output of
// `diffuse bench conv --calibrate` (docs/convolution.md).
#define PD_COST_DIRECT {1.0e-11, 1.0e-9, 2.0e-6, 0}
#define PD_COST_FFT {5.0e-10, 2.0e-11, 2.0e-9, 1.0e-7}
