// Includes Intel IPsec-MB's C header with the project's strict warnings
// relaxed for it alone (it uses old-style casts and anonymous unions).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#include <intel-ipsec-mb.h>
#pragma GCC diagnostic pop
