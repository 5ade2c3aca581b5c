#include "comm/gpu_identity.h"

#include <stdexcept>

namespace alexnet {

std::string encode_rank_gpu(const RankGpu& gpu) {
  return gpu.uuid + '\t' + gpu.host + '\t' + std::to_string(gpu.ordinal);
}

RankGpu decode_rank_gpu(const std::string& line) {
  const size_t a = line.find('\t'), b = a == std::string::npos ? a : line.find('\t', a + 1);
  if (b == std::string::npos) throw std::runtime_error("not a rank's GPU: '" + line + "'");
  RankGpu gpu{line.substr(0, a), line.substr(a + 1, b - a - 1)};
  try {
    gpu.ordinal = std::stoi(line.substr(b + 1));
  } catch (const std::exception&) {
    throw std::runtime_error("not a rank's GPU: '" + line + "'");
  }
  return gpu;
}

std::string shared_gpu(const std::vector<RankGpu>& ranks) {
  for (size_t b = 1; b < ranks.size(); ++b) {
    for (size_t a = 0; a < b; ++a) {
      if (ranks[a].uuid != ranks[b].uuid) continue;
      return "ranks " + std::to_string(a) + " and " + std::to_string(b) + " share GPU " + ranks[b].uuid +
             " (" + ranks[a].host + " cuda:" + std::to_string(ranks[a].ordinal) + " and " + ranks[b].host +
             " cuda:" + std::to_string(ranks[b].ordinal) + ")";
    }
  }
  return "";
}

}  // namespace alexnet
