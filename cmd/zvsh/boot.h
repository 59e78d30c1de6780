/* boot.h — finding COMMAND inside tar images and extracting it as the program (boot.1). */
#ifndef ZVSH_BOOT_H
#define ZVSH_BOOT_H

#include <stddef.h>

/* Looks for member `name` (with or without a leading "./" or "/") in the tar at image_path.
 * Returns 1 and writes it to out_path when found, 0 when absent, -1 with err on failure
 * (the image is missing or is not a tar archive). */
int zvsh_extract_member(const char *image_path, const char *name, const char *out_path, char *err, size_t errsize);

/* Reads every member header of the tar at image_path, as zvm will when it mounts it: 0, or -1
 * with err naming the path when it is not a (complete) tar archive, compressed or not. */
int zvsh_check_image(const char *image_path, char *err, size_t errsize);

#endif
