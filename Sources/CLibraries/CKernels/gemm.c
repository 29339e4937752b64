// GEMM through OpenBLAS, split across our pool. OpenBLAS runs small GEMMs poorly on several threads
// (docs/architecture.md, Performance notes); one single-threaded call per row or column block does better.
#include "ckernels.h"
#include "dispatch.h"
#include <cblas.h>

// Below this many flops a split costs more than it saves.
#define PD_GEMM_SPLIT_FLOPS 400000.0
// OpenBLAS's small-matrix path on SkylakeX kernels: taken when M·N·K ≤ this (see pd_sgemm).
#define PD_GEMM_SMALL_PATH_MNK 1000000.0
// Row blocks of a split GEMM: a multiple of every x86 OpenBLAS sgemm kernel's row tile (see pd_sgemm).
#define PD_GEMM_ROW_ALIGN 48

typedef struct {
    int trans_a, trans_b;
    int64_t m, n, k, lda, ldb, ldc, align;
    float alpha, beta;
    const float *a, *b;
    float *c;
} gemm_job;

static inline enum CBLAS_TRANSPOSE tr(int t) { return t ? CblasTrans : CblasNoTrans; }

// Row blocks [begin, end) of C (blocks of `align` rows), one single-threaded OpenBLAS call.
static void gemm_part(void *ctx, int64_t begin, int64_t end) {
    const gemm_job *j = (const gemm_job *)ctx;
    int64_t lo = begin * j->align, hi = end * j->align;
    if (hi > j->m) hi = j->m;
    if (hi <= lo) return;
    const float *a = j->trans_a ? j->a + lo : j->a + lo * j->lda;
    cblas_sgemm(CblasRowMajor, tr(j->trans_a), tr(j->trans_b), (int)(hi - lo), (int)j->n, (int)j->k,
                j->alpha, a, (int)j->lda, j->b, (int)j->ldb, j->beta, j->c + lo * j->ldc, (int)j->ldc);
}

// ---------------------------------------------------------------- small-m A·Bᵀ without packing
// A Linear layer on a few rows (a robot's single-state action selection: m = 16) is bound by
// reading the weights once; OpenBLAS spends ~30 % of such calls packing B. This kernel reads B in
// place: 4 rows of A × 4 rows of B at a time in 16 vector accumulators over k, then reduces.

#define PD_SMALL_M 16

typedef float v16 __attribute__((vector_size(64), aligned(4)));

#define HSUM16(v, out) do { float s_ = 0; for (int l_ = 0; l_ < 16; l_++) s_ += (v)[l_]; (out) = s_; } while (0)

typedef struct {
    int64_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
} small_job;

PD_CLONES static void small_nt_range(const small_job *j, int64_t n0, int64_t n1) {
    const int64_t k = j->k, k16 = k / 16 * 16;
    for (int64_t nb = n0; nb < n1; nb += 4) {
        int64_t nn = n1 - nb < 4 ? n1 - nb : 4;
        for (int64_t ib = 0; ib < j->m; ib += 4) {
            int64_t ii = j->m - ib < 4 ? j->m - ib : 4;
            v16 acc[4][4] = {{{0}}};
            const float *ar[4], *br[4];
            for (int64_t x = 0; x < 4; x++) ar[x] = j->a + (ib + (x < ii ? x : 0)) * j->lda;
            for (int64_t y = 0; y < 4; y++) br[y] = j->b + (nb + (y < nn ? y : 0)) * j->ldb;
            for (int64_t q = 0; q < k16; q += 16) {
                v16 av[4], bv[4];
                for (int x = 0; x < 4; x++) av[x] = *(const v16 *)(ar[x] + q);
                for (int y = 0; y < 4; y++) bv[y] = *(const v16 *)(br[y] + q);
                for (int x = 0; x < 4; x++)
                    for (int y = 0; y < 4; y++) acc[x][y] += av[x] * bv[y];
            }
            for (int64_t x = 0; x < ii; x++)
                for (int64_t y = 0; y < nn; y++) {
                    float s;
                    HSUM16(acc[x][y], s);
                    for (int64_t q = k16; q < k; q++) s += ar[x][q] * br[y][q];
                    float *cij = j->c + (ib + x) * j->ldc + nb + y;
                    *cij = j->alpha * s + (j->beta == 0.0f ? 0.0f : j->beta * *cij);
                }
        }
    }
}

static void small_nt_task(void *ctx, int64_t begin, int64_t end) {
    const small_job *j = (const small_job *)ctx;
    int64_t n1 = end * 4 < j->n ? end * 4 : j->n;
    small_nt_range(j, begin * 4, n1);
}

void pd_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
              float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    int threads = pd_get_num_threads();
    if (!trans_a && trans_b && m <= PD_SMALL_M && k >= 64) {
        small_job sj = {m, n, k, lda, ldb, ldc, alpha, beta, a, b, c};
        double flops = 2.0 * (double)m * (double)n * (double)k;
        int64_t blocks = (n + 3) / 4;
        if (threads <= 1 || flops < PD_GEMM_SPLIT_FLOPS) small_nt_task(&sj, 0, blocks);
        else pd_parallel_for(blocks, 1, small_nt_task, &sj);
        return;
    }
    double flops = 2.0 * (double)m * (double)n * (double)k;
    // Only C's rows are split, at multiples of PD_GEMM_ROW_ALIGN: then every row block is exactly the
    // rows the whole call computes, and a result does not depend on the thread count. Measured with
    // Debian's OpenBLAS 0.3.21 (make gemm-split-check): row splits at multiples of 48 reproduce the
    // unsplit call bit for bit on the Zen/Haswell kernels (24-row tiles) and SkylakeX's (16-row);
    // splits at 16 do not on Zen, nor do column splits at any width.
    gemm_job j = {trans_a, trans_b, m, n, k, lda, ldb, ldc, PD_GEMM_ROW_ALIGN, alpha, beta, a, b, c};
    int64_t blocks = (m + j.align - 1) / j.align;
    // OpenBLAS's SkylakeX kernels (0.3.21, SMALL_MATRIX_OPT) take another code path, which rounds
    // differently, when M·N·K ≤ 100³. A row block small enough to take it while the whole call does not
    // would make the result depend on the thread count (found on a Sapphire Rapids VM: 129 of 2,304
    // splits of make gemm-split-check differed). So every part keeps M·N·K above that: at least
    // min_blocks blocks (one block of margin for a short last block), and at most `parts` parts.
    int64_t min_rows = (int64_t)(PD_GEMM_SMALL_PATH_MNK / ((double)n * (double)k)) + 1;
    int64_t min_blocks = (min_rows + j.align - 1) / j.align + 1;
    int64_t parts = blocks / min_blocks;
    if (threads <= 1 || flops < PD_GEMM_SPLIT_FLOPS || blocks < 2 || parts < 2) {
        gemm_part(&j, 0, blocks);
        return;
    }
    // pd_parallel_for makes min(⌈blocks / grain⌉, threads) even chunks; this grain keeps them ≤ parts.
    pd_parallel_for(blocks, (blocks + parts - 1) / parts, gemm_part, &j);
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
    batched_job bj = {{trans_a, trans_b, m, n, k, lda, ldb, ldc, 1, alpha, beta, a, b, c},
                      stride_a, stride_b, stride_c};
    double flops = 2.0 * (double)m * (double)n * (double)k;
    int64_t grain = (int64_t)(PD_GEMM_SPLIT_FLOPS / (flops + 1.0)) + 1;
    pd_parallel_for(batch, grain, batched_part, &bj);
}
