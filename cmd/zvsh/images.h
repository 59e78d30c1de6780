/*
 * images.h — where zvsh finds a read-only image it is given by name.
 *
 * A name with a '/' is a host path, used as it is.  A bare name (python.tar, or python) is first a
 * file in the current directory; failing that, it is looked for in each directory of the image
 * search path, as NAME and then NAME.tar.  The search path is the first of:
 *   $ZVM_IMAGE_PATH, zvsh.cfg's [images] path, DIR/../share/zvm/images (DIR: where zvsh is)
 * each a colon-separated list of directories, so an installed zvsh (make install) finds
 * PREFIX/share/zvm/images/python.tar by "python".
 */
#ifndef ZVSH_IMAGES_H
#define ZVSH_IMAGES_H

#include <stddef.h>

#include "config.h"

/* The host path of image `name` (malloc'd), or NULL with err saying every place it looked. */
char *zvsh_find_image(const char *name, const struct zvsh_config *cfg, char *err, size_t errsize);

#endif
