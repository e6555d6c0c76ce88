/* Replays inputs through a harness's LLVMFuzzerTestOneInput without libFuzzer, so the normal
 * unit suite (gcc, optionally SW_SANITIZE) re-runs every regression and corpus input. Usage:
 * fuzz_replay_NAME [DIR...]; without arguments, the directories compiled in as SW_FUZZ_DIRS
 * (a colon-separated list). Fails when an input crashes, or when no input was found at all. */
#include <dirent.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds every regular file of dir, in name order; returns how many (0 for a missing dir). */
static size_t replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0, done = 0;
    struct dirent *e;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names)
                abort();
        }
        names[n] = strdup(e->d_name);
        if (!names[n])
            abort();
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
            size_t len = (size_t)st.st_size;
            uint8_t *buf = malloc(len ? len : 1);
            if (!buf || fread(buf, 1, len, f) != len) {
                fprintf(stderr, "cannot read %s\n", path);
                abort();
            }
            fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
            LLVMFuzzerTestOneInput(buf, len);
            free(buf);
            done++;
        }
        if (f)
            fclose(f);
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    size_t total = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            total += replay_dir(argv[i]);
    } else {
#ifdef SW_FUZZ_DIRS
        char *dirs = strdup(SW_FUZZ_DIRS), *save = NULL;
        if (!dirs)
            abort();
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
            total += replay_dir(d);
        free(dirs);
#endif
    }
    printf("replayed %zu inputs\n", total);
    return total > 0 ? 0 : 1;
}
