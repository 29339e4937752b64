// Cost-model constants for pd_conv_choose: seconds per feature of pd_conv_cost_features
// (direct: flop, copied/im2col entry, tile or GEMM call, weight-gradient grid flop; FFT: transform
// n·log2 n, complex-GEMM flop, copied entry, per-frequency GEMM call). Written by `diffuse bench conv --calibrate FILE`
// (docs/convolution.md) from medians over issue B's grid on the development machine (2 threads):
// forward times for inference, forward+backward times for training steps.
#define PD_COST_DIRECT {4.4540e-12, 0.0000e+00, 8.0057e-08, 7.6957e-14}
#define PD_COST_FFT {1.5878e-10, 1.2943e-11, 0.0000e+00, 2.6760e-06}
#define PD_COST_DIRECT_TRAINING {6.0224e-12, 0.0000e+00, 4.9883e-07, 8.8903e-12}
#define PD_COST_FFT_TRAINING {3.7096e-10, 2.8036e-11, 3.0623e-12, 5.5853e-06}
