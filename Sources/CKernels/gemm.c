// GEMM through OpenBLAS, split across our pool. OpenBLAS runs small GEMMs poorly on several threads
// (DESIGN.md, Performance notes); one single-threaded call per row or column block does better.
#include "ckernels.h"
#include <cblas.h>

// Below this many flops a split costs more than it saves.
#define PD_GEMM_SPLIT_FLOPS 400000.0

typedef struct {
    int trans_a, trans_b, split_rows;
    int64_t m, n, k, lda, ldb, ldc, align;
    float alpha, beta;
    const float *a, *b;
    float *c;
} gemm_job;

static inline enum CBLAS_TRANSPOSE tr(int t) { return t ? CblasTrans : CblasNoTrans; }

static void gemm_part(void *ctx, int64_t begin, int64_t end) {
    const gemm_job *j = (const gemm_job *)ctx;
    int64_t lo = begin * j->align, hi = end * j->align;
    int64_t total = j->split_rows ? j->m : j->n;
    if (hi > total) hi = total;
    if (hi <= lo) return;
    if (j->split_rows) {
        const float *a = j->trans_a ? j->a + lo : j->a + lo * j->lda;
        cblas_sgemm(CblasRowMajor, tr(j->trans_a), tr(j->trans_b), (int)(hi - lo), (int)j->n, (int)j->k,
                    j->alpha, a, (int)j->lda, j->b, (int)j->ldb, j->beta, j->c + lo * j->ldc, (int)j->ldc);
    } else {
        const float *b = j->trans_b ? j->b + lo * j->ldb : j->b + lo;
        cblas_sgemm(CblasRowMajor, tr(j->trans_a), tr(j->trans_b), (int)j->m, (int)(hi - lo), (int)j->k,
                    j->alpha, j->a, (int)j->lda, b, (int)j->ldb, j->beta, j->c + lo, (int)j->ldc);
    }
}

void pd_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
              float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    int threads = pd_get_num_threads();
    double flops = 2.0 * (double)m * (double)n * (double)k;
    gemm_job j = {trans_a, trans_b, m >= n, m, n, k, lda, ldb, ldc, 16, alpha, beta, a, b, c};
    if (threads <= 1 || flops < PD_GEMM_SPLIT_FLOPS || (m < 32 && n < 32)) {
        gemm_part(&j, 0, ((j.split_rows ? m : n) + 15) / 16);
        return;
    }
    int64_t blocks = ((j.split_rows ? m : n) + j.align - 1) / j.align;
    pd_parallel_for(blocks, 1, gemm_part, &j);
}

typedef struct {
    gemm_job g;
    int64_t sa, sb, sc;
} batched_job;

static void batched_part(void *ctx, int64_t begin, int64_t end) {
    const batched_job *bj = (const batched_job *)ctx;
    for (int64_t i = begin; i < end; i++) {
        const gemm_job *j = &bj->g;
        cblas_sgemm(CblasRowMajor, tr(j->trans_a), tr(j->trans_b), (int)j->m, (int)j->n, (int)j->k,
                    j->alpha, j->a + i * bj->sa, (int)j->lda, j->b + i * bj->sb, (int)j->ldb, j->beta,
                    j->c + i * bj->sc, (int)j->ldc);
    }
}

void pd_sgemm_batched(int64_t batch, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                      float alpha, const float *a, int64_t lda, int64_t stride_a,
                      const float *b, int64_t ldb, int64_t stride_b, float beta,
                      float *c, int64_t ldc, int64_t stride_c) {
    if (batch <= 0 || m <= 0 || n <= 0) return;
    int threads = pd_get_num_threads();
    if (batch < threads) {
        for (int64_t i = 0; i < batch; i++)
            pd_sgemm(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb,
                     beta, c + i * stride_c, ldc);
        return;
    }
    batched_job bj = {{trans_a, trans_b, 1, m, n, k, lda, ldb, ldc, 1, alpha, beta, a, b, c},
                      stride_a, stride_b, stride_c};
    double flops = 2.0 * (double)m * (double)n * (double)k;
    int64_t grain = (int64_t)(PD_GEMM_SPLIT_FLOPS / (flops + 1.0)) + 1;
    pd_parallel_for(batch, grain, batched_part, &bj);
}
