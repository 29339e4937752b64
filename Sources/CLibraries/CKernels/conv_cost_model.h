// Cost-model constants for pd_conv_choose: seconds per feature of pd_conv_cost_features
// (direct: flop, copied/im2col entry, tile or GEMM call, weight-gradient grid flop; FFT: transform
// n·log2 n, complex-GEMM flop, copied entry, per-frequency GEMM call). Written by `diffuse bench conv --calibrate FILE`
// (docs/convolution.md) from medians over issue B's grid on the development machine (2 threads):
// forward times for inference, forward+backward times for training steps.
#define PD_COST_DIRECT {4.7189e-12, 1.1997e-10, 0.0000e+00, 0.0000e+00}
#define PD_COST_FFT {1.5635e-10, 1.3936e-11, 0.0000e+00, 1.1551e-06}
#define PD_COST_DIRECT_TRAINING {8.5443e-12, 0.0000e+00, 3.6104e-07, 5.9733e-12}
#define PD_COST_FFT_TRAINING {3.5902e-10, 3.3616e-11, 0.0000e+00, 1.5689e-06}
