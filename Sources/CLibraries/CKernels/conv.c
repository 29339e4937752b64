// Convolution: direct (blocked register-tile kernels; a strided input gradient as one tiled pass per phase),
// FFT (FFTW + complex GEMM per frequency), Winograd (conv_winograd.c) and a naive reference, behind one API
// (ckernels.h). See docs/convolution.md for the maths.
#include "ckernels.h"
#include "conv_internal.h"
#include "dispatch.h"
#include <cblas.h>
#include <fftw3.h>
#include <math.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- shapes

int pd_conv_validate(const pd_conv_shape *s, int64_t *out_h, int64_t *out_w) {
    if (s->batch < 1 || s->c_in < 1 || s->c_out < 1 || s->in_h < 1 || s->in_w < 1) return 1;
    if (s->k_h < 1 || s->k_w < 1) return 2;
    if (s->stride_h < 1 || s->stride_w < 1) return 3;
    if (s->pad_top < 0 || s->pad_bottom < 0 || s->pad_left < 0 || s->pad_right < 0) return 4;
    int64_t ph = s->in_h + s->pad_top + s->pad_bottom, pw = s->in_w + s->pad_left + s->pad_right;
    if (s->k_h > ph || s->k_w > pw) return 5;
    double elements = (double)s->batch * (double)(s->c_in > s->c_out ? s->c_in : s->c_out) * (double)ph * (double)pw;
    if (elements > 4e9 || (double)s->c_in * s->c_out * s->k_h * s->k_w > 4e9) return 6;
    if (out_h) *out_h = (ph - s->k_h) / s->stride_h + 1;
    if (out_w) *out_w = (pw - s->k_w) / s->stride_w + 1;
    return 0;
}

const char *pd_conv_error_message(int code) {
    switch (code) {
    case 0: return "ok";
    case 1: return "batch, channels and input size must be positive";
    case 2: return "kernel size must be positive";
    case 3: return "stride must be at least 1";
    case 4: return "padding must not be negative";
    case 5: return "kernel is larger than the padded input";
    case 6: return "convolution is too large";
    case 7: return "unknown algorithm";
    case 8: return "out of memory";
    default: return "invalid convolution";
    }
}

void pd_conv_shape_key(const pd_conv_shape *s, char *buffer, int64_t size) {
    snprintf(buffer, (size_t)size, "b%lld_ci%lld_co%lld_h%lld_w%lld_k%lldx%lld_s%lldx%lld_p%lld,%lld,%lld,%lld",
             (long long)s->batch, (long long)s->c_in, (long long)s->c_out, (long long)s->in_h, (long long)s->in_w,
             (long long)s->k_h, (long long)s->k_w, (long long)s->stride_h, (long long)s->stride_w,
             (long long)s->pad_top, (long long)s->pad_bottom, (long long)s->pad_left, (long long)s->pad_right);
}

// ---------------------------------------------------------------- workspace
// Convolutions allocate the same large buffers on every call; fresh mmap'ed memory would page-fault
// on every call, so buffers are recycled (64-byte aligned, size stored in a header).
#define WS_HEADER 64
#define WS_MAX_CACHED 48
static pthread_mutex_t ws_lock = PTHREAD_MUTEX_INITIALIZER;
static void *ws_cache[WS_MAX_CACHED];
static size_t ws_sizes[WS_MAX_CACHED];
static int ws_count = 0;
static size_t ws_cached_bytes = 0;

static void *ws_alloc(size_t bytes) {
    size_t size = (bytes + 65535) / 65536 * 65536; // 64 KiB classes
    pthread_mutex_lock(&ws_lock);
    for (int i = ws_count - 1; i >= 0; i--) {
        if (ws_sizes[i] == size) {
            void *p = ws_cache[i];
            ws_cache[i] = ws_cache[ws_count - 1];
            ws_sizes[i] = ws_sizes[ws_count - 1];
            ws_count--;
            ws_cached_bytes -= size;
            pthread_mutex_unlock(&ws_lock);
            return (char *)p + WS_HEADER;
        }
    }
    pthread_mutex_unlock(&ws_lock);
    char *p = aligned_alloc(64, size + WS_HEADER);
    if (!p) { fprintf(stderr, "PolicyDiffusion: out of memory allocating %zu bytes for a convolution\n", size); abort(); }
    *(size_t *)p = size;
    return p + WS_HEADER;
}

static void ws_free(void *q) {
    if (!q) return;
    char *p = (char *)q - WS_HEADER;
    size_t size = *(size_t *)p;
    pthread_mutex_lock(&ws_lock);
    if (ws_count == WS_MAX_CACHED) { // evict the oldest
        free(ws_cache[0]);
        ws_cached_bytes -= ws_sizes[0];
        memmove(ws_cache, ws_cache + 1, sizeof(void *) * (WS_MAX_CACHED - 1));
        memmove(ws_sizes, ws_sizes + 1, sizeof(size_t) * (WS_MAX_CACHED - 1));
        ws_count--;
    }
    if (ws_cached_bytes + size <= ((size_t)1 << 31)) {
        ws_cache[ws_count] = p;
        ws_sizes[ws_count++] = size;
        ws_cached_bytes += size;
        p = NULL;
    }
    pthread_mutex_unlock(&ws_lock);
    if (p) free(p);
}

static inline float *falloc(int64_t n) { return (float *)ws_alloc((size_t)(n > 0 ? n : 1) * sizeof(float)); }
float *pd_conv_scratch(int64_t floats) { return falloc(floats); }
void pd_conv_scratch_free(void *p) { ws_free(p); }
static inline fftwf_complex *calloc_complex(int64_t n) { return (fftwf_complex *)ws_alloc((size_t)(n > 0 ? n : 1) * sizeof(fftwf_complex)); }

// ---------------------------------------------------------------- naive reference

static void naive_forward(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *x, const float *w,
                          const float *b, float *y) {
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t co = 0; co < s->c_out; co++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    double acc = b ? b[co] : 0;
                    for (int64_t ci = 0; ci < s->c_in; ci++)
                        for (int64_t a = 0; a < s->k_h; a++)
                            for (int64_t c = 0; c < s->k_w; c++) {
                                int64_t h = i * s->stride_h + a - s->pad_top, v = j * s->stride_w + c - s->pad_left;
                                if (h < 0 || h >= s->in_h || v < 0 || v >= s->in_w) continue;
                                acc += (double)w[((co * s->c_in + ci) * s->k_h + a) * s->k_w + c] *
                                       x[((n * s->c_in + ci) * s->in_h + h) * s->in_w + v];
                            }
                    y[((n * s->c_out + co) * oh + i) * ow + j] = (float)acc;
                }
}

static void naive_backward(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *x, const float *w,
                           const float *gy, float *gx, float *gw, float *gb) {
    if (gx) memset(gx, 0, sizeof(float) * (size_t)(s->batch * s->c_in * s->in_h * s->in_w));
    if (gw) memset(gw, 0, sizeof(float) * (size_t)(s->c_out * s->c_in * s->k_h * s->k_w));
    if (gb) memset(gb, 0, sizeof(float) * (size_t)s->c_out);
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t co = 0; co < s->c_out; co++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    float g = gy[((n * s->c_out + co) * oh + i) * ow + j];
                    if (gb) gb[co] += g;
                    for (int64_t ci = 0; ci < s->c_in; ci++)
                        for (int64_t a = 0; a < s->k_h; a++)
                            for (int64_t c = 0; c < s->k_w; c++) {
                                int64_t h = i * s->stride_h + a - s->pad_top, v = j * s->stride_w + c - s->pad_left;
                                if (h < 0 || h >= s->in_h || v < 0 || v >= s->in_w) continue;
                                int64_t wi = ((co * s->c_in + ci) * s->k_h + a) * s->k_w + c;
                                int64_t xi = ((n * s->c_in + ci) * s->in_h + h) * s->in_w + v;
                                if (gx) gx[xi] += w[wi] * g;
                                if (gw) gw[wi] += x[xi] * g;
                            }
                }
}

// planes [p][h][w] → dst [p][ph][pw]: each plane zero-padded by `top` rows and `left` columns (and
// whatever is left of ph × pw below and right); negative top/left crop instead.
static void pad_planes(const float *src, int64_t planes, int64_t h, int64_t w, int64_t ph, int64_t pw, int64_t top, int64_t left,
                       float *dst) {
    int64_t v0 = left < 0 ? -left : 0, v1 = w < pw - left ? w : pw - left; // source columns that land inside
    for (int64_t r = 0; r < planes; r++) {
        float *d = dst + r * ph * pw;
        memset(d, 0, sizeof(float) * (size_t)(ph * pw));
        for (int64_t y = 0; y < h; y++) {
            int64_t dy = y + top;
            if (dy < 0 || dy >= ph || v1 <= v0) continue;
            memcpy(d + dy * pw + v0 + left, src + (r * h + y) * w + v0, sizeof(float) * (size_t)(v1 - v0));
        }
    }
}

// ---- stride-1 direct path: blocked kernels. A register tile holds
// PD_TILE_PIXELS consecutive outputs of one row × PD_TILE_CHANNELS output channels; for every
// (input channel, kernel offset) it broadcasts one input value per pixel and multiplies the
// packed weights of the whole channel block (oneDNN's direct-convolution scheme). Unlike the
// "shifted GEMMs" it replaced (one GEMM per tap over the padded grid), it computes no padded-grid
// entries (8×8 maps: 10×10 grid) and writes each output once.
// The input gradient is the same kernel on the output gradient with flipped, transposed weights.
typedef struct {
    int64_t batch, c_in, c_out, ph, pw, k_h, k_w, oh, ow, blocks; // ph × pw: the padded input
    int64_t sh, sw;      // strides: output pixel (i, q) reads the input from (i·sh, q·sw)
    const float *xp;     // [batch][c_in][ph][pw], then slack zeros
    const float *wp;     // [blocks][c_in][k_h][k_w][PD_TILE_CHANNELS]
    const float *bias;   // [c_out] or NULL
    float *y;            // [batch][c_out][oh][ow]
} blocked_job;

// One tile: out[t][l] = Σ_(ci,a,c) xp[ci][a][c + t]·w[ci][a][c][l] from a base pointer at the
// tile's first input. Portable version (and the reference the AVX-512 one must equal).
// Always inlined into the portable tile and into an AVX2+FMA copy: without the fma target, fmaf is a
// libm call per multiply-add (57 % of a temporal U-Net's training time on an AVX2 machine); with it, one
// fused instruction. Both round once per fmaf, so the two copies give the same bits.
__attribute__((always_inline)) static inline void blocked_tile_body(const float *x, const int64_t *off, int64_t c_in, int64_t chan,
                                                                    int64_t row, int64_t k_h, int64_t k_w, const float *w,
                                                                    float out[PD_TILE_PIXELS][PD_TILE_CHANNELS]) {
    float acc[PD_TILE_PIXELS][PD_TILE_CHANNELS] = {{0}};
    for (int64_t ci = 0; ci < c_in; ci++)
        for (int64_t a = 0; a < k_h; a++)
            for (int64_t c = 0; c < k_w; c++) {
                const float *xr = x + ci * chan + a * row + c;
                const float *wr = w + ((ci * k_h + a) * k_w + c) * PD_TILE_CHANNELS;
                for (int t = 0; t < PD_TILE_PIXELS; t++)
                    for (int l = 0; l < PD_TILE_CHANNELS; l++) acc[t][l] = fmaf(xr[off[t]], wr[l], acc[t][l]);
            }
    memcpy(out, acc, sizeof(float) * PD_TILE_PIXELS * PD_TILE_CHANNELS);
}

static void blocked_tile_portable(const float *x, const int64_t *off, int64_t c_in, int64_t chan, int64_t row, int64_t k_h,
                                  int64_t k_w, const float *w, float out[PD_TILE_PIXELS][PD_TILE_CHANNELS]) {
    blocked_tile_body(x, off, c_in, chan, row, k_h, k_w, w, out);
}

#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("avx2,fma"))) static void blocked_tile_avx2(const float *x, const int64_t *off, int64_t c_in, int64_t chan,
                                                                 int64_t row, int64_t k_h, int64_t k_w, const float *w,
                                                                 float out[PD_TILE_PIXELS][PD_TILE_CHANNELS]) {
    blocked_tile_body(x, off, c_in, chan, row, k_h, k_w, w, out);
}
#endif

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
// 8 pixels × 32 channels = 16 accumulators of 16 lanes, kept in registers.
__attribute__((target("avx512f"))) static void blocked_tile_avx512(const float *x, const int64_t *off, int64_t c_in, int64_t chan,
                                                                  int64_t row, int64_t k_h, int64_t k_w, const float *w,
                                                                  float out[PD_TILE_PIXELS][PD_TILE_CHANNELS]) {
    const int64_t o0 = off[0], o1 = off[1], o2 = off[2], o3 = off[3], o4 = off[4], o5 = off[5], o6 = off[6], o7 = off[7];
    __m512 lo0 = _mm512_setzero_ps(), lo1 = lo0, lo2 = lo0, lo3 = lo0, lo4 = lo0, lo5 = lo0, lo6 = lo0, lo7 = lo0;
    __m512 hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0, hi4 = lo0, hi5 = lo0, hi6 = lo0, hi7 = lo0;
    for (int64_t ci = 0; ci < c_in; ci++)
        for (int64_t a = 0; a < k_h; a++) {
            const float *xr = x + ci * chan + a * row;
            const float *wr = w + (ci * k_h + a) * k_w * PD_TILE_CHANNELS;
            for (int64_t c = 0; c < k_w; c++, xr++, wr += PD_TILE_CHANNELS) {
                __m512 w0 = _mm512_loadu_ps(wr), w1 = _mm512_loadu_ps(wr + 16), v;
#define PD_STEP(t) v = _mm512_set1_ps(xr[o##t]); lo##t = _mm512_fmadd_ps(v, w0, lo##t); hi##t = _mm512_fmadd_ps(v, w1, hi##t);
                PD_STEP(0) PD_STEP(1) PD_STEP(2) PD_STEP(3) PD_STEP(4) PD_STEP(5) PD_STEP(6) PD_STEP(7)
#undef PD_STEP
            }
        }
#define PD_STORE(t) _mm512_storeu_ps(out[t], lo##t); _mm512_storeu_ps(out[t] + 16, hi##t);
    PD_STORE(0) PD_STORE(1) PD_STORE(2) PD_STORE(3) PD_STORE(4) PD_STORE(5) PD_STORE(6) PD_STORE(7)
#undef PD_STORE
}
#endif

typedef pd_blocked_tile_fn blocked_tile_fn;

static _Atomic int portable_only = 0;

void pd_conv_use_portable_kernels(int on) { portable_only = on != 0; }

// Whether the AVX-512 tiles run (the CPU has them and tests have not asked for the portable ones).
static int avx512_tiles(void) {
#if defined(__x86_64__) && defined(__clang__)
    return !portable_only && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

// Whether the AVX2+FMA copies of the portable tiles run (same bits, inlined FMA).
static int avx2_tiles(void) {
#if defined(__x86_64__) && defined(__clang__)
    return !portable_only && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static blocked_tile_fn blocked_tile_kernel(void) {
#if defined(__x86_64__) && defined(__clang__)
    if (avx512_tiles()) return blocked_tile_avx512;
    if (avx2_tiles()) return blocked_tile_avx2;
#endif
    return blocked_tile_portable;
}

pd_blocked_tile_fn pd_conv_tile_kernel(void) { return blocked_tile_kernel(); }
int pd_conv_isa(void) { return avx512_tiles() ? 2 : avx2_tiles() ? 1 : 0; }

static void blocked_task(void *ctx, int64_t begin, int64_t end) {
    const blocked_job *j = ctx;
    blocked_tile_fn blocked_tile = blocked_tile_kernel();
    float tile[PD_TILE_PIXELS][PD_TILE_CHANNELS];
    for (int64_t task = begin; task < end; task++) {
        int64_t n = task / j->blocks, block = task % j->blocks, co0 = block * PD_TILE_CHANNELS;
        int64_t channels = j->c_out - co0 < PD_TILE_CHANNELS ? j->c_out - co0 : PD_TILE_CHANNELS;
        const float *x = j->xp + n * j->c_in * j->ph * j->pw;
        const float *w = j->wp + block * j->c_in * j->k_h * j->k_w * PD_TILE_CHANNELS;
        // Maps narrower than a tile: one tile spans several whole rows (4×4: two), whose outputs
        // are contiguous; pixel t reads the input at off[t] from the tile's first one.
        int64_t span = j->ow < PD_TILE_PIXELS ? PD_TILE_PIXELS / j->ow : 1, off[PD_TILE_PIXELS];
        if (span > j->oh) span = j->oh;
        for (int64_t t = 0; t < PD_TILE_PIXELS; t++)
            off[t] = span > 1 && t < span * j->ow ? t / j->ow * j->sh * j->pw + t % j->ow * j->sw : t * j->sw;
        for (int64_t i = 0; i < j->oh; i += span)
            for (int64_t q = 0; q < j->ow; q += PD_TILE_PIXELS) {
                blocked_tile(x + i * j->sh * j->pw + q * j->sw, off, j->c_in, j->ph * j->pw, j->pw, j->k_h, j->k_w, w, tile);
                int64_t pixels = span > 1 ? (j->oh - i < span ? j->oh - i : span) * j->ow
                                          : (j->ow - q < PD_TILE_PIXELS ? j->ow - q : PD_TILE_PIXELS);
                for (int64_t l = 0; l < channels; l++) {
                    float *yr = j->y + ((n * j->c_out + co0 + l) * j->oh + i) * j->ow + q;
                    float bias = j->bias ? j->bias[co0 + l] : 0;
                    for (int64_t t = 0; t < pixels; t++) yr[t] = tile[t][l] + bias;
                }
            }
    }
}

typedef struct { const float *x; float *xp; int64_t h, w, ph, pw, top, left; } pad_job_t;

static void blocked_pad_task(void *ctx, int64_t begin, int64_t end) { // planes begin..<end (n·c + channel)
    const pad_job_t *p = ctx;
    pad_planes(p->x + begin * p->h * p->w, end - begin, p->h, p->w, p->ph, p->pw, p->top, p->left, p->xp + begin * p->ph * p->pw);
}

// y = correlation of x [batch][c_in][h][w] (padded by top/bottom/left/right) with packed weights,
// at strides sh × sw.
static void blocked_conv(int64_t batch, int64_t c_in, int64_t c_out, int64_t h, int64_t w, int64_t k_h, int64_t k_w,
                         int64_t sh, int64_t sw, int64_t top, int64_t bottom, int64_t left, int64_t right, const float *x,
                         const float *wp, const float *bias, float *y) {
    int64_t ph = h + top + bottom, pw = w + left + right;
    // Tiles of the last rows read past the grid (up to PD_TILE_PIXELS − 1 pixels, or the rows a
    // spanning tile does not store): slack zeros.
    int64_t slack = PD_TILE_PIXELS * (sh * pw + sw) + pw + k_w;
    float *xp = falloc(batch * c_in * ph * pw + slack);
    memset(xp + batch * c_in * ph * pw, 0, sizeof(float) * (size_t)slack);
    pad_job_t pj = {x, xp, h, w, ph, pw, top, left};
    pd_parallel_for(batch * c_in, 16, blocked_pad_task, &pj);
    blocked_job j = {batch, c_in, c_out, ph, pw, k_h, k_w, (ph - k_h) / sh + 1, (pw - k_w) / sw + 1,
                     (c_out + PD_TILE_CHANNELS - 1) / PD_TILE_CHANNELS, sh, sw, xp, wp, bias, y};
    pd_parallel_for(batch * j.blocks, 1, blocked_task, &j);
    ws_free(xp);
}

// W [co][ci][a][c] → [block][ci][a][c][PD_TILE_CHANNELS] (zeros past c_out). adjoint = 1 packs the
// input gradient's weights instead: channels swapped and the kernel flipped.
static float *blocked_pack(const pd_conv_shape *s, const float *w, int adjoint) {
    int64_t outs = adjoint ? s->c_in : s->c_out, ins = adjoint ? s->c_out : s->c_in, taps = s->k_h * s->k_w;
    int64_t blocks = (outs + PD_TILE_CHANNELS - 1) / PD_TILE_CHANNELS, per_block = ins * taps * PD_TILE_CHANNELS;
    float *wp = falloc(blocks * per_block);
    // Only the last block can hold channels past `outs`: zero it first. The packing runs on every
    // call (a sampler's 31 network evaluations pack each layer 31 times), so each output channel's
    // weights are read as one contiguous row and written with a fixed stride, no index arithmetic.
    if (outs % PD_TILE_CHANNELS) memset(wp + (blocks - 1) * per_block, 0, sizeof(float) * (size_t)per_block);
    for (int64_t o = 0; o < outs; o++) {
        float *dst = wp + (o / PD_TILE_CHANNELS) * per_block + o % PD_TILE_CHANNELS;
        for (int64_t i = 0; i < ins; i++, dst += taps * PD_TILE_CHANNELS) {
            // Forward: W[o][i][tap]. Adjoint: W[i][o] with the kernel flipped (tap t reads taps − 1 − t).
            const float *src = adjoint ? w + (i * s->c_in + o) * taps : w + (o * s->c_in + i) * taps;
            if (adjoint)
                for (int64_t t = 0; t < taps; t++) dst[t * PD_TILE_CHANNELS] = src[taps - 1 - t];
            else
                for (int64_t t = 0; t < taps; t++) dst[t * PD_TILE_CHANNELS] = src[t];
        }
    }
    return wp;
}

// Adds chunks 1… of `partials` ([chunks][size]) into chunk 0, in chunk order (deterministic for a
// thread count).
static void sum_chunks(float *partials, int64_t chunks, int64_t size) {
    for (int64_t c = 1; c < chunks; c++)
        for (int64_t i = 0; i < size; i++) partials[i] += partials[c * size + i];
}

// Weight gradient with the same tiling: ∂W[co][ci][a][c] = Σ_(n,i,j) ∂y[n][co][i][j]·x_pad[n][ci][i+a][j+c].
// A tile holds 8 input channels × 32 output channels of one tap; per output pixel it loads the
// 32 output gradients (∂y packed pixel-major, [P][blocks·32]) and broadcasts 8 inputs. Each
// sample's packed ∂y and padded x stay in cache across the taps; the batch is split over the pool
// and the chunks' partial sums are added in chunk order.
#define PD_TILE_INPUTS 8

// row, col: input steps between output rows and columns (the padded width and 1 at stride 1).
__attribute__((always_inline)) static inline void wgrad_tile_body(const float *x, int64_t chan, int64_t row, int64_t col, int64_t oh,
                                                                  int64_t ow, const float *g, int64_t ld, float *acc) {
    for (int64_t i = 0; i < oh; i++)
        for (int64_t j = 0; j < ow; j++) {
            const float *gr = g + (i * ow + j) * ld, *xr = x + i * row + j * col;
            for (int t = 0; t < PD_TILE_INPUTS; t++)
                for (int l = 0; l < PD_TILE_CHANNELS; l++) acc[t * PD_TILE_CHANNELS + l] = fmaf(xr[t * chan], gr[l], acc[t * PD_TILE_CHANNELS + l]);
        }
}

static void wgrad_tile_portable(const float *x, int64_t chan, int64_t row, int64_t col, int64_t oh, int64_t ow, const float *g,
                                int64_t ld, float *acc) {
    wgrad_tile_body(x, chan, row, col, oh, ow, g, ld, acc);
}

#if defined(__x86_64__) && defined(__clang__)
// The same loop with inlined FMA instructions (see blocked_tile_body).
__attribute__((target("avx2,fma"))) static void wgrad_tile_avx2(const float *x, int64_t chan, int64_t row, int64_t col, int64_t oh,
                                                               int64_t ow, const float *g, int64_t ld, float *acc) {
    wgrad_tile_body(x, chan, row, col, oh, ow, g, ld, acc);
}
#endif

#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("avx512f"))) static void wgrad_tile_avx512(const float *x, int64_t chan, int64_t row, int64_t col, int64_t oh,
                                                                int64_t ow, const float *g, int64_t ld, float *acc) {
#define PD_LOAD(t) __m512 lo##t = _mm512_loadu_ps(acc + t * 32), hi##t = _mm512_loadu_ps(acc + t * 32 + 16);
    PD_LOAD(0) PD_LOAD(1) PD_LOAD(2) PD_LOAD(3) PD_LOAD(4) PD_LOAD(5) PD_LOAD(6) PD_LOAD(7)
#undef PD_LOAD
    for (int64_t i = 0; i < oh; i++) {
        const float *gr = g + i * ow * ld, *xr = x + i * row;
        for (int64_t j = 0; j < ow; j++, gr += ld, xr += col) {
            __m512 g0 = _mm512_loadu_ps(gr), g1 = _mm512_loadu_ps(gr + 16), v;
#define PD_STEP(t) v = _mm512_set1_ps(xr[t * chan]); lo##t = _mm512_fmadd_ps(v, g0, lo##t); hi##t = _mm512_fmadd_ps(v, g1, hi##t);
            PD_STEP(0) PD_STEP(1) PD_STEP(2) PD_STEP(3) PD_STEP(4) PD_STEP(5) PD_STEP(6) PD_STEP(7)
#undef PD_STEP
        }
    }
#define PD_STORE(t) _mm512_storeu_ps(acc + t * 32, lo##t); _mm512_storeu_ps(acc + t * 32 + 16, hi##t);
    PD_STORE(0) PD_STORE(1) PD_STORE(2) PD_STORE(3) PD_STORE(4) PD_STORE(5) PD_STORE(6) PD_STORE(7)
#undef PD_STORE
}
#endif

typedef void (*wgrad_tile_fn)(const float *, int64_t, int64_t, int64_t, int64_t, int64_t, const float *, int64_t, float *);

static wgrad_tile_fn wgrad_tile_kernel(void) {
#if defined(__x86_64__) && defined(__clang__)
    if (avx512_tiles()) return wgrad_tile_avx512;
    if (avx2_tiles()) return wgrad_tile_avx2;
#endif
    return wgrad_tile_portable;
}

typedef struct {
    const pd_conv_shape *s;
    int64_t oh, ow, ph, pw, inputs, blocks, chunks; // inputs: c_in rounded up to PD_TILE_INPUTS
    const float *x, *gy;
    float *partials; // [chunk][kh·kw][blocks][inputs][32]
} wgrad_job;

static void wgrad_task(void *ctx, int64_t begin, int64_t end) {
    const wgrad_job *j = ctx;
    const pd_conv_shape *s = j->s;
    wgrad_tile_fn tile = wgrad_tile_kernel();
    int64_t grid = j->ph * j->pw, p = j->oh * j->ow, ld = j->blocks * PD_TILE_CHANNELS, taps = s->k_h * s->k_w;
    int64_t per_chunk = taps * j->blocks * j->inputs * PD_TILE_CHANNELS;
    // Padded input (zero channels up to `inputs`, slack for the last tile's reads) and packed ∂y.
    float *xp = falloc(j->inputs * grid + s->k_w), *gt = falloc(p * ld);
    for (int64_t chunk = begin; chunk < end; chunk++) {
        float *acc = j->partials + chunk * per_chunk;
        memset(acc, 0, sizeof(float) * (size_t)per_chunk);
        for (int64_t n = s->batch * chunk / j->chunks; n < s->batch * (chunk + 1) / j->chunks; n++) {
            pad_planes(j->x + n * s->c_in * s->in_h * s->in_w, s->c_in, s->in_h, s->in_w, j->ph, j->pw, s->pad_top, s->pad_left, xp);
            memset(xp + s->c_in * grid, 0, sizeof(float) * (size_t)((j->inputs - s->c_in) * grid + s->k_w));
            if (s->c_out < ld) memset(gt, 0, sizeof(float) * (size_t)(p * ld)); // else every entry is written below
            for (int64_t co = 0; co < s->c_out; co++) {
                const float *src = j->gy + (n * s->c_out + co) * p;
                for (int64_t q = 0; q < p; q++) gt[q * ld + co] = src[q];
            }
            for (int64_t a = 0; a < s->k_h; a++)
                for (int64_t c = 0; c < s->k_w; c++)
                    for (int64_t b = 0; b < j->blocks; b++)
                        for (int64_t ci = 0; ci < j->inputs; ci += PD_TILE_INPUTS)
                            tile(xp + ci * grid + a * j->pw + c, grid, s->stride_h * j->pw, s->stride_w, j->oh, j->ow, gt + b * PD_TILE_CHANNELS, ld,
                                 acc + (((a * s->k_w + c) * j->blocks + b) * j->inputs + ci) * PD_TILE_CHANNELS);
        }
    }
    ws_free(gt);
    ws_free(xp);
}

static void blocked_backward_weight(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *x, const float *gy, float *gw) {
    int threads = pd_get_num_threads();
    wgrad_job j = {s, oh, ow, s->in_h + s->pad_top + s->pad_bottom, s->in_w + s->pad_left + s->pad_right,
                   (s->c_in + PD_TILE_INPUTS - 1) / PD_TILE_INPUTS * PD_TILE_INPUTS, (s->c_out + PD_TILE_CHANNELS - 1) / PD_TILE_CHANNELS,
                   s->batch < threads ? s->batch : threads, x, gy, NULL};
    int64_t taps = s->k_h * s->k_w, per_chunk = taps * j.blocks * j.inputs * PD_TILE_CHANNELS;
    j.partials = falloc(j.chunks * per_chunk);
    pd_parallel_for(j.chunks, 1, wgrad_task, &j);
    sum_chunks(j.partials, j.chunks, per_chunk);
    for (int64_t co = 0; co < s->c_out; co++)
        for (int64_t ci = 0; ci < s->c_in; ci++)
            for (int64_t t = 0; t < taps; t++)
                gw[(co * s->c_in + ci) * taps + t] =
                    j.partials[((t * j.blocks + co / PD_TILE_CHANNELS) * j.inputs + ci) * PD_TILE_CHANNELS + co % PD_TILE_CHANNELS];
    ws_free(j.partials);
}

// The blocked kernels serve every pass, strided too; the input gradient at stride 1 directly
// (padding ≥ k makes its padding k − 1 − p negative: pad_planes crops), strided by phases (below).
static inline int blocked_ok(const pd_conv_shape *s) { return s->stride_h == 1 && s->stride_w == 1; }

static void blocked_forward(const pd_conv_shape *s, const float *x, const float *w, const float *b, float *y) {
    float *wp = blocked_pack(s, w, 0);
    blocked_conv(s->batch, s->c_in, s->c_out, s->in_h, s->in_w, s->k_h, s->k_w, s->stride_h, s->stride_w, s->pad_top, s->pad_bottom,
                 s->pad_left, s->pad_right, x, wp, b, y);
    ws_free(wp);
}

static void blocked_backward_input(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *gy, const float *w, float *gx) {
    float *wp = blocked_pack(s, w, 1);
    blocked_conv(s->batch, s->c_out, s->c_in, oh, ow, s->k_h, s->k_w, 1, 1, s->k_h - 1 - s->pad_top, s->k_h - 1 - s->pad_bottom,
                 s->k_w - 1 - s->pad_left, s->k_w - 1 - s->pad_right, gy, wp, NULL, gx);
    ws_free(wp);
}

// Strided input gradient (ConvTranspose's forward) as s_h·s_w stride-1 tiled convolutions, one per
// output phase (polyphase): the padded gradient's entry (q_y·s_h + r_y, q_x·s_w + r_x) only meets taps
// a ≡ r_y (mod s_h), c ≡ r_x (mod s_w), so phase (r_y, r_x) is the correlation of ∂y with that
// sub-kernel, flipped, with no multiplications by inserted zeros. Each phase's result is scattered
// to its positions; every entry of ∂x belongs to exactly one phase.
typedef struct {
    const pd_conv_shape *s;
    int64_t ry, rx, qh, qw; // phase and its output size
    const float *part;      // [batch][c_in][qh][qw], or NULL: the phase meets no tap (zeros)
    float *gx;
} phase_scatter_job;

static void phase_scatter_task(void *ctx, int64_t begin, int64_t end) { // planes n·c_in + ci
    const phase_scatter_job *j = ctx;
    const pd_conv_shape *s = j->s;
    for (int64_t plane = begin; plane < end; plane++) {
        float *g = j->gx + plane * s->in_h * s->in_w;
        const float *src = j->part ? j->part + plane * j->qh * j->qw : NULL;
        for (int64_t qy = 0; qy < j->qh; qy++) {
            int64_t y = qy * s->stride_h + j->ry - s->pad_top;
            if (y < 0 || y >= s->in_h) continue;
            for (int64_t qx = 0; qx < j->qw; qx++) {
                int64_t x = qx * s->stride_w + j->rx - s->pad_left;
                if (x >= 0 && x < s->in_w) g[y * s->in_w + x] = src ? src[qy * j->qw + qx] : 0.0f;
            }
        }
    }
}

// Phase (ry, rx)'s sub-kernel in the blocked layout of the input gradient: outputs c_in, inputs c_out,
// taps flipped (tap (ty, tx) reads W[co][ci][(ky − 1 − ty)·s_h + ry][(kx − 1 − tx)·s_w + rx]).
static float *phase_pack(const pd_conv_shape *s, const float *w, int64_t ry, int64_t rx, int64_t ky, int64_t kx) {
    int64_t blocks = (s->c_in + PD_TILE_CHANNELS - 1) / PD_TILE_CHANNELS, per_block = s->c_out * ky * kx * PD_TILE_CHANNELS;
    float *wp = falloc(blocks * per_block);
    if (s->c_in % PD_TILE_CHANNELS) memset(wp + (blocks - 1) * per_block, 0, sizeof(float) * (size_t)per_block);
    for (int64_t ci = 0; ci < s->c_in; ci++)
        for (int64_t co = 0; co < s->c_out; co++)
            for (int64_t ty = 0; ty < ky; ty++)
                for (int64_t tx = 0; tx < kx; tx++) {
                    int64_t a = (ky - 1 - ty) * s->stride_h + ry, c = (kx - 1 - tx) * s->stride_w + rx;
                    wp[(ci / PD_TILE_CHANNELS) * per_block + ((co * ky + ty) * kx + tx) * PD_TILE_CHANNELS + ci % PD_TILE_CHANNELS] =
                        w[((co * s->c_in + ci) * s->k_h + a) * s->k_w + c];
                }
    return wp;
}

static void blocked_strided_backward_input(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *gy, const float *w, float *gx) {
    int64_t ph = s->in_h + s->pad_top + s->pad_bottom, pw = s->in_w + s->pad_left + s->pad_right;
    int64_t qh_max = (ph + s->stride_h - 1) / s->stride_h, qw_max = (pw + s->stride_w - 1) / s->stride_w;
    float *part = falloc(s->batch * s->c_in * qh_max * qw_max);
    for (int64_t ry = 0; ry < s->stride_h; ry++)
        for (int64_t rx = 0; rx < s->stride_w; rx++) {
            // Padded rows ry, ry + s_h, …: q_h of them; taps ry, ry + s_h, … < k_h: ky of them.
            int64_t qh = (ph - ry + s->stride_h - 1) / s->stride_h, qw = (pw - rx + s->stride_w - 1) / s->stride_w;
            int64_t ky = (s->k_h - ry + s->stride_h - 1) / s->stride_h, kx = (s->k_w - rx + s->stride_w - 1) / s->stride_w;
            if (qh <= 0 || qw <= 0) continue;
            phase_scatter_job j = {s, ry, rx, qh, qw, NULL, gx};
            if (ky > 0 && kx > 0) {
                float *wp = phase_pack(s, w, ry, rx, ky, kx);
                // ∂y padded by ky − 1 above (and cropped or padded below to q_h outputs), likewise in x.
                blocked_conv(s->batch, s->c_out, s->c_in, oh, ow, ky, kx, 1, 1, ky - 1, qh - oh, kx - 1, qw - ow, gy, wp, NULL, part);
                ws_free(wp);
                j.part = part;
            }
            pd_parallel_for(s->batch * s->c_in, 8, phase_scatter_task, &j);
        }
    ws_free(part);
}


static void bias_grad(const pd_conv_shape *s, int64_t p, const float *gy, float *gb) {
    for (int64_t co = 0; co < s->c_out; co++) {
        double acc = 0;
        for (int64_t n = 0; n < s->batch; n++) {
            const float *r = gy + (n * s->c_out + co) * p;
            float part = 0;
            for (int64_t q = 0; q < p; q++) part += r[q];
            acc += part;
        }
        gb[co] = (float)acc;
    }
}

// ---------------------------------------------------------------- FFT path

// Smallest even 2^a·3^b·5^c·7^d ≥ n: FFTW is fastest on such sizes, and odd real transforms
// measured 2–4× slower per point than even ones of similar length (525 vs 540, 1029 vs 1050).
static int64_t fft_size(int64_t n) {
    for (int64_t m = n > 2 ? n : 2;; m++) {
        if (m % 2) continue;
        int64_t r = m;
        while (r % 2 == 0) r /= 2;
        while (r % 3 == 0) r /= 3;
        while (r % 5 == 0) r /= 5;
        while (r % 7 == 0) r /= 7;
        if (r == 1) return m;
    }
}

typedef struct {
    int64_t nh, nw, real, freqs; // transform sizes: real = nh·nw, freqs = nh·(nw/2 + 1)
    int64_t dist;                // floats between consecutive real arrays: real rounded up to 16
    int rank;
} fft_geometry;

// Transforms are split across threads in chunks of this many, so every chunk's real and complex
// base pointers keep the 64-byte alignment of fftwf_malloc and FFTW may use its SIMD codelets.
#define PD_FFT_CHUNK_ALIGN 8

static fft_geometry geometry(const pd_conv_shape *s) {
    fft_geometry g;
    int64_t ph = s->in_h + s->pad_top + s->pad_bottom, pw = s->in_w + s->pad_left + s->pad_right;
    g.nh = ph > 1 ? fft_size(ph) : 1;
    g.nw = fft_size(pw);
    g.rank = g.nh > 1 ? 2 : 1;
    g.real = g.nh * g.nw;
    g.freqs = g.nh * (g.nw / 2 + 1);
    g.dist = (g.real + 15) / 16 * 16;
    return g;
}

// Plan cache: FFTW planning is not thread-safe and costs far more than execution, so each
// (geometry, batch, layout, direction) is planned once with FFTW_ESTIMATE (deterministic) and
// executed with the new-array interface from any thread.
typedef struct {
    int forward, rank;
    int64_t nh, nw, howmany, stride;
    fftwf_plan plan;
} plan_entry;

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static plan_entry *plans = NULL;
static int64_t plan_count = 0, plan_capacity = 0;

int64_t pd_conv_cached_plans(void) {
    pthread_mutex_lock(&plan_lock);
    int64_t n = plan_count;
    pthread_mutex_unlock(&plan_lock);
    return n;
}

// Transforms write and read transform-major complex arrays [t][freq] (strided, frequency-major
// FFTW output measured 15× slower), and a blocked transpose turns them into the frequency-major
// [freq][t] layout the per-frequency GEMMs need.
static fftwf_plan get_plan(int forward, const fft_geometry *g, int64_t howmany, float *real, fftwf_complex *cplx) {
    pthread_mutex_lock(&plan_lock);
    for (int64_t i = 0; i < plan_count; i++) {
        plan_entry *e = &plans[i];
        if (e->forward == forward && e->nh == g->nh && e->nw == g->nw && e->howmany == howmany && e->stride == g->dist) {
            fftwf_plan p = e->plan;
            pthread_mutex_unlock(&plan_lock);
            return p;
        }
    }
    int n[2] = {(int)g->nh, (int)g->nw};
    int *dims = g->rank == 2 ? n : n + 1;
    fftwf_plan p;
    unsigned flags = FFTW_ESTIMATE;
    if (forward)
        p = fftwf_plan_many_dft_r2c(g->rank, dims, (int)howmany, real, NULL, 1, (int)g->dist, cplx, NULL, 1, (int)g->freqs, flags);
    else
        p = fftwf_plan_many_dft_c2r(g->rank, dims, (int)howmany, cplx, NULL, 1, (int)g->freqs, real, NULL, 1, (int)g->dist, flags);
    if (plan_count == plan_capacity) {
        plan_capacity = plan_capacity ? plan_capacity * 2 : 16;
        plans = realloc(plans, sizeof(plan_entry) * (size_t)plan_capacity);
    }
    plans[plan_count++] = (plan_entry){forward, g->rank, g->nh, g->nw, howmany, g->dist, p};
    pthread_mutex_unlock(&plan_lock);
    return p;
}

typedef struct {
    const fft_geometry *g;
    int forward;
    int64_t total, chunks;
    float *real;
    fftwf_complex *cplx, *work; // work: transform-major [total][freqs]
} transform_job;

#define PD_TRANSPOSE_BLOCK 32

// dst[f·total + t] = src[t·freqs + f] for rows t in [t0, t1) (or the reverse when !to_freq_major).
static void transpose_rows(const transform_job *j, int64_t t0, int64_t t1, int to_freq_major) {
    int64_t F = j->g->freqs, T = j->total;
    // Complex numbers moved as 8-byte words (fftwf_complex is float[2] or float _Complex depending on
    // whether <complex.h> came first, as OpenBLAS's header makes it).
    uint64_t *freq_major = (uint64_t *)j->cplx, *transform_major = (uint64_t *)j->work;
    for (int64_t tb = t0; tb < t1; tb += PD_TRANSPOSE_BLOCK) {
        int64_t te = tb + PD_TRANSPOSE_BLOCK < t1 ? tb + PD_TRANSPOSE_BLOCK : t1;
        for (int64_t fb = 0; fb < F; fb += PD_TRANSPOSE_BLOCK) {
            int64_t fe = fb + PD_TRANSPOSE_BLOCK < F ? fb + PD_TRANSPOSE_BLOCK : F;
            for (int64_t t = tb; t < te; t++)
                for (int64_t f = fb; f < fe; f++) {
                    if (to_freq_major) freq_major[f * T + t] = transform_major[t * F + f];
                    else transform_major[t * F + f] = freq_major[f * T + t];
                }
        }
    }
}

static void transform_task(void *ctx, int64_t b, int64_t e) {
    const transform_job *j = ctx;
    int64_t blocks = (j->total + PD_FFT_CHUNK_ALIGN - 1) / PD_FFT_CHUNK_ALIGN;
    for (int64_t c = b; c < e; c++) {
        int64_t t0 = blocks * c / j->chunks * PD_FFT_CHUNK_ALIGN, t1 = blocks * (c + 1) / j->chunks * PD_FFT_CHUNK_ALIGN;
        if (t1 > j->total) t1 = j->total;
        if (t1 <= t0) continue;
        float *real = j->real + t0 * j->g->dist;
        fftwf_complex *work = j->work + t0 * j->g->freqs;
        fftwf_plan p = get_plan(j->forward, j->g, t1 - t0, real, work);
        if (j->forward) {
            fftwf_execute_dft_r2c(p, real, work);
            transpose_rows(j, t0, t1, 1);
        } else {
            transpose_rows(j, t0, t1, 0);
            fftwf_execute_dft_c2r(p, work, real);
        }
    }
}

// `total` transforms between real [total][dist] and frequency-major complex [freqs][total].
static void transforms(const fft_geometry *g, int forward, int64_t total, float *real, fftwf_complex *cplx) {
    int threads = pd_get_num_threads();
    int64_t blocks = (total + PD_FFT_CHUNK_ALIGN - 1) / PD_FFT_CHUNK_ALIGN;
    fftwf_complex *work = calloc_complex(total * g->freqs);
    transform_job j = {g, forward, total, blocks < threads ? blocks : threads, real, cplx, work};
    pd_parallel_for(j.chunks, 1, transform_task, &j);
    ws_free(work);
}

typedef struct {
    int trans_a, trans_b;
    int64_t m, n, k, lda, ldb, ldc, sa, sb, sc;
    float scale;
    const fftwf_complex *a, *b;
    fftwf_complex *c;
} cgemm_job;

static inline enum CBLAS_TRANSPOSE ctr(int t) { return t == 2 ? CblasConjTrans : (t ? CblasTrans : CblasNoTrans); }

static void cgemm_task(void *ctx, int64_t b, int64_t e) {
    const cgemm_job *j = ctx;
    float alpha[2] = {j->scale, 0}, beta[2] = {0, 0};
    for (int64_t f = b; f < e; f++)
        cblas_cgemm(CblasRowMajor, ctr(j->trans_a), ctr(j->trans_b), (int)j->m, (int)j->n, (int)j->k, alpha,
                    j->a + f * j->sa, (int)j->lda, j->b + f * j->sb, (int)j->ldb, beta, j->c + f * j->sc, (int)j->ldc);
}

// One complex GEMM per frequency, frequencies spread over the pool.
static void per_frequency_gemm(cgemm_job *j, int64_t freqs) {
    int64_t work = j->m * j->n * j->k;
    pd_parallel_for(freqs, 1 + 20000 / (work + 1), cgemm_task, j);
}

struct pd_conv_saved {
    pd_conv_shape shape;
    int has_x, has_w, has_gy;
    fftwf_complex *xf, *wf, *gyf;
};

pd_conv_saved *pd_conv_saved_create(void) { return calloc(1, sizeof(pd_conv_saved)); }

void pd_conv_saved_free(pd_conv_saved *s) {
    if (!s) return;
    ws_free(s->xf);
    ws_free(s->wf);
    ws_free(s->gyf);
    free(s);
}

static int same_shape(const pd_conv_shape *a, const pd_conv_shape *b) { return memcmp(a, b, sizeof(pd_conv_shape)) == 0; }

typedef struct {
    const pd_conv_shape *s;
    const fft_geometry *g;
    int64_t oh, ow;
    const float *src;
    float *dst;
    const float *bias;
} copy_job;

// x [N·Ci][H][W] → zero-padded [N·Ci][nh][nw] at offset (pad_top, pad_left).
static void pad_task(void *ctx, int64_t b, int64_t e) {
    const copy_job *j = ctx;
    const pd_conv_shape *s = j->s;
    for (int64_t t = b; t < e; t++) {
        float *d = j->dst + t * j->g->dist;
        memset(d, 0, sizeof(float) * (size_t)j->g->dist);
        for (int64_t h = 0; h < s->in_h; h++)
            memcpy(d + (h + s->pad_top) * j->g->nw + s->pad_left, j->src + (t * s->in_h + h) * s->in_w, sizeof(float) * (size_t)s->in_w);
    }
}

// gy [N·Co][oh][ow] → [N·Co][nh][nw] with entry (i, j) at (i·sh, j·sw) (stride upsampling).
static void upsample_task(void *ctx, int64_t b, int64_t e) {
    const copy_job *j = ctx;
    const pd_conv_shape *s = j->s;
    for (int64_t t = b; t < e; t++) {
        float *d = j->dst + t * j->g->dist;
        memset(d, 0, sizeof(float) * (size_t)j->g->dist);
        for (int64_t i = 0; i < j->oh; i++)
            for (int64_t q = 0; q < j->ow; q++)
                d[i * s->stride_h * j->g->nw + q * s->stride_w] = j->src[(t * j->oh + i) * j->ow + q];
    }
}

// Circular correlation [N·Co][nh][nw] → y [N·Co][oh][ow] (stride subsampling) + bias.
static void extract_output_task(void *ctx, int64_t b, int64_t e) {
    const copy_job *j = ctx;
    const pd_conv_shape *s = j->s;
    for (int64_t t = b; t < e; t++) {
        const float *z = j->src + t * j->g->dist;
        float bias = j->bias ? j->bias[t % s->c_out] : 0;
        for (int64_t i = 0; i < j->oh; i++)
            for (int64_t q = 0; q < j->ow; q++)
                j->dst[(t * j->oh + i) * j->ow + q] = z[i * s->stride_h * j->g->nw + q * s->stride_w] + bias;
    }
}

// Padded-input gradient [N·Ci][nh][nw] → gx [N·Ci][H][W] (crop the padding).
static void crop_task(void *ctx, int64_t b, int64_t e) {
    const copy_job *j = ctx;
    const pd_conv_shape *s = j->s;
    for (int64_t t = b; t < e; t++)
        for (int64_t h = 0; h < s->in_h; h++)
            memcpy(j->dst + (t * s->in_h + h) * s->in_w, j->src + t * j->g->dist + (h + s->pad_top) * j->g->nw + s->pad_left,
                   sizeof(float) * (size_t)s->in_w);
}

static void run_copy(pd_task_fn fn, int64_t rows, copy_job *j) { pd_parallel_for(rows, 8, fn, j); }

static fftwf_complex *transform_input(const pd_conv_shape *s, const fft_geometry *g, const float *x) {
    int64_t rows = s->batch * s->c_in;
    float *xp = falloc(rows * g->dist);
    fftwf_complex *xf = calloc_complex(rows * g->freqs);
    copy_job cj = {s, g, 0, 0, x, xp, NULL};
    run_copy(pad_task, rows, &cj);
    transforms(g, 1, rows, xp, xf);
    ws_free(xp);
    return xf;
}

static fftwf_complex *transform_weight(const pd_conv_shape *s, const fft_geometry *g, const float *w) {
    int64_t rows = s->c_out * s->c_in;
    float *wp = falloc(rows * g->dist);
    fftwf_complex *wf = calloc_complex(rows * g->freqs);
    memset(wp, 0, sizeof(float) * (size_t)(rows * g->dist));
    for (int64_t t = 0; t < rows; t++)
        for (int64_t a = 0; a < s->k_h; a++)
            memcpy(wp + t * g->dist + a * g->nw, w + (t * s->k_h + a) * s->k_w, sizeof(float) * (size_t)s->k_w);
    transforms(g, 1, rows, wp, wf);
    ws_free(wp);
    return wf;
}

static fftwf_complex *transform_output_grad(const pd_conv_shape *s, const fft_geometry *g, int64_t oh, int64_t ow, const float *gy) {
    int64_t rows = s->batch * s->c_out;
    float *up = falloc(rows * g->dist);
    fftwf_complex *gyf = calloc_complex(rows * g->freqs);
    copy_job cj = {s, g, oh, ow, gy, up, NULL};
    run_copy(upsample_task, rows, &cj);
    transforms(g, 1, rows, up, gyf);
    ws_free(up);
    return gyf;
}

// Gets X̂ / Ŵ / ĜY from `saved` when it holds them for this shape, else computes them; the caller
// frees what it did not borrow.
static fftwf_complex *input_spectrum(const pd_conv_shape *s, const fft_geometry *g, const float *x, pd_conv_saved *sv, int *owned) {
    if (sv && sv->has_x && same_shape(&sv->shape, s)) { *owned = 0; return sv->xf; }
    *owned = 1;
    return transform_input(s, g, x);
}

static fftwf_complex *weight_spectrum(const pd_conv_shape *s, const fft_geometry *g, const float *w, pd_conv_saved *sv, int *owned) {
    if (sv && sv->has_w && same_shape(&sv->shape, s)) { *owned = 0; return sv->wf; }
    *owned = 1;
    return transform_weight(s, g, w);
}

static void keep(pd_conv_saved *sv, const pd_conv_shape *s, fftwf_complex **slot, int *flag, fftwf_complex *value) {
    if (!same_shape(&sv->shape, s)) {
        ws_free(sv->xf); ws_free(sv->wf); ws_free(sv->gyf);
        sv->xf = sv->wf = sv->gyf = NULL;
        sv->has_x = sv->has_w = sv->has_gy = 0;
        sv->shape = *s;
    }
    if (*slot && *slot != value) ws_free(*slot);
    *slot = value;
    *flag = 1;
}

static void fft_forward(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *x, const float *w, const float *b,
                        float *y, pd_conv_saved *sv) {
    fft_geometry g = geometry(s);
    int own_x, own_w;
    fftwf_complex *xf = input_spectrum(s, &g, x, sv, &own_x);
    fftwf_complex *wf = weight_spectrum(s, &g, w, sv, &own_w);
    int64_t nb = s->batch, ci = s->c_in, co = s->c_out;
    fftwf_complex *zf = calloc_complex(g.freqs * nb * co);
    // Ẑ_f [N × Co] = X̂_f [N × Ci] · Ŵ_fᴴ (correlation = product with the conjugate), 1/(nh·nw) normalizes FFTW.
    cgemm_job cj = {0, 2, nb, co, ci, ci, ci, co, nb * ci, co * ci, nb * co, 1.0f / (float)g.real, xf, wf, zf};
    per_frequency_gemm(&cj, g.freqs);
    float *z = falloc(nb * co * g.dist);
    transforms(&g, 0, nb * co, z, zf);
    copy_job ej = {s, &g, oh, ow, z, y, b};
    run_copy(extract_output_task, nb * co, &ej);
    ws_free(z);
    ws_free(zf);
    if (sv) {
        if (own_x) keep(sv, s, &sv->xf, &sv->has_x, xf);
        if (own_w) keep(sv, s, &sv->wf, &sv->has_w, wf);
    } else {
        if (own_x) ws_free(xf);
        if (own_w) ws_free(wf);
    }
}

static void fft_backward_input(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *gy, const float *w, float *gx,
                               pd_conv_saved *sv) {
    fft_geometry g = geometry(s);
    int own_w;
    fftwf_complex *wf = weight_spectrum(s, &g, w, sv, &own_w);
    fftwf_complex *gyf = transform_output_grad(s, &g, oh, ow, gy);
    int64_t nb = s->batch, ci = s->c_in, co = s->c_out;
    fftwf_complex *gxf = calloc_complex(g.freqs * nb * ci);
    // ĜX_f [N × Ci] = ĜY_f [N × Co] · Ŵ_f [Co × Ci] (the adjoint of correlation is convolution).
    cgemm_job cj = {0, 0, nb, ci, co, co, ci, ci, nb * co, co * ci, nb * ci, 1.0f / (float)g.real, gyf, wf, gxf};
    per_frequency_gemm(&cj, g.freqs);
    float *gxp = falloc(nb * ci * g.dist);
    transforms(&g, 0, nb * ci, gxp, gxf);
    copy_job kj = {s, &g, oh, ow, gxp, gx, NULL};
    run_copy(crop_task, nb * ci, &kj);
    ws_free(gxp);
    ws_free(gxf);
    if (sv) keep(sv, s, &sv->gyf, &sv->has_gy, gyf); else ws_free(gyf);
    if (own_w) { if (sv) keep(sv, s, &sv->wf, &sv->has_w, wf); else ws_free(wf); }
}

static void fft_backward_weight(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *x, const float *gy, float *gw,
                                pd_conv_saved *sv) {
    fft_geometry g = geometry(s);
    int own_x, own_gy = 1;
    fftwf_complex *xf = input_spectrum(s, &g, x, sv, &own_x);
    fftwf_complex *gyf;
    if (sv && sv->has_gy && same_shape(&sv->shape, s)) { gyf = sv->gyf; own_gy = 0; }
    else gyf = transform_output_grad(s, &g, oh, ow, gy);
    int64_t nb = s->batch, ci = s->c_in, co = s->c_out;
    fftwf_complex *gwf = calloc_complex(g.freqs * co * ci);
    // ĜW_f [Co × Ci] = ĜY_fᴴ [Co × N] · X̂_f [N × Ci].
    cgemm_job cj = {2, 0, co, ci, nb, co, ci, ci, nb * co, nb * ci, co * ci, 1.0f / (float)g.real, gyf, xf, gwf};
    per_frequency_gemm(&cj, g.freqs);
    float *full = falloc(co * ci * g.dist);
    transforms(&g, 0, co * ci, full, gwf);
    for (int64_t t = 0; t < co * ci; t++)
        for (int64_t a = 0; a < s->k_h; a++)
            memcpy(gw + (t * s->k_h + a) * s->k_w, full + t * g.dist + a * g.nw, sizeof(float) * (size_t)s->k_w);
    ws_free(full);
    ws_free(gwf);
    if (own_gy) ws_free(gyf);
    if (own_x) ws_free(xf);
}

// ---------------------------------------------------------------- algorithm choice

// Cost model (seconds): constants fitted by `diffuse bench conv --calibrate` on the development
// machine and committed here, so the same shape always gets the same algorithm.
#include "conv_cost_model.h"

// [model][algorithm][term]: model 0 predicts a forward pass, model 1 a training step's
// forward + input gradient + weight gradient.
static double cost_constants[2][2][PD_CONV_COST_TERMS] = {{PD_COST_DIRECT, PD_COST_FFT}, {PD_COST_DIRECT_TRAINING, PD_COST_FFT_TRAINING}};

void pd_conv_set_cost_model(int training, const double *direct, const double *fft) {
    for (int i = 0; i < PD_CONV_COST_TERMS; i++) {
        cost_constants[training ? 1 : 0][0][i] = direct[i];
        cost_constants[training ? 1 : 0][1][i] = fft[i];
    }
}

int pd_conv_cost_features(const pd_conv_shape *s, int algo, double *f) {
    int64_t oh, ow;
    int err = pd_conv_validate(s, &oh, &ow);
    if (err) return err;
    double n = (double)s->batch;
    if (algo == PD_CONV_FFT) {
        fft_geometry g = geometry(s);
        double real = (double)g.real;
        f[0] = (n * s->c_in + n * s->c_out + (double)s->c_in * s->c_out) * real * log2(real > 2 ? real : 2); // transforms
        f[1] = 8.0 * g.freqs * n * s->c_in * s->c_out;                                                      // complex GEMM flops
        f[2] = (n * s->c_in + n * s->c_out) * real;                                                          // copies
        f[3] = (double)g.freqs;                                                                              // GEMM calls
    } else {
        // Blocked kernels (strided ones too): forward (and input gradient) tile flops, with the
        // tile's rounding of channels and pixels; copies in and out; tiles; the weight gradient's
        // tile flops (training), with its rounding of input and output channels. A strided input
        // gradient (one tiled pass per phase) is costed as if it were one pass.
        double taps = (double)s->k_h * s->k_w;
        double blocks = ceil((double)s->c_out / PD_TILE_CHANNELS), row_tiles = ceil((double)ow / PD_TILE_PIXELS);
        double grid = (double)(s->in_h + s->pad_top + s->pad_bottom) * (s->in_w + s->pad_left + s->pad_right);
        f[0] = 2 * n * blocks * PD_TILE_CHANNELS * s->c_in * taps * oh * row_tiles * PD_TILE_PIXELS;
        f[1] = n * (s->c_in * grid + s->c_out * (double)oh * ow);
        f[2] = n * blocks * oh * row_tiles;
        f[3] = 2 * n * blocks * PD_TILE_CHANNELS * ceil((double)s->c_in / PD_TILE_INPUTS) * PD_TILE_INPUTS * taps * oh * ow;
    }
    return 0;
}

double pd_conv_cost(const pd_conv_shape *s, int algo, int training) {
    double f[PD_CONV_COST_TERMS];
    if (pd_conv_cost_features(s, algo, f) != 0) return INFINITY;
    const double *c = cost_constants[training ? 1 : 0][algo == PD_CONV_FFT ? 1 : 0];
    double t = 0;
    for (int i = 0; i < PD_CONV_COST_TERMS; i++) t += c[i] * f[i];
    return t;
}

typedef struct { char key[160]; int pass, algo; } tuning_entry;
static pthread_mutex_t tuning_lock = PTHREAD_MUTEX_INITIALIZER;
static tuning_entry *tuning = NULL;
static int tuning_count = -1; // −1: the PD_CONV_TUNING file has not been looked at yet

int pd_conv_load_tuning(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    tuning_entry e;
    char algo[32];
    int n = 0;
    pthread_mutex_lock(&tuning_lock);
    if (tuning_count < 0) tuning_count = 0;
    while (fscanf(f, "%159s %d %31s", e.key, &e.pass, algo) == 3) {
        e.algo = strcmp(algo, "fft") == 0 ? PD_CONV_FFT : strcmp(algo, "direct") == 0 ? PD_CONV_DIRECT : -1;
        if (e.algo < 0) continue;
        tuning = realloc(tuning, sizeof(tuning_entry) * (size_t)(tuning_count + 1));
        tuning[tuning_count++] = e;
        n++;
    }
    pthread_mutex_unlock(&tuning_lock);
    fclose(f);
    return n;
}

static int tuned_choice(const pd_conv_shape *s, int pass) {
    pthread_mutex_lock(&tuning_lock);
    int unread = tuning_count < 0;
    if (unread) tuning_count = 0;
    pthread_mutex_unlock(&tuning_lock);
    if (unread) {
        const char *path = getenv("PD_CONV_TUNING");
        if (path && *path) pd_conv_load_tuning(path);
    }
    char key[160];
    pd_conv_shape_key(s, key, sizeof key);
    int algo = 0;
    pthread_mutex_lock(&tuning_lock);
    for (int i = tuning_count - 1; i >= 0; i--)
        if (tuning[i].pass == pass && strcmp(tuning[i].key, key) == 0) { algo = tuning[i].algo; break; }
    pthread_mutex_unlock(&tuning_lock);
    return algo;
}

int pd_conv_choose(const pd_conv_shape *s, int pass) {
    int64_t oh, ow;
    if (pd_conv_validate(s, &oh, &ow) != 0) return PD_CONV_DIRECT;
    const char *forced = getenv("PD_CONV_ALGO");
    if (forced && strcmp(forced, "fft") == 0) return PD_CONV_FFT;
    if (forced && strcmp(forced, "direct") == 0) return PD_CONV_DIRECT;
    if (forced && strcmp(forced, "winograd") == 0) return pd_winograd_ok(s) ? PD_CONV_WINOGRAD : PD_CONV_DIRECT;
    int tuned = tuned_choice(s, pass);
    if (tuned) return tuned;
    int training = pass == PD_CONV_PASS_TRAINING;
    if (pd_conv_cost(s, PD_CONV_FFT, training) < pd_conv_cost(s, PD_CONV_DIRECT, training)) return PD_CONV_FFT;
    // Inference (a sampler's forward passes) runs Winograd where it applies and both channel counts fill its
    // 16-channel transform vectors; its transformed weights are cached across calls (conv_winograd.c).
    // Training steps stay direct: their weights change every step, so each call would pay G g Gᵀ again
    // (U-Net training steps measured 0.62× with Winograd; docs/convolution.md).
    if (pass == PD_CONV_PASS_FORWARD && pd_winograd_ok(s) && s->c_in >= 16 && s->c_out >= 16) return PD_CONV_WINOGRAD;
    return PD_CONV_DIRECT;
}

// ---------------------------------------------------------------- entry points

static int resolve(const pd_conv_shape *s, int algo, int pass, int64_t *oh, int64_t *ow) {
    int err = pd_conv_validate(s, oh, ow);
    if (err) return -err;
    if (algo == PD_CONV_AUTO) algo = pd_conv_choose(s, pass);
    if (algo < PD_CONV_DIRECT || algo > PD_CONV_WINOGRAD) return -7;
    if (algo == PD_CONV_WINOGRAD && !pd_winograd_ok(s)) algo = PD_CONV_DIRECT; // stride-1 3×3 or 1×3, 1×5 kernels only
    return algo;
}

int pd_conv_forward(const pd_conv_shape *s, int algo, const float *x, const float *w, const float *b, float *y,
                    pd_conv_saved *saved) {
    int64_t oh, ow;
    int a = resolve(s, algo, PD_CONV_PASS_FORWARD, &oh, &ow);
    if (a < 0) return -a;
    if (a == PD_CONV_NAIVE) naive_forward(s, oh, ow, x, w, b, y);
    else if (a == PD_CONV_FFT) fft_forward(s, oh, ow, x, w, b, y, saved);
    else if (a == PD_CONV_WINOGRAD) pd_winograd_forward(s, x, w, b, y);
    else blocked_forward(s, x, w, b, y);
    return 0;
}

int pd_conv_backward_input(const pd_conv_shape *s, int algo, const float *gy, const float *w, float *gx, pd_conv_saved *saved) {
    int64_t oh, ow;
    int a = resolve(s, algo, PD_CONV_PASS_BACKWARD_INPUT, &oh, &ow);
    if (a < 0) return -a;
    if (a == PD_CONV_NAIVE) naive_backward(s, oh, ow, NULL, w, gy, gx, NULL, NULL);
    else if (a == PD_CONV_FFT) fft_backward_input(s, oh, ow, gy, w, gx, saved);
    else if (a == PD_CONV_WINOGRAD) pd_winograd_backward_input(s, oh, ow, gy, w, gx);
    else if (blocked_ok(s)) blocked_backward_input(s, oh, ow, gy, w, gx);
    else blocked_strided_backward_input(s, oh, ow, gy, w, gx);
    return 0;
}

int pd_conv_backward_weight(const pd_conv_shape *s, int algo, const float *x, const float *gy, float *gw, float *gb,
                            pd_conv_saved *saved) {
    int64_t oh, ow;
    int a = resolve(s, algo, PD_CONV_PASS_BACKWARD_WEIGHT, &oh, &ow);
    if (a < 0) return -a;
    if (a == PD_CONV_NAIVE) { naive_backward(s, oh, ow, x, NULL, gy, NULL, gw, gb); return 0; }
    if (a == PD_CONV_FFT) fft_backward_weight(s, oh, ow, x, gy, gw, saved);
    else blocked_backward_weight(s, oh, ow, x, gy, gw);
    if (gb) bias_grad(s, oh * ow, gy, gb);
    return 0;
}
