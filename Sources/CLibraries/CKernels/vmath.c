// Vectorised transcendental math. Each scalar function is branch-free (selects, not jumps) so clang
// vectorises the loops; target_clones compiles AVX-512, AVX2+FMA and baseline x86-64 versions and
// picks one at load time. Polynomials are Cephes' single-precision minimax fits (≈1–2 ulp).
#include "ckernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include "dispatch.h"

#define PD_ELEMENTWISE_GRAIN 16384

static inline float as_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t as_int(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

static inline float pd_exp(float x) {
    float input = x;
    x = fminf(fmaxf(x, -87.33654f), 88.3762626647949f);
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3333303183e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    float y = p * as_float(((int32_t)n + 127) << 23);
    y = input < -87.33654f ? 0.0f : y;        // flush below FLT_MIN instead of returning a denormal
    y = input > 88.3762626647949f ? INFINITY : y;
    return input != input ? input : y;       // NaN propagates (NaN guards rely on it)
}

static inline float pd_log(float x) {
    int32_t ix = as_int(x);
    float e = (float)(((ix >> 23) & 0xff) - 126);
    float m = as_float((ix & 0x007fffff) | 0x3f000000); // mantissa in [0.5, 1)
    int small = m < 0.707106781186547524f;
    e = small ? e - 1.0f : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    float r = m + y + 0.693359375f * e;
    r = x == INFINITY ? INFINITY : r;
    r = x == 0.0f ? -INFINITY : r;
    return x < 0.0f || x != x ? NAN : r;
}

// log(1 + y) for y ≥ 0, with the rounding of 1 + y corrected.
static inline float pd_log1p_pos(float y) {
    float u = 1.0f + y;
    float d = u - 1.0f;
    float l = pd_log(u);
    return d == 0.0f ? y : l * (y / d);
}

static inline float pd_tanh(float x) {
    float a = fabsf(x);
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float big = 1.0f - 2.0f / (pd_exp(2.0f * a) + 1.0f);
    big = copysignf(big, x);
    return a < 0.625f ? small : big;
}

static inline float pd_sigmoid(float x) { return 1.0f / (1.0f + pd_exp(-x)); }

static inline float pd_softplus(float x) { return fmaxf(x, 0.0f) + pd_log1p_pos(pd_exp(-fabsf(x))); }

// mish(x) = x·tanh(softplus(x)); with w = eˣ, tanh(log(1 + w)) = w(w + 2) / (w(w + 2) + 2):
// one exponential instead of three transcendental calls.
static inline float pd_mish_t(float x) {
    float w = pd_exp(fminf(x, 20.0f));
    float n = w * (w + 2.0f);
    return n / (n + 2.0f);
}

static inline float pd_mish_grad(float x) {
    float w = pd_exp(fminf(x, 20.0f));
    float n = w * (w + 2.0f);
    float t = n / (n + 2.0f);
    float s = w / (1.0f + w);
    return t + x * (1.0f - t * t) * s;
}

typedef struct {
    int op;
    const float *x, *y, *gy, *bias;
    float *out, *pre;
    int64_t cols;
} ew_job;

PD_CLONES static void unary_range(int op, const float *restrict x, float *restrict y, int64_t n) {
    switch (op) {
    case PD_EXP: for (int64_t i = 0; i < n; i++) y[i] = pd_exp(x[i]); break;
    case PD_LOG: for (int64_t i = 0; i < n; i++) y[i] = pd_log(x[i]); break;
    case PD_TANH: for (int64_t i = 0; i < n; i++) y[i] = pd_tanh(x[i]); break;
    case PD_SIGMOID: for (int64_t i = 0; i < n; i++) y[i] = pd_sigmoid(x[i]); break;
    case PD_SOFTPLUS: for (int64_t i = 0; i < n; i++) y[i] = pd_softplus(x[i]); break;
    case PD_LOGSIGMOID: for (int64_t i = 0; i < n; i++) y[i] = -pd_softplus(-x[i]); break;
    case PD_MISH: for (int64_t i = 0; i < n; i++) y[i] = x[i] * pd_mish_t(x[i]); break;
    case PD_SILU: for (int64_t i = 0; i < n; i++) y[i] = x[i] * pd_sigmoid(x[i]); break;
    case PD_RELU: for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i]; break; // keeps NaN
    case PD_SQRT: for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]); break;
    case PD_ABS: for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]); break;
    case PD_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    default: break;
    }
}

// Restrict-free twin for in-place calls (x == y): identical arithmetic, so results match.
static void unary_dispatch(int op, const float *x, float *y, int64_t n) {
    if (x == y) {
        float tmp[256];
        for (int64_t i = 0; i < n; i += 256) {
            int64_t m = n - i < 256 ? n - i : 256;
            unary_range(op, x + i, tmp, m);
            memcpy(y + i, tmp, (size_t)m * sizeof(float));
        }
    } else {
        unary_range(op, x, y, n);
    }
}

static void unary_task(void *ctx, int64_t b, int64_t e) {
    const ew_job *j = (const ew_job *)ctx;
    unary_dispatch(j->op, j->x + b, j->out + b, e - b);
}

void pd_unary(int op, const float *x, float *y, int64_t n) {
    ew_job j = {op, x, NULL, NULL, NULL, y, NULL, 0};
    pd_parallel_for(n, PD_ELEMENTWISE_GRAIN, unary_task, &j);
}

// 16-lane vectors (unaligned): in-place calls (gx == gy, x == pre) defeat clang's alias checks,
// so the ReLU paths, the commonest, are written with explicit vectors instead of scalar loops.
typedef float pd_v16f __attribute__((vector_size(64), aligned(4)));
typedef int32_t pd_v16i __attribute__((vector_size(64), aligned(4)));

PD_CLONES static void unary_backward_range(int op, const float *x, const float *y, const float *gy,
                                           float *gx, int64_t n) {
    switch (op) {
    case PD_EXP: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * y[i]; break;
    case PD_LOG: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] / x[i]; break;
    case PD_TANH: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * (1.0f - y[i] * y[i]); break;
    case PD_SIGMOID: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * y[i] * (1.0f - y[i]); break;
    case PD_SOFTPLUS: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * pd_sigmoid(x[i]); break;
    case PD_LOGSIGMOID: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * pd_sigmoid(-x[i]); break;
    case PD_MISH: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * pd_mish_grad(x[i]); break;
    case PD_SILU:
        for (int64_t i = 0; i < n; i++) {
            float s = pd_sigmoid(x[i]);
            gx[i] = gy[i] * (s + x[i] * s * (1.0f - s));
        }
        break;
    case PD_RELU: {
        int64_t n16 = n / 16 * 16;
        for (int64_t i = 0; i < n16; i += 16)
            *(pd_v16i *)(gx + i) = (pd_v16i)(*(const pd_v16f *)(gy + i)) & (*(const pd_v16f *)(x + i) > (pd_v16f){0});
        for (int64_t i = n16; i < n; i++) gx[i] = x[i] > 0.0f ? gy[i] : 0.0f;
        break;
    }
    case PD_SQRT: for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * 0.5f / y[i]; break;
    case PD_ABS: for (int64_t i = 0; i < n; i++) gx[i] = x[i] > 0.0f ? gy[i] : (x[i] < 0.0f ? -gy[i] : 0.0f); break;
    case PD_NEG: for (int64_t i = 0; i < n; i++) gx[i] = -gy[i]; break;
    default: break;
    }
}

static void unary_backward_task(void *ctx, int64_t b, int64_t e) {
    const ew_job *j = (const ew_job *)ctx;
    unary_backward_range(j->op, j->x ? j->x + b : NULL, j->y ? j->y + b : NULL, j->gy + b, j->out + b, e - b);
}

void pd_unary_backward(int op, const float *x, const float *y, const float *gy, float *gx, int64_t n) {
    ew_job j = {op, x, y, gy, NULL, gx, NULL, 0};
    pd_parallel_for(n, PD_ELEMENTWISE_GRAIN, unary_backward_task, &j);
}

PD_CLONES static void bias_act_range(const ew_job *j, int64_t b, int64_t e) {
    int64_t cols = j->cols, c16 = cols / 16 * 16;
    float row[cols > 0 ? cols : 1];
    for (int64_t r = b; r < e; r++) {
        const float *x = j->x + r * cols, *bias = j->bias;
        float *y = j->out + r * cols, *pre = j->pre ? j->pre + r * cols : NULL;
        // x + bias goes straight to where it is kept (the pre-activation for backward, or y itself
        // for identity), so the common in-place calls copy nothing.
        float *dst = pre ? pre : (j->op < 0 ? y : row);
        int relu = j->op == PD_RELU;
        for (int64_t c = 0; c < c16; c += 16) {
            pd_v16f v = *(const pd_v16f *)(x + c) + *(const pd_v16f *)(bias + c);
            *(pd_v16f *)(dst + c) = v;
            // ReLU as a mask: NaN < 0 is false, so NaN passes through (the NaN guards rely on it).
            if (relu) *(pd_v16i *)(y + c) = (pd_v16i)v & ~(v < (pd_v16f){0});
        }
        for (int64_t c = c16; c < cols; c++) {
            dst[c] = x[c] + bias[c];
            if (relu) y[c] = dst[c] < 0.0f ? 0.0f : dst[c];
        }
        if (j->op >= 0 && !relu) unary_range(j->op, dst, y, cols);
        else if (!relu && dst != y) memcpy(y, dst, (size_t)cols * sizeof(float));
    }
}

static void bias_act_task(void *ctx, int64_t b, int64_t e) { bias_act_range((const ew_job *)ctx, b, e); }

void pd_bias_act(int op, const float *x, const float *bias, float *y, float *pre, int64_t rows, int64_t cols) {
    ew_job j = {op, x, NULL, NULL, bias, y, pre, cols};
    int64_t grain = PD_ELEMENTWISE_GRAIN / (cols > 0 ? cols : 1) + 1;
    pd_parallel_for(rows, grain, bias_act_task, &j);
}

// ---------------------------------------------------------------- fused group normalization

typedef struct {
    const float *x, *w, *b, *gy, *xhat, *inv_std;
    float *y, *xhat_out, *inv_out, *gx, *pw, *pb;
    int64_t channels, length, groups;
    float eps;
    int op;
} gn_job;

// Double-precision sums with 8 independent lanes, so they vectorize (a single running double
// would be a serial chain); lanes are added in a fixed order, so results stay deterministic.
typedef float pd_v8f __attribute__((vector_size(32), aligned(4)));
typedef double pd_v8d __attribute__((vector_size(64)));

// By pointer: a vector passed by value would change the ABI between the target clones.
static inline double lanes_total(const pd_v8d *a) {
    double t = 0;
    for (int l = 0; l < 8; l++) t += (*a)[l];
    return t;
}

static inline double sum_d(const float *restrict x, int64_t n) {
    pd_v8d acc = {0};
    int64_t n8 = n / 8 * 8;
    for (int64_t i = 0; i < n8; i += 8) acc += __builtin_convertvector(*(const pd_v8f *)(x + i), pd_v8d);
    double t = lanes_total(&acc);
    for (int64_t i = n8; i < n; i++) t += x[i];
    return t;
}

static inline double dot_d(const float *restrict x, const float *restrict y, int64_t n) {
    pd_v8d acc = {0};
    int64_t n8 = n / 8 * 8;
    for (int64_t i = 0; i < n8; i += 8)
        acc += __builtin_convertvector(*(const pd_v8f *)(x + i), pd_v8d) * __builtin_convertvector(*(const pd_v8f *)(y + i), pd_v8d);
    double t = lanes_total(&acc);
    for (int64_t i = n8; i < n; i++) t += (double)x[i] * y[i];
    return t;
}

// Σ (x − mean)², the second pass of the variance (two passes: no cancellation).
static inline double squared_deviations_d(const float *restrict x, float mean, int64_t n) {
    pd_v8d acc = {0};
    int64_t n8 = n / 8 * 8;
    for (int64_t i = 0; i < n8; i += 8) {
        pd_v8d d = __builtin_convertvector(*(const pd_v8f *)(x + i) - mean, pd_v8d);
        acc += d * d;
    }
    double t = lanes_total(&acc);
    for (int64_t i = n8; i < n; i++) { double d = x[i] - mean; t += d * d; }
    return t;
}

// One (sample, group) row per index: xhat = (x − mean)/√(var + eps); y = act(xhat·w[c] + b[c]).
PD_CLONES static void gn_forward_range(const gn_job *j, int64_t begin, int64_t end, float *restrict z) {
    int64_t cpg = j->channels / j->groups, row = cpg * j->length, len = j->length;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict x = j->x + r * row;
        float *restrict xh = j->xhat_out + r * row;
        float *y = j->y + r * row;
        float mean = (float)(sum_d(x, row) / (double)row);
        float inv = 1.0f / sqrtf((float)(squared_deviations_d(x, mean, row) / (double)row) + j->eps);
        j->inv_out[r] = inv;
        int64_t c0 = (r % j->groups) * cpg;
        for (int64_t c = 0; c < cpg; c++) {
            float wc = j->w[c0 + c], bc = j->b[c0 + c];
            for (int64_t t = c * len; t < (c + 1) * len; t++) {
                float v = (x[t] - mean) * inv;
                xh[t] = v;
                z[t] = v * wc + bc;
            }
        }
        if (j->op < 0) memcpy(y, z, (size_t)row * sizeof(float));
        else unary_range(j->op, z, y, row);
    }
}

static void gn_forward_task(void *ctx, int64_t begin, int64_t end) {
    const gn_job *j = (const gn_job *)ctx;
    int64_t row = j->channels / j->groups * j->length;
    float *z = malloc((size_t)(row > 0 ? row : 1) * sizeof(float));
    gn_forward_range(j, begin, end, z);
    free(z);
}

void pd_group_norm(int op, const float *x, const float *w, const float *b, float *y, float *xhat, float *inv_std,
                   int64_t batch, int64_t channels, int64_t length, int64_t groups, float eps) {
    gn_job j = {x, w, b, NULL, NULL, NULL, y, xhat, inv_std, NULL, NULL, NULL, channels, length, groups, eps, op};
    int64_t row = channels / groups * length;
    pd_parallel_for(batch * groups, PD_ELEMENTWISE_GRAIN / (row > 0 ? row : 1) + 1, gn_forward_task, &j);
}

// dz = gy·act'(z); partial dw, db per sample; dx = (dxh − mean(dxh) − xhat·mean(dxh·xhat))·inv_std.
PD_CLONES static void gn_backward_range(const gn_job *j, int64_t begin, int64_t end, float *restrict z, float *restrict dz) {
    int64_t cpg = j->channels / j->groups, row = cpg * j->length, len = j->length;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict xh = j->xhat + r * row, *gy = j->gy + r * row;
        float *restrict gx = j->gx + r * row;
        int64_t n = r / j->groups, c0 = (r % j->groups) * cpg;
        for (int64_t c = 0; c < cpg; c++) {
            float wc = j->w[c0 + c], bc = j->b[c0 + c];
            for (int64_t t = c * len; t < (c + 1) * len; t++) z[t] = xh[t] * wc + bc;
        }
        if (j->op < 0) memcpy(dz, gy, (size_t)row * sizeof(float));
        else unary_backward_range(j->op, z, NULL, gy, dz, row);
        double sd = 0, sdx = 0;
        for (int64_t c = 0; c < cpg; c++) {
            const float *restrict dzc = dz + c * len, *restrict xhc = xh + c * len;
            float *restrict gxc = gx + c * len;
            float wc = j->w[c0 + c];
            j->pw[n * j->channels + c0 + c] = (float)dot_d(dzc, xhc, len);
            j->pb[n * j->channels + c0 + c] = (float)sum_d(dzc, len);
            for (int64_t t = 0; t < len; t++) gxc[t] = dzc[t] * wc;
            sd += sum_d(gxc, len);
            sdx += dot_d(gxc, xhc, len);
        }
        float md = (float)(sd / (double)row), mdx = (float)(sdx / (double)row), inv = j->inv_std[r];
        for (int64_t i = 0; i < row; i++) gx[i] = (gx[i] - md - xh[i] * mdx) * inv;
    }
}

static void gn_backward_task(void *ctx, int64_t begin, int64_t end) {
    const gn_job *j = (const gn_job *)ctx;
    int64_t row = j->channels / j->groups * j->length;
    float *z = malloc((size_t)(row > 0 ? row : 1) * 2 * sizeof(float));
    gn_backward_range(j, begin, end, z, z + row);
    free(z);
}

void pd_group_norm_backward(int op, const float *gy, const float *xhat, const float *inv_std, const float *w,
                            const float *b, float *gx, float *gw, float *gb,
                            int64_t batch, int64_t channels, int64_t length, int64_t groups) {
    float *partial = malloc((size_t)(batch * channels > 0 ? batch * channels : 1) * 2 * sizeof(float));
    gn_job j = {NULL, w, b, gy, xhat, inv_std, NULL, NULL, NULL, gx, partial, partial + batch * channels,
                channels, length, groups, 0, op};
    int64_t row = channels / groups * length;
    pd_parallel_for(batch * groups, PD_ELEMENTWISE_GRAIN / (row > 0 ? row : 1) + 1, gn_backward_task, &j);
    // Sum the per-sample parts in a fixed order (deterministic for any thread count).
    for (int64_t c = 0; c < channels; c++) {
        double sw = 0, sb = 0;
        for (int64_t n = 0; n < batch; n++) { sw += j.pw[n * channels + c]; sb += j.pb[n * channels + c]; }
        gw[c] = (float)sw;
        gb[c] = (float)sb;
    }
    free(partial);
}

// ---------------------------------------------------------------- random numbers

static inline uint64_t splitmix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rand_at(uint64_t seed, uint64_t index) {
    return splitmix(splitmix(seed) + (index + 1) * 0x9e3779b97f4a7c15ULL);
}

uint64_t pd_random_u64(uint64_t seed, uint64_t counter) { return rand_at(seed, counter); }

// cos(2πu) for u in [0, 1): reduce to r in [−1/8, 1/8] turns and a quadrant.
static inline float pd_cos_turns(float u) {
    float q = floorf(u * 4.0f + 0.5f);
    float r = (u - q * 0.25f) * 6.28318530717958647f;
    float z = r * r;
    float c = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z
              - 0.5f * z + 1.0f;
    float s = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
    int quadrant = ((int)q) & 3;
    float v = (quadrant & 1) ? s : c;
    return (quadrant == 1 || quadrant == 2) ? -v : v;
}

typedef struct {
    uint64_t seed, counter;
    float *out;
    float a, b;
    int normal;
} rng_job;

PD_CLONES static void rng_range(const rng_job *j, int64_t begin, int64_t end) {
    float *out = j->out;
    if (j->normal) {
        // Box–Muller, one output per 64-bit draw: u1 from the high 32 bits (never 0), u2 from 24 low bits.
        for (int64_t i = begin; i < end; i++) {
            uint64_t h = rand_at(j->seed, j->counter + (uint64_t)i);
            float u1 = ((float)(uint32_t)(h >> 32) + 0.5f) * 2.3283064365386963e-10f;
            u1 = fminf(u1, 0.99999994f);
            float u2 = (float)(uint32_t)(h & 0xffffff) * 5.9604644775390625e-8f;
            out[i] = j->a + j->b * sqrtf(-2.0f * pd_log(u1)) * pd_cos_turns(u2);
        }
    } else {
        for (int64_t i = begin; i < end; i++) {
            uint64_t h = rand_at(j->seed, j->counter + (uint64_t)i);
            float u = (float)(uint32_t)(h >> 40) * 5.9604644775390625e-8f; // [0, 1)
            out[i] = j->a + (j->b - j->a) * u;
        }
    }
}

static void rng_task(void *ctx, int64_t b, int64_t e) { rng_range((const rng_job *)ctx, b, e); }

void pd_fill_uniform(uint64_t seed, uint64_t counter, float *out, int64_t n, float low, float high) {
    rng_job j = {seed, counter, out, low, high, 0};
    pd_parallel_for(n, PD_ELEMENTWISE_GRAIN, rng_task, &j);
}

void pd_fill_normal(uint64_t seed, uint64_t counter, float *out, int64_t n, float mean, float std) {
    rng_job j = {seed, counter, out, mean, std, 1};
    pd_parallel_for(n, PD_ELEMENTWISE_GRAIN, rng_task, &j);
}

// ---------------------------------------------------------------- optimizer

typedef struct {
    float *p, *m, *v;
    const float *g;
    float lr, b1, b2, eps, bc1, bc2, wd;
    int decoupled;
} adam_job;

PD_CLONES static void adam_range(const adam_job *j, int64_t b, int64_t e) {
    // torch.optim.Adam (single-tensor path): step_size = lr / bc1; denom = √v / √bc2 + eps.
    float step = j->lr / j->bc1;
    float sqrt_bc2 = sqrtf(j->bc2);
    float decay = 1.0f - j->lr * j->wd;
    for (int64_t i = b; i < e; i++) {
        float p = j->p[i], g = j->g[i];
        if (j->decoupled) p *= decay;
        else g = g + j->wd * p;
        float m = j->m[i] + (g - j->m[i]) * (1.0f - j->b1); // torch: m.lerp_(g, 1 − β1)
        float v = j->v[i] * j->b2 + (1.0f - j->b2) * g * g;
        j->m[i] = m;
        j->v[i] = v;
        j->p[i] = p - step * (m / (sqrtf(v) / sqrt_bc2 + j->eps));
    }
}

static void adam_task(void *ctx, int64_t b, int64_t e) { adam_range((const adam_job *)ctx, b, e); }

void pd_adam_update(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1,
                    float beta2, float eps, float bias_correction1, float bias_correction2,
                    float weight_decay, int decoupled) {
    adam_job j = {p, m, v, g, lr, beta1, beta2, eps, bias_correction1, bias_correction2, weight_decay, decoupled};
    pd_parallel_for(n, 4 * PD_ELEMENTWISE_GRAIN, adam_task, &j);
}

// ---------------------------------------------------------------- Polyak / EMA and bias gradients

PD_CLONES static void lerp_range(float *restrict t, const float *restrict s, float w, int64_t n) {
    for (int64_t i = 0; i < n; i++) t[i] += w * (s[i] - t[i]);
}

void pd_lerp(float *t, const float *s, float w, int64_t n) { lerp_range(t, s, w, n); }

// The largest exponent field seen; all-ones (inf or NaN) means not finite. A max vectorizes where
// an early exit would not, and finite tensors (the case every step checks) are read in full anyway.
PD_CLONES static uint32_t max_exponent(const float *restrict x, int64_t n) {
    uint32_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t e = (uint32_t)as_int(x[i]) & 0x7f800000u;
        m = e > m ? e : m;
    }
    return m;
}

int pd_all_finite(const float *x, int64_t n) { return max_exponent(x, n) != 0x7f800000u; }

PD_CLONES static void column_sums_range(const float *restrict x, float *restrict out, int64_t rows, int64_t cols) {
    for (int64_t c = 0; c < cols; c++) out[c] = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        for (int64_t c = 0; c < cols; c++) out[c] += row[c];
    }
}

void pd_column_sums(const float *x, float *out, int64_t rows, int64_t cols) { column_sums_range(x, out, rows, cols); }
