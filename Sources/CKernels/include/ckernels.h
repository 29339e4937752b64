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
/// Number of online CPUs.
int pd_cpu_count(void);
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

// ---------------------------------------------------------------- random numbers
// Counter-based (SplitMix64 finaliser over seed + index·γ): element i of a draw depends only on
// (seed, counter + i), so results never depend on the thread count.
void pd_fill_uniform(uint64_t seed, uint64_t counter, float *out, int64_t n, float low, float high);
void pd_fill_normal(uint64_t seed, uint64_t counter, float *out, int64_t n, float mean, float std);
uint64_t pd_random_u64(uint64_t seed, uint64_t counter);

// ---------------------------------------------------------------- optimiser updates
/// One Adam/AdamW update on n parameters, in PyTorch's operation order.
/// decoupled = 0: L2 (grad += wd·p); decoupled = 1: AdamW (p *= 1 − lr·wd).
void pd_adam_update(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1,
                    float beta2, float eps, float bias_correction1, float bias_correction2,
                    float weight_decay, int decoupled);

#ifdef __cplusplus
}
#endif
#endif
