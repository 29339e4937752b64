// Debian's libmujoco-dev (2.2.2): the MuJoCo C API the locomotion environments drive
// (docs/environments.md §5). The inline helpers cover what Swift cannot reach directly:
// the fixed-size arrays of mjVFS and mjData.warning, and the global warning hook.
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Compiles an MJCF document held in memory (through a one-file virtual file system, so nothing
// is written to disk). NULL on failure, with MuJoCo's message in `error`.
static inline mjModel* cmj_load_xml_string(const char* xml, char* error, int error_size) {
    mjVFS* vfs = (mjVFS*)malloc(sizeof(mjVFS));
    if (!vfs) { snprintf(error, error_size, "out of memory"); return NULL; }
    mj_defaultVFS(vfs);
    int n = (int)strlen(xml);
    mjModel* model = NULL;
    if (mj_makeEmptyFileVFS(vfs, "model.xml", n) == 0) {
        int i = mj_findFileVFS(vfs, "model.xml");
        memcpy(vfs->filedata[i], xml, (size_t)n);
        model = mj_loadXML("model.xml", vfs, error, error_size);
    } else {
        snprintf(error, error_size, "could not create the in-memory model file");
    }
    mj_deleteVFS(vfs);
    free(vfs);
    return model;
}

// MuJoCo's default warning handler prints to stdout and appends to MUJOCO_LOG.TXT in the working
// directory; the environments detect instability themselves (cmj_instability_count), so warnings
// are dropped.
static void cmj_ignore_warning(const char* message) { (void)message; }
static inline void cmj_silence_warnings(void) { mju_user_warning = cmj_ignore_warning; }

// How many times MuJoCo has found a NaN, infinite or huge (> mjMAXVAL) position, velocity or
// acceleration in `d` — after which it resets the data to the model's initial state.
static inline int cmj_instability_count(const mjData* d) {
    return d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number + d->warning[mjWARN_BADQACC].number;
}
