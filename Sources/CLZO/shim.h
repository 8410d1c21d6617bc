#include <lzo/lzo1x.h>
