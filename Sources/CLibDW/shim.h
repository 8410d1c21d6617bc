#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <dwarf.h>
