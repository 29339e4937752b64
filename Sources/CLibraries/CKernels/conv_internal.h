// Shared by conv.c and conv_winograd.c; not part of the API (ckernels.h).
#ifndef PD_CONV_INTERNAL
#define PD_CONV_INTERNAL
#include "ckernels.h"

// The direct path's register tile: PD_TILE_PIXELS outputs × PD_TILE_CHANNELS output channels.
#define PD_TILE_CHANNELS 32
#define PD_TILE_PIXELS 8

// out[t][l] = Σ_(ci,a,c) x[ci·chan + a·row + c + off[t]]·w[((ci·k_h + a)·k_w + c)·PD_TILE_CHANNELS + l].
typedef void (*pd_blocked_tile_fn)(const float *x, const int64_t *off, int64_t c_in, int64_t chan, int64_t row, int64_t k_h,
                                   int64_t k_w, const float *w, float out[PD_TILE_PIXELS][PD_TILE_CHANNELS]);
// The tile kernel for this CPU (AVX-512, AVX2+FMA or portable; the same bits).
pd_blocked_tile_fn pd_conv_tile_kernel(void);
// 2: AVX-512 copies run, 1: AVX2+FMA copies, 0: portable C (also when tests ask for it).
int pd_conv_isa(void);
// Recycled, 64-byte aligned scratch (conv.c's workspace).
float *pd_conv_scratch(int64_t floats);
void pd_conv_scratch_free(void *p);

// Winograd F(m, r) for stride-1 correlations with 3×3 kernels (F(4×4, 3×3)) and 1-row kernels of width 3
// or 5 (F(4, 3), F(4, 5)); conv_winograd.c, docs/convolution.md, "Winograd".
int pd_winograd_ok(const pd_conv_shape *s);
void pd_winograd_forward(const pd_conv_shape *s, const float *x, const float *w, const float *b, float *y);
void pd_winograd_backward_input(const pd_conv_shape *s, int64_t oh, int64_t ow, const float *gy, const float *w, float *gx);
#endif
