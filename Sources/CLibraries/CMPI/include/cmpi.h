// Data-parallel collectives through Open MPI, loaded at run time (docs/distributed.md). The package
// builds and runs without MPI; pd_mpi_load reports why it is unavailable.
#ifndef PD_CMPI_H
#define PD_CMPI_H
#include <stddef.h>
#include <stdint.h>

/// Loads libmpi (PD_MPI_LIBRARY, else libmpi.so.40) and resolves the calls used here. 0 on success;
/// otherwise a message in `err`.
int pd_mpi_load(char *err, size_t cap);
/// Whether this process was started by mpirun (Open MPI's or PMIx's environment variables).
int pd_mpi_launched(void);
/// MPI_Init, then this process's rank and the world size. 0 on success.
int pd_mpi_init(int *rank, int *size);
int pd_mpi_finalize(void);
/// In-place sum over ranks (split into int-sized pieces).
int pd_mpi_allreduce_sum_f32(float *buffer, int64_t count);
int pd_mpi_allreduce_sum_f64(double *buffer, int64_t count);
/// `bytes` bytes from `root` to every rank.
int pd_mpi_bcast(void *buffer, int64_t bytes, int root);
/// Every rank's byte count to every rank: counts[size].
int pd_mpi_allgather_count(int64_t mine, int64_t *counts);
/// Gathers each rank's bytes to `root`, concatenated in rank order (`received` needs the sum of counts; root only).
int pd_mpi_gather_bytes(const void *send, int64_t bytes, void *received, const int64_t *counts, int root);
int pd_mpi_barrier(void);
double pd_mpi_wtime(void);

#endif
