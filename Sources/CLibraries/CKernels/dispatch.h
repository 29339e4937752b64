// Private to CKernels: runtime CPU dispatch for hot loops. target_clones compiles AVX-512,
// AVX2+FMA and baseline x86-64 versions of a function and picks one at load time, so binaries run
// on any x86-64 without -march.
#ifndef PD_DISPATCH_H
#define PD_DISPATCH_H
#ifndef __has_feature
#define __has_feature(x) 0
#endif
// Sanitizer builds (make test-tsan / test-asan) compile the baseline version only: target_clones'
// ifunc resolvers run while the dynamic loader relocates the binary, before the sanitizer runtime is
// initialised, and an instrumented resolver crashes there (SIGSEGV in __tsan_func_entry).
#if defined(__x86_64__) && defined(__clang__) && !__has_feature(thread_sanitizer) && !__has_feature(address_sanitizer)
#define PD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PD_CLONES
#endif
#endif
