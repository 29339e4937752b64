// CKernels — the project's C layer. Everything that must be fast or must talk to BLAS/FFTW goes
// through this small API. All buffers are float32, row-major, and never aliased unless stated.
#ifndef PD_CKERNELS_H
#define PD_CKERNELS_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------- threads
// One thread policy for the whole library: our pool owns the cores; OpenBLAS always runs on one
// thread (called from inside our pool). Partitions depend only on the thread count, so the same
// thread count gives bit-identical results.
typedef void (*pd_task_fn)(void *ctx, int64_t begin, int64_t end);

/// Sets the number of threads (≥ 1) used by every parallel region; starts workers lazily.
void pd_set_num_threads(int n);
int pd_get_num_threads(void);
/// Thread count for the calling thread only (0: back to the process-wide count); regions it starts
/// pass it to their workers, so nested regions partition alike.
void pd_set_scoped_threads(int n);
int pd_get_scoped_threads(void);
/// Number of online CPUs.
int pd_cpu_count(void);
/// 1 while the pool's workers spin only briefly before parking, because our threads have lately been
/// preempted (another process wants the cores); 0 while they spin the full time.
int pd_pool_spin_is_short(void);
// The OpenBLAS core in use, and the one OpenBLAS detected itself (blas_core.c: a fallback such as
// Prescott on a CPU it does not recognise is replaced by one chosen from the CPU's features).
const char *pd_blas_core(void);
const char *pd_blas_detected_core(void);
/// Splits [0, n) into min(threads, ceil(n / grain)) contiguous chunks and runs `fn` on each.
/// Nested or concurrent calls run the same chunks serially on the calling thread.
void pd_parallel_for(int64_t n, int64_t grain, pd_task_fn fn, void *ctx);

// ---------------------------------------------------------------- GEMM
/// C = alpha·op(A)·op(B) + beta·C (row-major), split over rows or columns across our threads with
/// single-threaded BLAS in each part.
void pd_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
              float *c, int64_t ldc);
/// `batch` independent GEMMs with element strides between consecutive matrices.
void pd_sgemm_batched(int64_t batch, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                      float alpha, const float *a, int64_t lda, int64_t stride_a,
                      const float *b, int64_t ldb, int64_t stride_b, float beta,
                      float *c, int64_t ldc, int64_t stride_c);

// ---------------------------------------------------------------- vectorised elementwise math
typedef enum {
    PD_EXP = 0, PD_LOG, PD_TANH, PD_SIGMOID, PD_SOFTPLUS, PD_LOGSIGMOID, PD_MISH, PD_SILU,
    PD_RELU, PD_SQRT, PD_ABS, PD_NEG,
} pd_unary_op;

/// y = op(x). In place (x == y) is allowed.
void pd_unary(int op, const float *x, float *y, int64_t n);
/// gx = gy · op'(x) (y = op(x) is passed for ops whose derivative is cheaper from it; may be NULL
/// for MISH/SILU/SOFTPLUS/LOGSIGMOID/RELU/ABS). gx may alias gy.
void pd_unary_backward(int op, const float *x, const float *y, const float *gy, float *gx, int64_t n);
/// y[i, j] = op(x[i, j] + bias[j]) for an (rows × cols) matrix, x may alias y; pre (optional)
/// receives x + bias before the activation. op = -1 means identity.
void pd_bias_act(int op, const float *x, const float *bias, float *y, float *pre, int64_t rows, int64_t cols);
// t ← t + w·(s − t): Polyak averaging of target networks and EMA weights.
void pd_lerp(float *t, const float *s, float w, int64_t n);
// 1 when no element of x is inf or NaN (loss and gradient guards).
int pd_all_finite(const float *x, int64_t n);
// out[c] = Σ_r x[r, c] for a row-major [rows, cols] matrix (bias gradients), in row order.
void pd_column_sums(const float *x, float *out, int64_t rows, int64_t cols);

// ---------------------------------------------------------------- fused group normalization
/// y = act(GroupNorm(x)·w + b) for x of shape (batch, channels, length) (length = product of the
/// trailing axes), normalizing each (sample, group) over its channels × length entries (biased
/// variance). Saves xhat (x's shape) and inv_std (batch × groups) for the backward. op = -1: identity.
void pd_group_norm(int op, const float *x, const float *w, const float *b, float *y, float *xhat, float *inv_std,
                   int64_t batch, int64_t channels, int64_t length, int64_t groups, float eps);
/// Gradients of pd_group_norm: gx (x's shape), gw and gb (channels).
void pd_group_norm_backward(int op, const float *gy, const float *xhat, const float *inv_std, const float *w,
                            const float *b, float *gx, float *gw, float *gb,
                            int64_t batch, int64_t channels, int64_t length, int64_t groups);

// ---------------------------------------------------------------- random numbers
// Counter-based (SplitMix64 finaliser over seed + index·γ): element i of a draw depends only on
// (seed, counter + i), so results never depend on the thread count.
void pd_fill_uniform(uint64_t seed, uint64_t counter, float *out, int64_t n, float low, float high);
void pd_fill_normal(uint64_t seed, uint64_t counter, float *out, int64_t n, float mean, float std);
uint64_t pd_random_u64(uint64_t seed, uint64_t counter);

// ---------------------------------------------------------------- optimizer updates
/// One Adam/AdamW update on n parameters, in PyTorch's operation order.
/// decoupled = 0: L2 (grad += wd·p); decoupled = 1: AdamW (p *= 1 − lr·wd).
void pd_adam_update(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1,
                    float beta2, float eps, float bias_correction1, float bias_correction2,
                    float weight_decay, int decoupled);

#ifdef __cplusplus
}
#endif
#endif

#ifndef PD_CONV_API
#define PD_CONV_API
#ifdef __cplusplus
extern "C" {
#endif
// ---------------------------------------------------------------- convolution
// One API for every convolution in the library: conv1d (N, C, L) is conv2d with H = 1.
// Cross-correlation as PyTorch defines it: y[n, co, i, j] = b[co] + Σ_{ci, a, b}
//   w[co, ci, a, b] · x[n, ci, i·sh + a − pad_top, j·sw + b − pad_left]   (zero outside x).
// Weights are [c_out, c_in, k_h, k_w]. Algorithms: DIRECT (blocked register tiles), FFT (FFTW r2c,
// channel mixing as complex GEMM per frequency, c2r) and WINOGRAD (F(4×4, 3×3), F(4, 3), F(4, 5) for
// stride-1 3×3, 1×3 and 1×5 kernels; other shapes run DIRECT; the weight gradient is DIRECT's); AUTO picks
// FFT or DIRECT by a calibrated cost model (or a tuning file), and WINOGRAD over DIRECT for inference where it
// applies. NAIVE is the loop-nest reference for tests.

typedef enum { PD_CONV_AUTO = 0, PD_CONV_DIRECT = 1, PD_CONV_FFT = 2, PD_CONV_NAIVE = 3, PD_CONV_WINOGRAD = 4 } pd_conv_algo;
/// TRAINING asks for the algorithm of a whole training step (forward and both gradients, which
/// then all use it); FORWARD for inference.
typedef enum { PD_CONV_PASS_FORWARD = 0, PD_CONV_PASS_BACKWARD_INPUT = 1, PD_CONV_PASS_BACKWARD_WEIGHT = 2,
               PD_CONV_PASS_TRAINING = 3 } pd_conv_pass;

typedef struct {
    int64_t batch, c_in, c_out;
    int64_t in_h, in_w;
    int64_t k_h, k_w;
    int64_t stride_h, stride_w;
    int64_t pad_top, pad_bottom, pad_left, pad_right;
} pd_conv_shape;

/// Error codes: 0 ok; otherwise the shape is invalid (message from pd_conv_error_message).
int pd_conv_validate(const pd_conv_shape *s, int64_t *out_h, int64_t *out_w);
const char *pd_conv_error_message(int code);

/// The algorithm AUTO resolves to for this shape and pass (deterministic).
int pd_conv_choose(const pd_conv_shape *s, int pass);
/// Reads a tuning file (lines: "<shape key> <pass> <algo>"); returns entries read or −1.
int pd_conv_load_tuning(const char *path);
/// The key a tuning file uses for a shape.
void pd_conv_shape_key(const pd_conv_shape *s, char *buffer, int64_t size);

/// Forward transforms kept from a forward pass for reuse in the backward pass (FFT path).
typedef struct pd_conv_saved pd_conv_saved;
pd_conv_saved *pd_conv_saved_create(void);
void pd_conv_saved_free(pd_conv_saved *saved);

/// y = conv(x, w) + b (b may be NULL). `saved` (nullable) receives the FFT path's transforms.
int pd_conv_forward(const pd_conv_shape *s, int algo, const float *x, const float *w, const float *b,
                    float *y, pd_conv_saved *saved);
/// gx = ∂L/∂x given gy (overwrites gx).
int pd_conv_backward_input(const pd_conv_shape *s, int algo, const float *gy, const float *w, float *gx,
                           pd_conv_saved *saved);
/// gw = ∂L/∂w and gb = ∂L/∂b (gb nullable), overwriting both.
int pd_conv_backward_weight(const pd_conv_shape *s, int algo, const float *x, const float *gy, float *gw,
                            float *gb, pd_conv_saved *saved);
/// The cost model behind AUTO: predicted seconds = Σ constantᵢ·featureᵢ per algorithm. Features
/// (PD_CONV_COST_TERMS of them) are exposed so the calibration command fits the constants.
#define PD_CONV_COST_TERMS 4
int pd_conv_cost_features(const pd_conv_shape *s, int algo, double *features);
double pd_conv_cost(const pd_conv_shape *s, int algo, int training);
/// Replaces the forward (training = 0) or training-step (training = 1) cost-model constants for this
/// process (the calibration command shows a new fit's choices; committed constants: conv_cost_model.h).
void pd_conv_set_cost_model(int training, const double *direct, const double *fft);
/// Tests: run the blocked direct kernel's portable C version even where AVX-512 is available (the
/// two perform the same fused multiply-adds in the same order, so results are bit-identical).
void pd_conv_use_portable_kernels(int on);
/// Tests: Winograd's constant transform tables equal the Toom–Cook construction they were printed from, and the factored
/// F(4, 3) transforms compute those tables.
int pd_winograd_tables_match(void);
/// FFTW plans currently cached (for the no-growth check).
int64_t pd_conv_cached_plans(void);
#ifdef __cplusplus
}
#endif
#endif
