// A tiny spinning thread pool: workers spin briefly on a generation counter (a region costs ~1 µs
// to start) and then sleep on a condition variable. One region runs at a time; nested or concurrent
// regions run their chunks serially, in the same partition, so results stay identical.
#include "ckernels.h"
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define PD_MAX_THREADS 256
#define PD_SPIN_ITERATIONS 20000

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   // one region at a time
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER; // thread-count changes
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;

static _Atomic int configured_threads = 0; // 0: not yet configured (defaults to the CPU count)
static int started_workers = 0;
// A region's announcement: its sequence number (high bits) and how many workers take part (low
// GEN_ACTIVE_BITS bits), published together so that a worker waking late decides from the region it saw,
// never from job.active, which the next region may already have overwritten (a left-out worker once
// joined the next region twice and let it return before its chunks finished: issue #32).
#define GEN_ACTIVE_BITS 16
#define GEN_ACTIVE_MASK ((1ull << GEN_ACTIVE_BITS) - 1)
static _Atomic uint64_t generation = 0;
static _Atomic int remaining = 0;
// Chunks are claimed, not assigned: a thread whose core is busy elsewhere (a shared VM's vCPU)
// leaves its chunk to the others. Chunk boundaries depend only on the thread count, so results do
// not depend on which thread runs which chunk.
static _Atomic int64_t next_chunk = 0;

static struct {
    pd_task_fn fn;
    void *ctx;
    int64_t n;
    int64_t chunks;
    int threads; // the caller's thread count: nested regions inside a chunk partition with it
} job;

static _Thread_local int in_region = 0;
// A count set for the calling thread only (pd_set_scoped_threads), so one test's thread count never
// changes the partition of work another thread runs concurrently; 0 = the process-wide count.
static _Thread_local int scoped_threads = 0;
// Generation current when worker i was created (it must not mistake an earlier job for a new one
// nor miss the first job that starts before it runs).
static uint64_t start_generation[PD_MAX_THREADS];

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static inline void chunk_bounds(int64_t n, int64_t chunks, int64_t i, int64_t *b, int64_t *e) {
    *b = n * i / chunks;
    *e = n * (i + 1) / chunks;
}

static void run_claimed_chunks(void) {
    int64_t c;
    while ((c = atomic_fetch_add_explicit(&next_chunk, 1, memory_order_acq_rel)) < job.chunks) {
        int64_t b, e;
        chunk_bounds(job.n, job.chunks, c, &b, &e);
        if (e > b) job.fn(job.ctx, b, e);
    }
}

static void *worker_main(void *arg) {
    int64_t id = (int64_t)(intptr_t)arg; // 1-based: the caller is thread 0
    in_region = 1;
    uint64_t seen = start_generation[id];
    for (;;) {
        uint64_t gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < PD_SPIN_ITERATIONS) { cpu_relax(); continue; }
            pthread_mutex_lock(&sleep_lock);
            while (atomic_load_explicit(&generation, memory_order_acquire) == seen)
                pthread_cond_wait(&sleep_cond, &sleep_lock);
            pthread_mutex_unlock(&sleep_lock);
        }
        seen = gen;
        if (id > (int64_t)(gen & GEN_ACTIVE_MASK)) continue; // left out: touch nothing of the job
        scoped_threads = job.threads;
        run_claimed_chunks();
        scoped_threads = 0;
        atomic_fetch_sub_explicit(&remaining, 1, memory_order_acq_rel);
    }
    return NULL;
}

int pd_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

void pd_set_num_threads(int n) {
    if (n < 1) n = 1;
    if (n > PD_MAX_THREADS) n = PD_MAX_THREADS;
    pthread_mutex_lock(&config_lock);
    pthread_mutex_lock(&pool_lock); // never change the count while a region runs
    openblas_set_num_threads(1);    // BLAS runs inside our chunks
    while (started_workers < n - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        start_generation[started_workers + 1] = atomic_load(&generation);
        if (pthread_create(&t, &attr, worker_main, (void *)(intptr_t)(started_workers + 1)) != 0) {
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
        started_workers++;
    }
    atomic_store(&configured_threads, started_workers + 1 < n ? started_workers + 1 : n);
    pthread_mutex_unlock(&pool_lock);
    pthread_mutex_unlock(&config_lock);
}

void pd_set_scoped_threads(int n) {
    if (n > 0 && atomic_load(&configured_threads) < n) {
        // Start workers if needed without changing the process-wide count.
        int before = pd_get_num_threads();
        pd_set_num_threads(n);
        pd_set_num_threads(before);
    }
    scoped_threads = n > PD_MAX_THREADS ? PD_MAX_THREADS : (n < 0 ? 0 : n);
}

int pd_get_scoped_threads(void) { return scoped_threads; }

int pd_get_num_threads(void) {
    if (scoped_threads > 0) return scoped_threads;
    int n = atomic_load(&configured_threads);
    if (n == 0) {
        // PD_NUM_THREADS (the CLI's --threads sets it too) or, by default, every core.
        const char *env = getenv("PD_NUM_THREADS");
        int wanted = env ? atoi(env) : 0;
        pd_set_num_threads(wanted > 0 ? wanted : pd_cpu_count());
        n = atomic_load(&configured_threads);
    }
    return n;
}

static void run_serial(int64_t n, int64_t chunks, pd_task_fn fn, void *ctx) {
    for (int64_t i = 0; i < chunks; i++) {
        int64_t b, e;
        chunk_bounds(n, chunks, i, &b, &e);
        if (e > b) fn(ctx, b, e);
    }
}

void pd_parallel_for(int64_t n, int64_t grain, pd_task_fn fn, void *ctx) {
    if (n <= 0) return;
    int threads = pd_get_num_threads();
    if (grain < 1) grain = 1;
    int64_t chunks = (n + grain - 1) / grain;
    if (chunks > threads) chunks = threads;
    if (chunks <= 1) { fn(ctx, 0, n); return; }
    if (in_region || pthread_mutex_trylock(&pool_lock) != 0) {
        run_serial(n, chunks, fn, ctx);
        return;
    }
    in_region = 1;
    int active = (threads < started_workers + 1 ? threads : started_workers + 1) - 1;
    job.fn = fn;
    job.ctx = ctx;
    job.n = n;
    job.chunks = chunks;
    job.threads = threads;
    atomic_store_explicit(&next_chunk, 0, memory_order_relaxed);
    atomic_store_explicit(&remaining, active, memory_order_release);
    // One writer at a time (pool_lock): the next sequence number with this region's worker count.
    uint64_t previous = atomic_load_explicit(&generation, memory_order_relaxed);
    atomic_store_explicit(&generation, (((previous >> GEN_ACTIVE_BITS) + 1) << GEN_ACTIVE_BITS) | (uint64_t)active, memory_order_release);
    pthread_mutex_lock(&sleep_lock);
    pthread_cond_broadcast(&sleep_cond);
    pthread_mutex_unlock(&sleep_lock);
    run_claimed_chunks();
    while (atomic_load_explicit(&remaining, memory_order_acquire) > 0) cpu_relax();
    in_region = 0;
    pthread_mutex_unlock(&pool_lock);
}
