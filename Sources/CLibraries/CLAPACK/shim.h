// LAPACK from OpenBLAS (Debian: libopenblas-dev ships LAPACK inside libopenblas). OpenBLAS installs no
// lapack.h on every distribution, so the one routine we use is declared here with the gfortran calling
// convention: every argument by pointer, plus the hidden lengths of the character arguments at the end.
#include <stddef.h>

// Eigenvalues (ascending) and optionally eigenvectors of a real symmetric matrix, divide and conquer
// (LAPACK Users' Guide, DSYEVD). A is column-major n×n; on exit it holds the eigenvectors if jobz = 'V'.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
