// Open MPI through dlopen: the build needs no MPI headers or library, and `diffuse` runs without
// them. Handles follow Open MPI's ABI (MPI_Comm, MPI_Datatype, MPI_Op are pointers to the
// predefined globals ompi_mpi_comm_world, ompi_mpi_float, ...), which Debian's OpenMPI 4.1 provides.
#define _GNU_SOURCE
#include "cmpi.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *handle;
static void *lib = NULL;
static handle comm_world, type_float, type_double, type_byte, type_int64, op_sum;
static int (*mpi_init)(int *, char ***);
static int (*mpi_initialized)(int *);
static int (*mpi_finalize)(void);
static int (*mpi_comm_rank)(handle, int *);
static int (*mpi_comm_size)(handle, int *);
static int (*mpi_allreduce)(const void *, void *, int, handle, handle, handle);
static int (*mpi_bcast)(void *, int, handle, int, handle);
static int (*mpi_allgather)(const void *, int, handle, void *, int, handle, handle);
static int (*mpi_gatherv)(const void *, int, handle, void *, const int *, const int *, handle, int, handle);
static int (*mpi_barrier)(handle);
static double (*mpi_wtime)(void);
// MPI_IN_PLACE is ((void *) 1) in Open MPI.
#define PD_MPI_IN_PLACE ((void *)1)

#define RESOLVE(var, name)                                                          \
    do {                                                                            \
        *(void **)(&var) = dlsym(lib, name);                                        \
        if (!var) {                                                                 \
            snprintf(err, cap, "%s lacks %s (only Open MPI is supported)", path, name); \
            return -1;                                                              \
        }                                                                           \
    } while (0)

int pd_mpi_load(char *err, size_t cap) {
    if (lib) return 0;
    const char *path = getenv("PD_MPI_LIBRARY");
    if (!path || !*path) path = "libmpi.so.40";
    // RTLD_GLOBAL: Open MPI's components (dlopened by libmpi itself) resolve libmpi's symbols.
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        snprintf(err, cap, "cannot load %s (install openmpi-bin, which brings libmpi.so.40, or set PD_MPI_LIBRARY): %s", path, dlerror());
        return -1;
    }
    lib = h;
    RESOLVE(comm_world, "ompi_mpi_comm_world");
    RESOLVE(type_float, "ompi_mpi_float");
    RESOLVE(type_double, "ompi_mpi_double");
    RESOLVE(type_byte, "ompi_mpi_byte");
    RESOLVE(type_int64, "ompi_mpi_int64_t");
    RESOLVE(op_sum, "ompi_mpi_op_sum");
    RESOLVE(mpi_init, "MPI_Init");
    RESOLVE(mpi_initialized, "MPI_Initialized");
    RESOLVE(mpi_finalize, "MPI_Finalize");
    RESOLVE(mpi_comm_rank, "MPI_Comm_rank");
    RESOLVE(mpi_comm_size, "MPI_Comm_size");
    RESOLVE(mpi_allreduce, "MPI_Allreduce");
    RESOLVE(mpi_bcast, "MPI_Bcast");
    RESOLVE(mpi_allgather, "MPI_Allgather");
    RESOLVE(mpi_gatherv, "MPI_Gatherv");
    RESOLVE(mpi_barrier, "MPI_Barrier");
    RESOLVE(mpi_wtime, "MPI_Wtime");
    return 0;
}

int pd_mpi_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMIX_RANK") != NULL;
}

int pd_mpi_init(int *rank, int *size) {
    if (!lib) return -1;
    int done = 0;
    mpi_initialized(&done);
    if (!done && mpi_init(NULL, NULL) != 0) return -1;
    if (mpi_comm_rank(comm_world, rank) != 0 || mpi_comm_size(comm_world, size) != 0) return -1;
    return 0;
}

int pd_mpi_finalize(void) { return lib ? mpi_finalize() : -1; }

static int allreduce(void *buffer, int64_t count, handle type, size_t element) {
    for (int64_t done = 0; done < count;) {
        int n = count - done > INT_MAX ? INT_MAX : (int)(count - done);
        if (mpi_allreduce(PD_MPI_IN_PLACE, (char *)buffer + done * element, n, type, op_sum, comm_world) != 0) return -1;
        done += n;
    }
    return 0;
}

int pd_mpi_allreduce_sum_f32(float *buffer, int64_t count) { return allreduce(buffer, count, type_float, sizeof(float)); }
int pd_mpi_allreduce_sum_f64(double *buffer, int64_t count) { return allreduce(buffer, count, type_double, sizeof(double)); }

int pd_mpi_bcast(void *buffer, int64_t bytes, int root) {
    for (int64_t done = 0; done < bytes;) {
        int n = bytes - done > INT_MAX ? INT_MAX : (int)(bytes - done);
        if (mpi_bcast((char *)buffer + done, n, type_byte, root, comm_world) != 0) return -1;
        done += n;
    }
    return 0;
}

int pd_mpi_allgather_count(int64_t mine, int64_t *counts) {
    return mpi_allgather(&mine, 1, type_int64, counts, 1, type_int64, comm_world);
}

int pd_mpi_gather_bytes(const void *send, int64_t bytes, void *received, const int64_t *counts, int root) {
    int rank = 0, size = 0;
    mpi_comm_rank(comm_world, &rank);
    mpi_comm_size(comm_world, &size);
    if (bytes > INT_MAX) return -1;
    int *recvcounts = NULL, *displs = NULL;
    if (rank == root) {
        recvcounts = calloc((size_t)size, sizeof(int));
        displs = calloc((size_t)size, sizeof(int));
        int64_t offset = 0;
        for (int r = 0; r < size; r++) {
            if (counts[r] > INT_MAX || offset > INT_MAX) { free(recvcounts); free(displs); return -1; }
            recvcounts[r] = (int)counts[r];
            displs[r] = (int)offset;
            offset += counts[r];
        }
    }
    int status = mpi_gatherv(send, (int)bytes, type_byte, received, recvcounts, displs, type_byte, root, comm_world);
    free(recvcounts);
    free(displs);
    return status;
}

int pd_mpi_barrier(void) { return mpi_barrier(comm_world); }
double pd_mpi_wtime(void) { return mpi_wtime(); }
