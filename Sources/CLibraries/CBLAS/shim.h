// OpenBLAS's cblas.h (Debian multiarch path); it also declares openblas_set_num_threads.
#include <cblas.h>
