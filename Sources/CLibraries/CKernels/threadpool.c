// A tiny thread pool that yields its cores: workers spin for a while (by the clock) on a generation counter
// (a region costs ~1 µs to start while they spin) and then park on a condition variable. The spin is long
// (250 µs) while the process has its cores and short (25 µs) while another process competes for them, seen
// as involuntary context switches of our threads (a spinning worker would hold the core share the other
// process gives up; docs/benchmarks.md, "Beside a busy process"). A region ends
// when its chunks are done, never when every worker has checked in: a worker that is asleep or whose core
// runs another process simply finds nothing left to claim, so the caller never waits for it (issue #30:
// 2 threads had been up to 2.7× slower than 1 beside a busy process). One region runs at a time; nested or
// concurrent regions run their chunks serially, in the same partition, so results stay identical.
#include "ckernels.h"
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define PD_MAX_THREADS 256
// How long a worker spins for the next region before it parks (PD_POOL_SPIN_US fixes it, without the
// contention rule below, for measuring), and how many pauses the caller spins between yields while a
// claimed chunk finishes elsewhere. bench/contention.py measures them beside a busy process, `make bench-ab` on a quiet one.
#define PD_SPIN_NANOSECONDS 250000 // the old 20,000 pauses took 260 µs on our development VM
#define PD_WAIT_SPINS_PER_YIELD 256
// Contention: the caller counts the process's involuntary context switches over windows of
// PD_CONTENTION_WINDOW; PD_CONTENTION_SWITCHES or more in one window make the workers spin only
// PD_SPIN_CONTENDED_NANOSECONDS for the next PD_CONTENTION_HOLD. Measured on the 2-vCPU VM with 2 threads
// (docs/benchmarks.md, bench/switches.sh): 50–66 switches/s alone, 990–1,390/s beside one busy process, so
// 12 per 100 ms (120/s) separates them; a window of 20 ms and 2 switches had fired alone too.
#define PD_SPIN_CONTENDED_NANOSECONDS 25000
#define PD_CONTENTION_WINDOW 100000000ull // 100 ms
#define PD_CONTENTION_SWITCHES 12
#define PD_CONTENTION_HOLD 500000000ull // 500 ms

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
static uint64_t spin_nanoseconds = PD_SPIN_NANOSECONDS; // set before the first worker starts
static int adaptive_spin = 1;                              // 0 when PD_POOL_SPIN_US fixes the spin
static _Atomic uint64_t short_spin_until = 0;              // CLOCK_MONOTONIC ns; workers spin briefly before it
static uint64_t window_start = 0;                          // the caller's contention window (under pool_lock)
static long window_switches = 0;
// Chunks are claimed, not assigned: a thread whose core is busy elsewhere (a shared VM's vCPU)
// leaves its chunk to the others. Chunk boundaries depend only on the thread count, so results do
// not depend on which thread runs which chunk. The claim word holds the region's sequence number
// (low 32 bits of the generation's), its chunk count and the next unclaimed chunk, so a worker that wakes
// after its region ended fails its claim instead of taking a chunk of the next region.
#define CLAIM_SEQ_SHIFT 32
#define CLAIM_CHUNKS_SHIFT 16
#define CLAIM_FIELD_MASK 0xffffull
static _Atomic uint64_t claim = 0;
static _Atomic int64_t pending = 0; // chunks of the current region not yet finished

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

static inline uint32_t region_sequence(uint64_t gen) { return (uint32_t)(gen >> GEN_ACTIVE_BITS); }

static inline uint64_t now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

// Runs chunks of region `seq` until none is left to claim. job is read only after a successful claim:
// the region cannot end (and job cannot be rewritten) before that chunk's pending count is released.
static void run_claimed_chunks(uint32_t seq) {
    uint64_t c = atomic_load_explicit(&claim, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(c >> CLAIM_SEQ_SHIFT) != seq) return;
        uint64_t chunks = (c >> CLAIM_CHUNKS_SHIFT) & CLAIM_FIELD_MASK, i = c & CLAIM_FIELD_MASK;
        if (i >= chunks) return;
        if (!atomic_compare_exchange_weak_explicit(&claim, &c, c + 1, memory_order_acq_rel, memory_order_acquire)) continue;
        int64_t b, e;
        chunk_bounds(job.n, job.chunks, (int64_t)i, &b, &e);
        int outer = scoped_threads;
        scoped_threads = job.threads; // nested regions inside the chunk partition with the caller's count
        if (e > b) job.fn(job.ctx, b, e);
        scoped_threads = outer;
        atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel);
        c = atomic_load_explicit(&claim, memory_order_acquire);
    }
}

// How long a worker spins at time t before it parks.
static inline uint64_t spin_budget(uint64_t t) {
    if (adaptive_spin && spin_nanoseconds > PD_SPIN_CONTENDED_NANOSECONDS &&
        t < atomic_load_explicit(&short_spin_until, memory_order_relaxed))
        return PD_SPIN_CONTENDED_NANOSECONDS;
    return spin_nanoseconds;
}

// After a region (the caller, under pool_lock): once per window, the process's involuntary context
// switches since the window began; enough of them mean another process wants our cores.
static void watch_contention(void) {
    if (!adaptive_spin) return;
    uint64_t t = now_nanoseconds();
    if (window_start != 0 && t - window_start < PD_CONTENTION_WINDOW) return;
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) return;
    if (window_start != 0 && u.ru_nivcsw - window_switches >= PD_CONTENTION_SWITCHES)
        atomic_store_explicit(&short_spin_until, t + PD_CONTENTION_HOLD, memory_order_relaxed);
    window_start = t;
    window_switches = u.ru_nivcsw;
}

int pd_pool_spin_is_short(void) { return spin_budget(now_nanoseconds()) < spin_nanoseconds; }

static void *worker_main(void *arg) {
    int64_t id = (int64_t)(intptr_t)arg; // 1-based: the caller is thread 0
    in_region = 1;
    uint64_t seen = start_generation[id];
    for (;;) {
        uint64_t gen, spin_start = 0, budget = 0;
        unsigned spins = 0;
        while ((gen = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            cpu_relax();
            if (++spins % 64) continue; // the clock is read every 64 pauses
            uint64_t t = now_nanoseconds();
            if (spin_start == 0) { spin_start = t; budget = spin_budget(t); continue; }
            if (t - spin_start < budget) continue;
            pthread_mutex_lock(&sleep_lock);
            while (atomic_load_explicit(&generation, memory_order_acquire) == seen)
                pthread_cond_wait(&sleep_cond, &sleep_lock);
            pthread_mutex_unlock(&sleep_lock);
        }
        seen = gen;
        if (id > (int64_t)(gen & GEN_ACTIVE_MASK)) continue; // left out: touch nothing of the job
        run_claimed_chunks(region_sequence(gen));
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
    if (started_workers == 0) { // read once, before any worker spins
        const char *spin = getenv("PD_POOL_SPIN_US");
        char *end = NULL;
        double us = spin ? strtod(spin, &end) : -1;
        if (spin && end != spin && *end == 0 && us >= 0 && us <= 1e6) { // else: the default, adapted to contention
            spin_nanoseconds = (uint64_t)(us * 1000);
            adaptive_spin = 0;
        }
    }
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
    // One writer at a time (pool_lock): the next sequence number with this region's worker count. pending
    // is set before the claim word publishes the region (release), so every claimed chunk finds it.
    uint64_t previous = atomic_load_explicit(&generation, memory_order_relaxed);
    uint64_t gen = (((previous >> GEN_ACTIVE_BITS) + 1) << GEN_ACTIVE_BITS) | (uint64_t)active;
    uint32_t seq = region_sequence(gen);
    atomic_store_explicit(&pending, chunks, memory_order_relaxed);
    atomic_store_explicit(&claim, ((uint64_t)seq << CLAIM_SEQ_SHIFT) | ((uint64_t)chunks << CLAIM_CHUNKS_SHIFT), memory_order_release);
    atomic_store_explicit(&generation, gen, memory_order_release);
    pthread_mutex_lock(&sleep_lock);
    pthread_cond_broadcast(&sleep_cond);
    pthread_mutex_unlock(&sleep_lock);
    run_claimed_chunks(seq);
    // Only chunks another thread has claimed are still running: spin, yielding now and then so a
    // worker that shares this core with another process gets it back sooner.
    for (unsigned spins = 1; atomic_load_explicit(&pending, memory_order_acquire) > 0; spins++) {
        if (spins % PD_WAIT_SPINS_PER_YIELD) cpu_relax(); else sched_yield();
    }
    watch_contention();
    in_region = 0;
    pthread_mutex_unlock(&pool_lock);
}
