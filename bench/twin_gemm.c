// Would twin critics gain from one grouped GEMM? (issue L, docs/bench-methods.md)
//
// Times, per pair of equal GEMMs (the two critics' layers at batch 256):
//   split   – each GEMM split by rows over 2 threads, one after the other (what pd_sgemm does now);
//   grouped – the two GEMMs at once, each whole on its own thread (a batched/grouped GEMM);
//   serial  – both on one thread (the 1-thread reference).
// OpenBLAS single-threaded inside, as our pool runs it. Best of 5 rounds of 2000 pairs.
// Result on the development VM: grouped 1.2× faster for the hidden layer in isolation, yet whole
// TD3+BC/IQL updates did not gain (commit afd9423, reverted; docs/bench-methods.md).
// Run: make bench-twin-gemm   (cc -O2 bench/twin_gemm.c -lopenblas -lpthread)
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct { int m, n, k; const float *a, *b; float *c; } job;
static job jobs[2];
static atomic_int generation, finished;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// C = A·B, row-major, A [m×k], B [k×n].
static void run(const job *j) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, j->k, 1, j->a, j->k, j->b, j->n, 0, j->c, j->n);
}

static void *worker(void *unused) {
    (void)unused;
    int seen = 0;
    for (;;) {
        while (atomic_load(&generation) == seen) {}
        seen = atomic_load(&generation);
        run(&jobs[1]);
        atomic_fetch_add(&finished, 1);
    }
    return NULL;
}

// jobs[0] on this thread, jobs[1] on the worker, then wait (a spinning pool, like ours).
static void both(void) {
    atomic_store(&finished, 0);
    atomic_fetch_add(&generation, 1);
    run(&jobs[0]);
    while (atomic_load(&finished) < 1) {}
}

static void shape(int m, int n, int k) {
    float *a = malloc(sizeof(float) * 2 * m * k), *b = malloc(sizeof(float) * 2 * k * n), *c = malloc(sizeof(float) * 2 * m * n);
    for (int i = 0; i < 2 * m * k; i++) a[i] = (float)((double)rand() / RAND_MAX);
    for (int i = 0; i < 2 * k * n; i++) b[i] = (float)((double)rand() / RAND_MAX);
    const int pairs = 2000;
    double best[3] = {1e9, 1e9, 1e9};
    for (int round = 0; round < 5; round++) {
        double t[4];
        t[0] = now();
        for (int r = 0; r < pairs; r++)
            for (int g = 0; g < 2; g++) {
                int h = m / 2;
                jobs[0] = (job){h, n, k, a + g * m * k, b + g * k * n, c + g * m * n};
                jobs[1] = (job){m - h, n, k, a + g * m * k + h * k, b + g * k * n, c + g * m * n + h * n};
                both();
            }
        t[1] = now();
        for (int r = 0; r < pairs; r++) {
            jobs[0] = (job){m, n, k, a, b, c};
            jobs[1] = (job){m, n, k, a + m * k, b + k * n, c + m * n};
            both();
        }
        t[2] = now();
        for (int r = 0; r < pairs; r++)
            for (int g = 0; g < 2; g++) run(&(job){m, n, k, a + g * m * k, b + g * k * n, c + g * m * n});
        t[3] = now();
        for (int i = 0; i < 3; i++)
            if (t[i + 1] - t[i] < best[i]) best[i] = t[i + 1] - t[i];
    }
    printf("| %d×%d×%d | %.1f | %.1f | %.1f | %.2f× |\n", m, n, k, best[0] / pairs * 1e6, best[1] / pairs * 1e6,
           best[2] / pairs * 1e6, best[0] / best[1]);
    free(a), free(b), free(c);
}

int main(int argc, char **argv) {
    (void)argc;
    // OpenBLAS picks its kernels when it loads; on a CPU whose model the hypervisor masks it falls
    // back to SSE3 ones (Sources/CLibraries/CKernels/blas_core.c). Choose by features and restart once.
    if (!getenv("OPENBLAS_CORETYPE")) {
        setenv("OPENBLAS_CORETYPE", __builtin_cpu_supports("avx512f") ? "SKYLAKEX" : __builtin_cpu_supports("avx2") ? "HASWELL" : "NEHALEM", 1);
        execv("/proc/self/exe", argv);
    }
    printf("OpenBLAS core %s\n", openblas_get_corename());
    openblas_set_num_threads(1);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    printf("| GEMM m×n×k (per critic) | split µs/pair | grouped µs/pair | 1 thread µs/pair | split ÷ grouped |\n|---|---|---|---|---|\n");
    shape(256, 256, 256); // hidden layer, forward and input gradient
    shape(256, 256, 23);  // first layer (HalfCheetah: 17 + 6 inputs)
    shape(256, 1, 256);   // output layer
    return 0;
}
