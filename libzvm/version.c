#include "version.h"

const char *zvm_version(void)
{
    return ZVM_VERSION;
}
