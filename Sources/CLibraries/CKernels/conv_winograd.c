// Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016):
// the convolution's third algorithm beside direct and FFT, for stride-1 correlations (docs/convolution.md, "Winograd").
// F(m, r) computes m outputs of an r-tap correlation from an α = m + r − 1 input patch d as
//     y = Aᵀ[(G g) ⊙ (Bᵀ d)]                   (Eq. 6 of the paper; α multiplies instead of m·r)
// and a 2-D tile nests it, Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A (Eq. 8). The matrices come from Toom–Cook on α − 1
// finite points and ∞ (toom_cook below). Summed over input channels, the α² (2-D) or α (1-D) element-wise
// products are matrix products, tiles × c_in by c_in × c_out, which run on the direct path's register-tile
// kernel as 1×1 convolutions. The transforms run 16 channels at a time on a channels-last copy of the padded
// input. Used: F(4×4, 3×3) for 3×3 kernels, F(4, 3) and F(4, 5) for 1-row kernels (conv1d).
#include "conv_internal.h"
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#endif
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WL 16 // channels per transform vector
#define MAX_ALPHA 8
#define MAX_R 5

typedef struct {
    int m, r, alpha;
    float at[4][MAX_ALPHA];          // Aᵀ, m × α
    double g[MAX_ALPHA][MAX_R];      // G, α × r (weights are transformed in double, then rounded once)
    float bt[MAX_ALPHA][MAX_ALPHA];  // Bᵀ, α × α
} wino_plan;

// Toom–Cook for correlation (the transpose of polynomial multiplication): with finite points p_0 … p_{α−2}
// and N_j(x) = Π_{k≠j}(x − p_k), f_j = N_j(p_j):
//   Aᵀ[i][j] = p_j^i,  G[j][k] = p_j^k / f_j,  Bᵀ[j][·] = the coefficients of N_j;
// the point at ∞ adds Aᵀ's column e_{m−1}, G's row e_{r−1} and Bᵀ's row Π_k(x − p_k).
static void multiply_root(double *c, int *degree, double root) { // c(x) ← c(x)·(x − root)
    for (int d = *degree + 1; d > 0; d--) c[d] = c[d - 1] - root * c[d];
    c[0] = -root * c[0];
    (*degree)++;
}

static void toom_cook(wino_plan *p, int m, int r, const double *points) {
    int alpha = m + r - 1, n = alpha - 1;
    p->m = m, p->r = r, p->alpha = alpha;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) p->at[i][j] = (float)(i == 0 ? 1 : pow(points[j], i));
        p->at[i][n] = i == m - 1;
    }
    for (int j = 0; j <= n; j++) {
        double c[MAX_ALPHA + 1] = {1}, f = 1;
        int degree = 0;
        for (int k = 0; k < n; k++)
            if (k != j) multiply_root(c, &degree, points[k]), f *= j < n ? points[j] - points[k] : 1;
        for (int k = 0; k < r; k++) p->g[j][k] = j < n ? (k == 0 ? 1 : pow(points[j], k)) / f : k == r - 1;
        for (int d = 0; d < alpha; d++) p->bt[j][d] = (float)c[d];
    }
}

static wino_plan plans[2]; // r = 3 (α = 6), r = 5 (α = 8)
static pthread_once_t plans_once = PTHREAD_ONCE_INIT;
static void make_plans(void) {
    static const double r3[] = {0, 1, -1, 2, -2}, r5[] = {0, 1, -1, 2, -2, 0.5, -0.5}; // Lavin & Gray's choices
    toom_cook(&plans[0], 4, 3, r3);
    toom_cook(&plans[1], 4, 5, r5);
}

int pd_winograd_ok(const pd_conv_shape *s) {
    if (s->stride_h != 1 || s->stride_w != 1) return 0;
    return (s->k_h == 3 && s->k_w == 3) || (s->k_h == 1 && (s->k_w == 3 || s->k_w == 5));
}

// ---- transforms, WL channels at a time, specialised per (α, patch rows) so that every coefficient is a
// constant: products with Bᵀ's and Aᵀ's zeros vanish at compile time and no product is contracted into a fused
// multiply-add, so the portable, AVX2 and AVX-512 copies give the same bits. The tables are toom_cook's
// (pd_winograd_tables_match checks them, and the factored α = 6 transforms against them); all entries are exact in binary.
static const float BT6[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const float AT6[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
static const float BT8[8][8] = {{-1, 0, 5.25f, 0, -5.25f, 0, 1, 0},         {0, 1, 1, -4.25f, -4.25f, 1, 1, 0},
                                {0, -1, 1, 4.25f, -4.25f, -1, 1, 0},        {0, 0.5f, 0.25f, -2.5f, -1.25f, 2, 1, 0},
                                {0, -0.5f, 0.25f, 2.5f, -1.25f, -2, 1, 0},  {0, 2, 4, -2.5f, -5, 0.5f, 1, 0},
                                {0, -2, 4, 2.5f, -5, -0.5f, 1, 0},          {0, -1, 0, 5.25f, 0, -5.25f, 0, 1}};
static const float AT8[4][8] = {{1, 1, 1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0.5f, -0.5f, 0},
                                {0, 1, 1, 4, 4, 0.25f, 0.25f, 0}, {0, 1, -1, 8, -8, 0.125f, -0.125f, 1}};


// F(4, 3)'s Bᵀ and Aᵀ applied to 6 (or 6 → 4) vectors of WL lanes in factored form (Lavin & Gray §5: common
// subexpressions), about half the operations of the table products: v_k = Bᵀ[k]·(d_0 … d_5) for d_i at
// src + i·ss, written to dst + k·ds.
__attribute__((always_inline)) static inline void bt6(const float *src, int64_t ss, float *dst, int64_t ds) {
#pragma clang fp contract(off)
    for (int l = 0; l < WL; l++) {
        const float d0 = src[l], d1 = src[ss + l], d2 = src[2 * ss + l], d3 = src[3 * ss + l], d4 = src[4 * ss + l], d5 = src[5 * ss + l];
        const float a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1);
        dst[l] = (4 * d0 - 5 * d2) + d4;
        dst[ds + l] = a + b;
        dst[2 * ds + l] = a - b;
        dst[3 * ds + l] = c + e;
        dst[4 * ds + l] = c - e;
        dst[5 * ds + l] = (4 * d1 - 5 * d3) + d5;
    }
}

__attribute__((always_inline)) static inline void at6(const float *src, int64_t ss, float *dst, int64_t ds) {
#pragma clang fp contract(off)
    for (int l = 0; l < WL; l++) {
        const float m0 = src[l], m1 = src[ss + l], m2 = src[2 * ss + l], m3 = src[3 * ss + l], m4 = src[4 * ss + l], m5 = src[5 * ss + l];
        const float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        dst[l] = (m0 + s12) + s34;
        dst[ds + l] = d12 + 2 * d34;
        dst[2 * ds + l] = s12 + 4 * s34;
        dst[3 * ds + l] = (d12 + 8 * d34) + m5;
    }
}

int pd_winograd_tables_match(void) {
    pthread_once(&plans_once, make_plans);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            if (i < 6 && j < 6 && BT6[i][j] != plans[0].bt[i][j]) return 0;
            if (BT8[i][j] != plans[1].bt[i][j]) return 0;
            if (i < 4 && j < 6 && AT6[i][j] != plans[0].at[i][j]) return 0;
            if (i < 4 && AT8[i][j] != plans[1].at[i][j]) return 0;
        }
    // The factored F(4, 3) transforms, which the α = 6 kinds run instead of the tables, give the tables'
    // columns on unit inputs.
    for (int j = 0; j < 6; j++) {
        float e[6][WL] = {{0}}, v[6][WL], y[4][WL];
        for (int l = 0; l < WL; l++) e[j][l] = 1;
        bt6(e[0], WL, v[0], WL);
        at6(e[0], WL, y[0], WL);
        for (int k = 0; k < 6; k++) if (v[k][0] != BT6[k][j] || (k < 4 && y[k][0] != AT6[k][j])) return 0;
    }
    return 1;
}

// d[y][x][l] = src[y·rs + x·cs + l] (y < AH, x < A) → V[y'][x'][l] = (Bᵀ d B)[y'][x'] at dst[(y'·A + x')·ds + l].
__attribute__((always_inline)) static inline void input_body(const float *bt, const int A, const int AH, const float *src, int64_t rs,
                                                             int64_t cs, float *dst, int64_t ds) {
#pragma clang fp contract(off)
    float t[MAX_ALPHA][MAX_ALPHA][WL]; // Bᵀ d over rows (2-D only)
    if (A == 6) {
        if (AH == 1) { bt6(src, cs, dst, ds); return; }
        for (int x = 0; x < 6; x++) bt6(src + x * cs, rs, t[0][x], MAX_ALPHA * WL);
        for (int k = 0; k < 6; k++) bt6(t[k][0], WL, dst + k * 6 * ds, ds);
        return;
    }
    for (int k = 0; k < AH; k++)
        for (int x = 0; x < A; x++) {
            if (AH == 1) { memcpy(t[k][x], src + x * cs, sizeof t[k][x]); continue; }
            float acc[WL] = {0};
            for (int y = 0; y < A; y++) {
                const float b = bt[k * A + y];
                if (b == 0) continue;
                for (int l = 0; l < WL; l++) acc[l] += b * src[y * rs + x * cs + l];
            }
            memcpy(t[k][x], acc, sizeof acc);
        }
    for (int k = 0; k < AH; k++)
        for (int q = 0; q < A; q++) {
            float acc[WL] = {0};
            for (int x = 0; x < A; x++) {
                const float b = bt[q * A + x];
                if (b == 0) continue;
                for (int l = 0; l < WL; l++) acc[l] += t[k][x][l] * b;
            }
            memcpy(dst + (k * A + q) * ds, acc, sizeof acc);
        }
}

// M[ξ][l] at src[ξ·ss + l] (ξ < AH·A) → Y[y][x][l] = (Aᵀ M A)[y][x] (y < 4 or 1, x < 4).
__attribute__((always_inline)) static inline void output_body(const float *at, const int A, const int AH, const float *src, int64_t ss,
                                                              float y[4][4][WL]) {
#pragma clang fp contract(off)
    const int MH = AH == 1 ? 1 : 4;
    float t[4][MAX_ALPHA][WL]; // Aᵀ M over rows (2-D only)
    if (A == 6) {
        if (AH == 1) { at6(src, ss, y[0][0], WL); return; }
        for (int x = 0; x < 6; x++) at6(src + x * ss, 6 * ss, t[0][x], MAX_ALPHA * WL);
        for (int k = 0; k < 4; k++) at6(t[k][0], WL, y[k][0], WL);
        return;
    }
    for (int k = 0; k < MH; k++)
        for (int x = 0; x < A; x++) {
            if (AH == 1) { memcpy(t[k][x], src + x * ss, sizeof t[k][x]); continue; }
            float acc[WL] = {0};
            for (int j = 0; j < A; j++) {
                const float c = at[k * A + j];
                if (c == 0) continue;
                for (int l = 0; l < WL; l++) acc[l] += c * src[(j * A + x) * ss + l];
            }
            memcpy(t[k][x], acc, sizeof acc);
        }
    for (int k = 0; k < MH; k++)
        for (int q = 0; q < 4; q++) {
            float acc[WL] = {0};
            for (int x = 0; x < A; x++) {
                const float c = at[q * A + x];
                if (c == 0) continue;
                for (int l = 0; l < WL; l++) acc[l] += t[k][x][l] * c;
            }
            memcpy(y[k][q], acc, sizeof acc);
        }
}

typedef void (*input_fn)(const float *, int64_t, int64_t, float *, int64_t);
typedef void (*output_fn)(const float *, int64_t, float[4][4][WL]);
typedef struct { input_fn input; output_fn output; } transform_fns;

// One input and one output transform per (kind, ISA): kinds F(4×4, 3×3), F(4, 3), F(4, 5).
#define PD_WINO_FNS(SUFFIX, TARGET)                                                                                                  \
    TARGET static void in33##SUFFIX(const float *s, int64_t rs, int64_t cs, float *d, int64_t ds) { input_body(&BT6[0][0], 6, 6, s, rs, cs, d, ds); } \
    TARGET static void in3##SUFFIX(const float *s, int64_t rs, int64_t cs, float *d, int64_t ds) { input_body(&BT6[0][0], 6, 1, s, rs, cs, d, ds); }  \
    TARGET static void in5##SUFFIX(const float *s, int64_t rs, int64_t cs, float *d, int64_t ds) { input_body(&BT8[0][0], 8, 1, s, rs, cs, d, ds); }  \
    TARGET static void out33##SUFFIX(const float *s, int64_t ss, float y[4][4][WL]) { output_body(&AT6[0][0], 6, 6, s, ss, y); }                  \
    TARGET static void out3##SUFFIX(const float *s, int64_t ss, float y[4][4][WL]) { output_body(&AT6[0][0], 6, 1, s, ss, y); }                   \
    TARGET static void out5##SUFFIX(const float *s, int64_t ss, float y[4][4][WL]) { output_body(&AT8[0][0], 8, 1, s, ss, y); }
PD_WINO_FNS(_portable, )
#if defined(__x86_64__) && defined(__clang__)
PD_WINO_FNS(_avx2, __attribute__((target("avx2,fma"))))
PD_WINO_FNS(_avx512, __attribute__((target("avx512f"))))
#endif
#undef PD_WINO_FNS

static transform_fns transforms_for(int kind) { // 0: F(4×4, 3×3), 1: F(4, 3), 2: F(4, 5)
    static const transform_fns portable[3] = {{in33_portable, out33_portable}, {in3_portable, out3_portable}, {in5_portable, out5_portable}};
#if defined(__x86_64__) && defined(__clang__)
    static const transform_fns avx2[3] = {{in33_avx2, out33_avx2}, {in3_avx2, out3_avx2}, {in5_avx2, out5_avx2}};
    static const transform_fns avx512[3] = {{in33_avx512, out33_avx512}, {in3_avx512, out3_avx512}, {in5_avx512, out5_avx512}};
    int isa = pd_conv_isa();
    if (isa == 2) return avx512[kind];
    if (isa == 1) return avx2[kind];
#endif
    return portable[kind];
}

// ---- data movement: 16 × 16 blocks between planes (NCHW) and channel vectors. Copies and one addition per
// element (the bias), so every ISA's version gives the same bits; the AVX-512 one transposes in registers.

// A group: 16 output pixels × WL channels, Yg[p][l]; pixel p sits at dst + px[p] in channel l's plane
// (dst + l·plane). Writes lanes < `lanes` and pixels whose px[p] ≥ 0, adding bias[l].
typedef void (*store_fn)(const float yg[16][WL], const float *bias, float *dst, int64_t plane, const int64_t px[16], int lanes, int full);
static void store_portable(const float yg[16][WL], const float *bias, float *dst, int64_t plane, const int64_t px[16], int lanes, int full) {
    (void)full;
    for (int l = 0; l < lanes; l++)
        for (int p = 0; p < 16; p++)
            if (px[p] >= 0) dst[l * plane + px[p]] = yg[p][l] + bias[l];
}

// Channels-last rows: dst[c·cin + ci] = src[ci·plane + c] for c < cols, ci < chans (the rest untouched).
typedef void (*gather_fn)(const float *src, int64_t plane, float *dst, int64_t cin, int64_t cols, int64_t chans);
static void gather_portable(const float *src, int64_t plane, float *dst, int64_t cin, int64_t cols, int64_t chans) {
    for (int64_t ci = 0; ci < chans; ci++)
        for (int64_t c = 0; c < cols; c++) dst[c * cin + ci] = src[ci * plane + c];
}

#if defined(__x86_64__) && defined(__clang__)
// r[i][j] → r[j][i] for a 16 × 16 block held in 16 registers: pairs interleaved within 128-bit lanes,
// 4 × 4 blocks completed with shuffle_ps, then the 4 × 4 grid of 128-bit blocks transposed with shuffle_f32x4.
__attribute__((target("avx512f"), always_inline)) static inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]), t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    for (int g = 0; g < 4; g++) { // u[c·4 + g]: rows 4g…4g+3 of columns 4b + c in block b
        u[0 * 4 + g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[1 * 4 + g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        u[2 * 4 + g] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[3 * 4 + g] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        __m512 *v = u + 4 * c;
        __m512 v0 = _mm512_shuffle_f32x4(v[0], v[1], 0x44), v1 = _mm512_shuffle_f32x4(v[0], v[1], 0xEE);
        __m512 v2 = _mm512_shuffle_f32x4(v[2], v[3], 0x44), v3 = _mm512_shuffle_f32x4(v[2], v[3], 0xEE);
        r[0 * 4 + c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        r[1 * 4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        r[2 * 4 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        r[3 * 4 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

// full: 16 lanes and pixels p at px[p] = (p / 4)·row + p % 4 (a 4 × 4 tile; row = px[4]) or px[p] = p (1-D).
__attribute__((target("avx512f"))) static void store_avx512(const float yg[16][WL], const float *bias, float *dst, int64_t plane,
                                                          const int64_t px[16], int lanes, int full) {
    if (!full) { store_portable(yg, bias, dst, plane, px, lanes, 0); return; }
    __m512 r[16];
    for (int p = 0; p < 16; p++) r[p] = _mm512_loadu_ps(yg[p]);
    transpose16(r);
    for (int l = 0; l < 16; l++) {
        __m512 v = _mm512_add_ps(r[l], _mm512_set1_ps(bias[l]));
        float *d = dst + l * plane;
        if (px[15] == 15) { _mm512_storeu_ps(d, v); continue; }
        _mm_storeu_ps(d, _mm512_extractf32x4_ps(v, 0));
        _mm_storeu_ps(d + px[4], _mm512_extractf32x4_ps(v, 1));
        _mm_storeu_ps(d + px[8], _mm512_extractf32x4_ps(v, 2));
        _mm_storeu_ps(d + px[12], _mm512_extractf32x4_ps(v, 3));
    }
}

__attribute__((target("avx512f"))) static void gather_avx512(const float *src, int64_t plane, float *dst, int64_t cin, int64_t cols,
                                                           int64_t chans) {
    int64_t ci = 0;
    for (; ci + 16 <= chans; ci += 16) {
        int64_t c = 0;
        for (; c + 16 <= cols; c += 16) {
            __m512 r[16];
            for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps(src + (ci + k) * plane + c);
            transpose16(r);
            for (int k = 0; k < 16; k++) _mm512_storeu_ps(dst + (c + k) * cin + ci, r[k]);
        }
        gather_portable(src + ci * plane + c, plane, dst + c * cin + ci, cin, cols - c, 16);
    }
    gather_portable(src + ci * plane, plane, dst + ci, cin, cols, chans - ci);
}
#endif

static store_fn store_for(void) {
#if defined(__x86_64__) && defined(__clang__)
    if (pd_conv_isa() == 2) return store_avx512;
#endif
    return store_portable;
}

static gather_fn gather_for(void) {
#if defined(__x86_64__) && defined(__clang__)
    if (pd_conv_isa() == 2) return gather_avx512;
#endif
    return gather_portable;
}

// ---- one correlation: y [batch][outs][oh][ow] = corr(x [batch][ins][h][w] zero-padded, g) + bias

typedef struct {
    const wino_plan *p;
    int ah, kind;                                    // patch rows: α (2-D) or 1; transforms_for's kind
    int64_t batch, ins, outs, h, w, top, left, oh, ow;
    int64_t mh, th, tw, tpad, ph, pw, cin, cout, blocks, xis; // cin: ins rounded up to WL; cout = blocks·32; xis = ah·α
    int64_t rows_per_task;                                    // tile rows a task transforms and multiplies together
    const float *x;   // source, NCHW
    float *xh;        // [batch][ph][pw][cin]: channels last, zero-padded
    const float *u;   // transformed weights [ξ][block][cin][PD_TILE_CHANNELS]
    const float *bias;
    float *y;
} wino_job;

static void pack_task(void *ctx, int64_t begin, int64_t end) { // rows n·ph + r of the channels-last copy
    const wino_job *j = ctx;
    gather_fn gather = gather_for();
    for (int64_t t = begin; t < end; t++) {
        int64_t n = t / j->ph, sr = t % j->ph - j->top;
        float *dst = j->xh + t * j->pw * j->cin;
        memset(dst, 0, sizeof(float) * (size_t)(j->pw * j->cin));
        if (sr < 0 || sr >= j->h) continue;
        int64_t c0 = j->left > 0 ? j->left : 0, c1 = j->w + j->left < j->pw ? j->w + j->left : j->pw; // columns with a source
        if (c1 > c0) gather(j->x + (n * j->ins * j->h + sr) * j->w + (c0 - j->left), j->h * j->w, dst + c0 * j->cin, j->cin, c1 - c0, j->ins);
    }
}

// Tasks take `rows_per_task` consecutive tile rows (n·th + i) together, so that the products run on at least
// ~32 tiles even where a row holds few (a 1-D map of 8 has 2 tiles; the register tile takes 8).
static void tile_row_task(void *ctx, int64_t begin, int64_t end) {
    const wino_job *j = ctx;
    const wino_plan *p = j->p;
    const int m = p->m;
    pd_blocked_tile_fn tile_kernel = pd_conv_tile_kernel();
    transform_fns f = transforms_for(j->kind);
    float *v = pd_conv_scratch(j->xis * j->tpad * j->cin), *mm = pd_conv_scratch(j->xis * j->tpad * j->cout);
    memset(v, 0, sizeof(float) * (size_t)(j->xis * j->tpad * j->cin)); // tiles past the task's last stay zero
    float tile[PD_TILE_PIXELS][PD_TILE_CHANNELS], y[4][4][WL], yg[16][WL];
    static const float zeros[WL] = {0};
    store_fn store = store_for();
    int64_t off[PD_TILE_PIXELS];
    for (int t = 0; t < PD_TILE_PIXELS; t++) off[t] = t * j->cin;
    const int64_t all_rows = j->batch * j->th;
    for (int64_t task = begin; task < end; task++) {
        const int64_t first = task * j->rows_per_task, last = first + j->rows_per_task < all_rows ? first + j->rows_per_task : all_rows;
        const int64_t tiles = (last - first) * j->tw;
        // V[ξ][tile][ci] = Bᵀ d B of each tile's patch (tile = local row · tw + q)
        for (int64_t row = first; row < last; row++) {
            int64_t n = row / j->th, i = row % j->th, t0 = (row - first) * j->tw;
            const float *rows = j->xh + (n * j->ph + i * j->mh) * j->pw * j->cin;
            for (int64_t q = 0; q < j->tw; q++)
                for (int64_t c = 0; c < j->cin; c += WL)
                    f.input(rows + q * m * j->cin + c, j->pw * j->cin, j->cin, v + (t0 + q) * j->cin + c, j->tpad * j->cin);
        }
        // M[ξ][tile][co] = Σ_ci V[ξ][tile][ci]·U[ξ][ci][co]: 1×1 correlations on the register tile
        for (int64_t xi = 0; xi < j->xis; xi++)
            for (int64_t b = 0; b < j->blocks; b++) {
                const float *u = j->u + (xi * j->blocks + b) * j->cin * PD_TILE_CHANNELS;
                for (int64_t q = 0; q < tiles; q += PD_TILE_PIXELS) {
                    tile_kernel(v + (xi * j->tpad + q) * j->cin, off, j->cin, 1, 0, 1, 1, u, tile);
                    int64_t count = tiles - q < PD_TILE_PIXELS ? tiles - q : PD_TILE_PIXELS;
                    for (int64_t t = 0; t < count; t++)
                        memcpy(mm + (xi * j->tpad + q + t) * j->cout + b * PD_TILE_CHANNELS, tile[t], sizeof tile[t]);
                }
            }
        // Y = Aᵀ M A + bias, into the output planes, 16 pixels at a time: one 4 × 4 tile, or four 1 × 4 tiles of a row
        const int64_t per_group = j->ah == 1 ? 4 : 1;
        for (int64_t row = first; row < last; row++) {
            int64_t n = row / j->th, i = row % j->th, t0 = (row - first) * j->tw, row0 = i * j->mh;
            for (int64_t q0 = 0; q0 < j->tw; q0 += per_group)
                for (int64_t c = 0; c < j->outs; c += WL) {
                    int64_t px[16];
                    int full = 1;
                    for (int k = 0; k < 16; k++) {
                        int64_t r = j->ah == 1 ? 0 : k / 4, col = j->ah == 1 ? q0 * m + k : q0 * m + k % 4;
                        int in = row0 + r < j->oh && col < j->ow;
                        px[k] = in ? r * j->ow + (col - q0 * m) : -1;
                        full &= in;
                    }
                    for (int64_t g = 0; g < per_group; g++) {
                        if (q0 + g < j->tw) f.output(mm + (t0 + q0 + g) * j->cout + c, j->tpad * j->cout, y);
                        else memset(y, 0, sizeof y);
                        for (int r = 0; r < (j->ah == 1 ? 1 : 4); r++)
                            for (int x = 0; x < 4; x++) memcpy(yg[j->ah == 1 ? g * 4 + x : r * 4 + x], y[r][x], sizeof y[r][x]);
                    }
                    int lanes = j->outs - c < WL ? (int)(j->outs - c) : WL;
                    const float *bias = j->bias ? j->bias + c : zeros;
                    store(yg, bias, j->y + ((n * j->outs + c) * j->oh + row0) * j->ow + q0 * m, j->oh * j->ow, px, lanes, full && lanes == WL);
                }
        }
    }
    pd_conv_scratch_free(mm);
    pd_conv_scratch_free(v);
}

// U[ξ][block][cin][32] = G g Gᵀ (2-D) or G g (1-D) of every (output, input) channel pair; zeros past the
// channel counts. adjoint: the input gradient's kernel (channels swapped, taps flipped).
static float *transform_weights(const pd_conv_shape *s, const wino_job *j, const float *w, int adjoint) {
    const wino_plan *p = j->p;
    const int a = p->alpha, r = p->r, kh = j->ah == 1 ? 1 : r, taps = kh * r;
    float *u = pd_conv_scratch(j->xis * j->blocks * j->cin * PD_TILE_CHANNELS);
    memset(u, 0, sizeof(float) * (size_t)(j->xis * j->blocks * j->cin * PD_TILE_CHANNELS));
    for (int64_t o = 0; o < j->outs; o++)
        for (int64_t i = 0; i < j->ins; i++) {
            const float *src = adjoint ? w + (i * s->c_in + o) * taps : w + (o * s->c_in + i) * taps;
            double g[MAX_R][MAX_R], t[MAX_ALPHA][MAX_R]; // t = G g (2-D: over rows) or g
            for (int k = 0; k < taps; k++) g[k / r][k % r] = src[adjoint ? taps - 1 - k : k];
            for (int y = 0; y < j->ah; y++)
                for (int x = 0; x < r; x++) {
                    double acc = 0;
                    if (j->ah == 1) acc = g[0][x];
                    else for (int k = 0; k < kh; k++) acc += p->g[y][k] * g[k][x];
                    t[y][x] = acc;
                }
            for (int y = 0; y < j->ah; y++)
                for (int q = 0; q < a; q++) {
                    double acc = 0;
                    for (int x = 0; x < r; x++) acc += t[y][x] * p->g[q][x];
                    u[(((y * a + q) * j->blocks + o / PD_TILE_CHANNELS) * j->cin + i) * PD_TILE_CHANNELS + o % PD_TILE_CHANNELS] = (float)acc;
                }
        }
    return u;
}

// Transformed weights are kept across calls while the weights stay the same (a sampler evaluates each layer
// with the same weights hundreds of times; G g Gᵀ of a 128 × 128 layer costs about as much as the layer's
// forward pass at small maps). An entry matches a call when the weight pointer, the shape, the direction and
// the weights' bytes (compared with a copy, not a hash) are the same. Least recently used entries go first.
#define CACHE_ENTRIES 64
#define CACHE_BYTES ((size_t)64 << 20)
typedef struct {
    const float *source;  // caller's weight pointer (identity hint; the bytes decide)
    float *weights, *u;   // copy of the weights; U
    int64_t weight_count, u_count, key[6];
    uint64_t last_use;
    int users;            // calls using u now: never evicted while > 0
} cache_entry;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[CACHE_ENTRIES];
static size_t cache_bytes = 0;
static uint64_t cache_clock = 0;

static void evict(cache_entry *e) {
    cache_bytes -= (size_t)(e->weight_count + e->u_count) * sizeof(float);
    free(e->weights);
    free(e->u);
    memset(e, 0, sizeof *e);
}

// U for this call: a cached entry (users + 1; release it with release_weights) or a fresh transform that is
// then cached when it fits. *entry is NULL when the returned U is the caller's to free.
static float *cached_weights(const pd_conv_shape *s, const wino_job *j, const float *w, int adjoint, cache_entry **entry) {
    const int64_t taps = (j->ah == 1 ? 1 : j->p->r) * j->p->r, count = s->c_in * s->c_out * taps;
    const int64_t u_count = j->xis * j->blocks * j->cin * PD_TILE_CHANNELS;
    const int64_t key[6] = {s->c_in, s->c_out, s->k_h, s->k_w, adjoint, j->kind};
    *entry = NULL;
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_ENTRIES; i++) {
        cache_entry *e = &cache[i];
        if (e->u && e->source == w && !memcmp(e->key, key, sizeof key) && !memcmp(e->weights, w, (size_t)count * sizeof(float))) {
            e->users++;
            e->last_use = ++cache_clock;
            *entry = e;
            pthread_mutex_unlock(&cache_lock);
            return e->u;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    float *u = transform_weights(s, j, w, adjoint);
    size_t bytes = (size_t)(count + u_count) * sizeof(float);
    if (bytes > CACHE_BYTES / 4) return u;
    pthread_mutex_lock(&cache_lock);
    // A slot: an empty one, else the least recently used idle one; evict idle entries until the bytes fit.
    cache_entry *slot = NULL;
    for (int i = 0; i < CACHE_ENTRIES && !slot; i++) if (!cache[i].u) slot = &cache[i];
    for (;;) {
        cache_entry *oldest = NULL;
        for (int i = 0; i < CACHE_ENTRIES; i++)
            if (cache[i].u && cache[i].users == 0 && (!oldest || cache[i].last_use < oldest->last_use)) oldest = &cache[i];
        if ((slot && cache_bytes + bytes <= CACHE_BYTES) || !oldest) break;
        evict(oldest);
        if (!slot) slot = oldest;
    }
    float *copy = NULL, *kept = NULL;
    if (slot && cache_bytes + bytes <= CACHE_BYTES) { // else every entry is busy: this call's U stays private
        copy = malloc((size_t)count * sizeof(float));
        kept = malloc((size_t)u_count * sizeof(float));
    }
    if (!copy || !kept) {
        pthread_mutex_unlock(&cache_lock);
        free(copy);
        free(kept);
        return u;
    }
    memcpy(copy, w, (size_t)count * sizeof(float));
    memcpy(kept, u, (size_t)u_count * sizeof(float));
    *slot = (cache_entry){.source = w, .weights = copy, .u = kept, .weight_count = count, .u_count = u_count, .last_use = ++cache_clock, .users = 1};
    memcpy(slot->key, key, sizeof key);
    cache_bytes += bytes;
    *entry = slot;
    pthread_mutex_unlock(&cache_lock);
    pd_conv_scratch_free(u);
    return kept;
}

static void release_weights(float *u, cache_entry *entry) {
    if (!entry) { pd_conv_scratch_free(u); return; }
    pthread_mutex_lock(&cache_lock);
    entry->users--;
    pthread_mutex_unlock(&cache_lock);
}

static void winograd_correlation(const pd_conv_shape *s, int adjoint, int64_t ins, int64_t outs, int64_t h, int64_t w, int64_t top,
                                 int64_t bottom, int64_t left, int64_t right, const float *x, const float *weights, const float *bias,
                                 float *y) {
    pthread_once(&plans_once, make_plans);
    wino_job j = {0};
    j.p = &plans[s->k_w == 3 ? 0 : 1];
    j.ah = s->k_h == 1 ? 1 : j.p->alpha;
    j.kind = s->k_h == 3 ? 0 : s->k_w == 3 ? 1 : 2;
    j.mh = s->k_h == 1 ? 1 : j.p->m;
    j.batch = s->batch, j.ins = ins, j.outs = outs, j.h = h, j.w = w, j.top = top, j.left = left;
    j.oh = h + top + bottom - (s->k_h - 1), j.ow = w + left + right - (s->k_w - 1);
    if (j.oh <= 0 || j.ow <= 0) return;
    j.th = (j.oh + j.mh - 1) / j.mh, j.tw = (j.ow + j.p->m - 1) / j.p->m;
    j.rows_per_task = (32 + j.tw - 1) / j.tw;
    j.tpad = (j.rows_per_task * j.tw + PD_TILE_PIXELS - 1) / PD_TILE_PIXELS * PD_TILE_PIXELS;
    j.ph = j.th * j.mh + j.ah - j.mh, j.pw = j.tw * j.p->m + j.p->alpha - j.p->m;
    j.cin = (ins + WL - 1) / WL * WL;
    j.blocks = (outs + PD_TILE_CHANNELS - 1) / PD_TILE_CHANNELS, j.cout = j.blocks * PD_TILE_CHANNELS;
    j.xis = j.ah * j.p->alpha;
    j.x = x, j.bias = bias, j.y = y;
    cache_entry *entry;
    float *u = cached_weights(s, &j, weights, adjoint, &entry);
    j.u = u;
    j.xh = pd_conv_scratch(j.batch * j.ph * j.pw * j.cin);
    pd_parallel_for(j.batch * j.ph, 8, pack_task, &j);
    pd_parallel_for((j.batch * j.th + j.rows_per_task - 1) / j.rows_per_task, 1, tile_row_task, &j);
    pd_conv_scratch_free(j.xh);
    release_weights(u, entry);
}

void pd_winograd_forward(const pd_conv_shape *s, const float *x, const float *w, const float *b, float *y) {
    winograd_correlation(s, 0, s->c_in, s->c_out, s->in_h, s->in_w, s->pad_top, s->pad_bottom, s->pad_left, s->pad_right, x, w, b, y);
}

// ∂x is the correlation of ∂y, padded by k − 1 − p, with the flipped, channel-swapped kernel (stride 1).
void pd_winograd_backward_input(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *gy, const float *w, float *gx) {
    winograd_correlation(s, 1, s->c_out, s->c_in, oh, ow, s->k_h - 1 - s->pad_top, s->k_h - 1 - s->pad_bottom, s->k_w - 1 - s->pad_left,
                         s->k_w - 1 - s->pad_right, gy, w, NULL, gx);
}
