// Cost-model constants for pd_conv_choose: seconds per feature of pd_conv_cost_features
// (direct: GEMM flop, copied/im2col entry, GEMM call; FFT: transform n·log2 n, complex-GEMM flop,
// copied entry, per-frequency GEMM call). Written by `diffuse bench conv --calibrate FILE`
// (docs/convolution.md) from medians over issue B's grid on the development machine (2 threads):
// forward times for inference, forward+backward times for training steps.
#define PD_COST_DIRECT {5.4919e-12, 1.1701e-10, 1.0809e-05, 0.0000e+00}
#define PD_COST_FFT {5.7093e-11, 1.6810e-11, 0.0000e+00, 1.1526e-05}
#define PD_COST_DIRECT_TRAINING {1.6595e-11, 1.1853e-09, 2.2973e-05, 0.0000e+00}
#define PD_COST_FFT_TRAINING {2.1291e-10, 3.2893e-11, 0.0000e+00, 2.0180e-05}
