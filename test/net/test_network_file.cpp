// Network files: the presets parse, and each kind of malformed file gives one clear error that
// names the file, the line and the key or layer.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "net/network_file.h"
#include "testing.h"

namespace alexnet {
namespace {

const std::string kHeader = "[net]\nname = \"t\"\ninput = [1, 8, 8]\nclasses = 4\n\n";
const std::string kTail =
    "[[layers]]\nname = \"fc\"\ntype = \"fc\"\nout = \"classes\"\nsplit = false\nreads = \"all\"\n\n"
    "[[layers]]\nname = \"loss\"\ntype = \"softmax_loss\"\n";

// The message of the UserError that parsing `text` throws, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    parse_network(text, "bad.toml");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(NetworkFile, PresetsParse) {
  for (const char* name : {"alexnet", "alexnet-dense", "alexnet-mini"}) {
    NetworkSpec net = load_network_file(testing::experiment_file(name));
    EXPECT_EQ(net.name, name);
    EXPECT_EQ(net.layers.back().kind, LayerKind::kSoftmaxLoss);
  }
  NetworkSpec paper = load_network_file(testing::experiment_file("alexnet"));
  EXPECT_EQ(paper.layers.size(), 23u);
  EXPECT_TRUE(paper.find("conv3")->weights.reads_all);
  EXPECT_FALSE(paper.find("conv2")->weights.reads_all);
  EXPECT_FALSE(paper.find("fc8")->weights.split);
  EXPECT_EQ(paper.find("norm1")->as<LrnConfig>().alpha, 1e-4f);
  EXPECT_EQ(paper.find("conv2")->weights.bias_init, 1.0f);
  EXPECT_EQ(paper.find("conv3")->weights.bias_init, 0.0f);
}

TEST(NetworkFile, LayersMayAppearInAnyOrderAlongTheirInputs) {
  NetworkSpec net =
      parse_network(kHeader +
                        "[[layers]]\nname = \"loss\"\ntype = \"softmax_loss\"\ninput = \"fc\"\n\n"
                        "[[layers]]\nname = \"fc\"\ntype = \"fc\"\nout = 4\nsplit = false\n"
                        "reads = \"all\"\ninput = \"data\"\n",
                    "ok.toml");
  ASSERT_EQ(net.layers.size(), 2u);
  EXPECT_EQ(net.layers[0].name, "fc");
}

TEST(NetworkFile, UnknownLayerType) {
  std::string e = error_of(kHeader + "[[layers]]\nname = \"x\"\ntype = \"convolution\"\nout = 4\n\n" + kTail);
  EXPECT_NE(e.find("bad.toml:8: layer 'x': unknown layer type 'convolution'"), std::string::npos) << e;
}

TEST(NetworkFile, MissingKey) {
  std::string e = error_of(kHeader + "[[layers]]\nname = \"c\"\ntype = \"conv\"\nout = 4\n\n" + kTail);
  EXPECT_NE(e.find("bad.toml:6: layer 'c': missing key 'kernel'"), std::string::npos) << e;
}

TEST(NetworkFile, WrongValueType) {
  std::string e =
      error_of(kHeader + "[[layers]]\nname = \"c\"\ntype = \"conv\"\nout = 4\nkernel = \"3\"\n\n" + kTail);
  EXPECT_NE(e.find("bad.toml:10: layer 'c': key 'kernel' must be an integer, got string"), std::string::npos)
      << e;
}

TEST(NetworkFile, UnknownKeyIsATypo) {
  std::string e =
      error_of(kHeader + "[[layers]]\nname = \"c\"\ntype = \"conv\"\nout = 4\nkernal = 3\n\n" + kTail);
  EXPECT_NE(e.find("bad.toml:10: layer 'c': unknown key 'kernal'"), std::string::npos) << e;
}

TEST(NetworkFile, UnknownInput) {
  std::string e =
      error_of(kHeader + "[[layers]]\nname = \"r\"\ntype = \"relu\"\ninput = \"conv9\"\n\n" + kTail);
  EXPECT_NE(e.find("bad.toml:6: layer 'r': input 'conv9' is not a layer of this network"), std::string::npos)
      << e;
}

TEST(NetworkFile, CyclicInputs) {
  std::string e =
      error_of(kHeader +
               "[[layers]]\nname = \"a\"\ntype = \"relu\"\ninput = \"b\"\n\n"
               "[[layers]]\nname = \"b\"\ntype = \"relu\"\ninput = \"a\"\n\n"
               "[[layers]]\nname = \"fc\"\ntype = \"fc\"\nout = 4\nsplit = false\nreads = \"all\"\n"
               "input = \"data\"\n\n[[layers]]\nname = \"loss\"\ntype = \"softmax_loss\"\n");
  EXPECT_NE(e.find("bad.toml:6: layer 'a' is not reachable from data: its inputs form a cycle"),
            std::string::npos)
      << e;
}

TEST(NetworkFile, TomlSyntaxErrorNamesTheLine) {
  std::string e = error_of(kHeader + "[[layers]]\nname = \"c\n");
  EXPECT_NE(e.find("bad.toml:7:"), std::string::npos) << e;
}

TEST(NetworkFile, MissingFileIsAUserError) {
  EXPECT_THROW(load_network_file("/nonexistent/net.toml"), UserError);
}

}  // namespace
}  // namespace alexnet
