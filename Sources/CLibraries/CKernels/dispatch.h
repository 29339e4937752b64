// Private to CKernels: runtime CPU dispatch for hot loops. target_clones compiles AVX-512,
// AVX2+FMA and baseline x86-64 versions of a function and picks one at load time, so binaries run
// on any x86-64 without -march.
#ifndef PD_DISPATCH_H
#define PD_DISPATCH_H
#if defined(__x86_64__) && defined(__clang__)
#define PD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PD_CLONES
#endif
#endif
