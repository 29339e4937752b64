// OpenBLAS kernel selection on CPUs it does not recognise.
//
// Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPUID family/model. Hypervisors
// that mask the model (e.g. "Intel(R) Xeon(R) Processor") make it fall back to Prescott, its SSE3
// kernels: sgemm runs 4-5x slower on an AVX-512 machine (docs/architecture.md, Performance notes).
// When that happens and the user has not chosen a core (OPENBLAS_CORETYPE), we choose one by the
// CPU's features instead and ask OpenBLAS to redo its dynamic initialisation — the same path its
// own start-up takes with OPENBLAS_CORETYPE set. PD_BLAS_CORE=keep disables this.
#include "ckernels.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

// Exported by DYNAMIC_ARCH builds of OpenBLAS; weak so that other builds still link (and are left alone).
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

static const char *fallback_cores[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", NULL};

static int is_fallback(const char *name) {
    for (int i = 0; fallback_cores[i]; i++)
        if (strcmp(name, fallback_cores[i]) == 0) return 1;
    return 0;
}

// The core OpenBLAS should use given the CPU's features, or NULL to keep its choice.
static const char *core_for_features(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
    return NULL;
}

static char original_core[32] = "";
static char chosen_core[32] = "";

// Runs once when the library is loaded, after OpenBLAS's own start-up (a dependency's constructors run first).
__attribute__((constructor)) static void pd_select_blas_core(void) {
    const char *name = openblas_get_corename();
    strncpy(original_core, name ? name : "", sizeof original_core - 1);
    strncpy(chosen_core, original_core, sizeof chosen_core - 1);
    const char *keep = getenv("PD_BLAS_CORE");
    if (keep && strcmp(keep, "keep") == 0) return;
    if (getenv("OPENBLAS_CORETYPE") || !gotoblas_dynamic_init || !gotoblas_dynamic_quit || !name || !is_fallback(name)) return;
    const char *core = core_for_features();
    if (!core) return;
    setenv("OPENBLAS_CORETYPE", core, 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");  // child processes make their own choice
    name = openblas_get_corename();
    strncpy(chosen_core, name ? name : "", sizeof chosen_core - 1);
}

const char *pd_blas_core(void) { return chosen_core; }
const char *pd_blas_detected_core(void) { return original_core; }
