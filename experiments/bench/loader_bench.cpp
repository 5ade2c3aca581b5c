// Loader throughput: images/s for the paper's training augmentation (random 227 crop of 256, flip,
// PCA lighting, mean subtraction, HWC uint8 -> CHW float) with a given number of worker threads.
//   build/loader_bench FILE.h5 [--threads N] [--images N] [--crop 227]
// Prints one line: "loader: <images/s> images/s with <N> thread(s), <per thread> per thread".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/errors.h"
#include "data/loader.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: loader_bench FILE.h5 [--threads N] [--images N] [--crop N]\n");
    return 2;
  }
  alexnet::LoaderConfig c;
  c.threads = 1;
  c.crop = 227;
  c.batch = 128;
  c.pinned = false;
  int64_t images = 5000;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) c.threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--images")) images = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--crop")) c.crop = std::atoi(argv[i + 1]);
  }
  try {
    auto data = std::make_shared<alexnet::DatasetReader>(argv[1]);
    c.batch = static_cast<int>(std::min<int64_t>(c.batch, data->size("train")));
    alexnet::Loader loader(data, c);
    loader.next();  // warm-up: the first batch includes thread start and page cache fill
    const int64_t batches = std::max<int64_t>(1, images / c.batch);
    auto start = std::chrono::steady_clock::now();
    for (int64_t b = 0; b < batches; ++b) loader.next();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = batches * c.batch / seconds;
    std::printf("loader: %.0f images/s with %d thread(s), %.0f per thread\n", rate, c.threads,
                rate / c.threads);
  } catch (const alexnet::UserError& e) {
    std::fprintf(stderr, "loader_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
