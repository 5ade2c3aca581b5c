// Kept for the CUDA layer files that include it; the seam they reach is core/cuda_backend.h.
#pragma once

#include "core/cuda_backend.h"
