#include <gtest/gtest.h>

#include <set>

#include "core/errors.h"
#include "data/loader.h"
#include "data_testing.h"

namespace alexnet {
namespace {

using testing::TempDir;

std::shared_ptr<const DatasetReader> dataset(const TempDir& dir, int n = 40) {
  testing::write_test_dataset(dir.file("d.h5"), 12, 3, 4, {{"train", n}, {"val", 10}});
  return std::make_shared<DatasetReader>(dir.file("d.h5"));
}

LoaderConfig train_config(int threads) {
  LoaderConfig c;
  c.batch = 8;
  c.crop = 10;
  c.seed = 99;
  c.threads = threads;
  c.prefetch = 3;
  return c;
}

std::vector<float> contents(const Batch& b) {
  return std::vector<float>(b.images, b.images + b.shape.numel());
}

TEST(Loader, BatchesDoNotDependOnTheThreadCount) {
  TempDir dir;
  auto data = dataset(dir);
  Loader one(data, train_config(1)), three(data, train_config(3));
  for (int k = 0; k < 12; ++k) {  // 2.4 epochs of 5 batches
    const Batch* a = one.next();
    const Batch* b = three.next();
    ASSERT_EQ(a->indices, b->indices) << "batch " << k;
    ASSERT_EQ(contents(*a), contents(*b)) << "batch " << k;
    EXPECT_EQ(a->epoch, k / 5);
  }
}

TEST(Loader, EachEpochVisitsEveryImageOnceInANewOrder) {
  TempDir dir;
  Loader loader(dataset(dir), train_config(2));
  std::vector<int64_t> epochs[2];
  for (int k = 0; k < 10; ++k) {
    const Batch* b = loader.next();
    epochs[k / 5].insert(epochs[k / 5].end(), b->indices.begin(), b->indices.end());
    for (int i = 0; i < b->items; ++i) EXPECT_EQ(b->labels[i], b->indices[i] % 4);
  }
  for (auto& e : epochs) EXPECT_EQ(std::set<int64_t>(e.begin(), e.end()).size(), 40u);
  EXPECT_NE(epochs[0], epochs[1]);
}

TEST(Loader, TrainingCropsAreThoseOfTheirDraws) {
  TempDir dir;
  auto data = dataset(dir);
  LoaderConfig c = train_config(2);
  c.lighting_std = 0;
  Loader loader(data, c);
  const Batch* b = loader.next();
  // Pixel (c, y, x) of a crop is image pixel (top + y, left + x') minus the mean of 100.
  for (int i = 0; i < b->items; ++i) {
    const float* img = b->images + i * 3 * 100;
    float corner = img[0];  // channel 0, (0, 0)
    bool found = false;
    for (int top = 0; top <= 2; ++top)
      for (int left = 0; left <= 2; ++left)
        for (int flip = 0; flip < 2; ++flip) {
          int x = flip ? left + 9 : left;
          found |= corner == testing::test_pixel(b->indices[i], top, x, 0, 0) - 100.0f;
        }
    EXPECT_TRUE(found) << "item " << i;
  }
}

TEST(Loader, EvaluationKeepsTheLastPartialBatchAndStops) {
  TempDir dir;
  LoaderConfig c;
  c.split = "val";
  c.batch = 4;
  c.crop = 10;
  c.mode = ViewMode::kCentre;
  c.epochs = 1;
  c.drop_last = false;
  Loader loader(dataset(dir), c);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  std::vector<int> sizes;
  std::vector<int64_t> seen;
  while (const Batch* b = loader.next()) {
    sizes.push_back(b->items);
    seen.insert(seen.end(), b->indices.begin(), b->indices.end());
  }
  EXPECT_EQ(sizes, (std::vector<int>{4, 4, 2}));
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));  // in order
}

TEST(Loader, TenViewsPerImage) {
  TempDir dir;
  LoaderConfig c;
  c.split = "val";
  c.batch = 2;
  c.crop = 10;
  c.mode = ViewMode::kTenView;
  c.epochs = 1;
  Loader loader(dataset(dir), c);
  const Batch* b = loader.next();
  EXPECT_EQ(b->shape, (Shape{20, 3, 10, 10}));
  EXPECT_EQ(b->views, 10);
  // View 5 is view 0 mirrored.
  const float* v0 = b->images;
  const float* v5 = b->images + 5 * 300;
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) EXPECT_EQ(v0[y * 10 + x], v5[y * 10 + 9 - x]);
}

TEST(Loader, SeekResumesTheSameStream) {
  TempDir dir;
  auto data = dataset(dir);
  Loader straight(data, train_config(2));
  std::vector<std::vector<float>> expected;
  for (int k = 0; k < 8; ++k) expected.push_back(contents(*straight.next()));
  Loader resumed(data, train_config(2));
  resumed.seek(1, 8);  // epoch 1 from image 8: batch 6 of the stream
  EXPECT_EQ(contents(*resumed.next()), expected[6]);
  EXPECT_EQ(contents(*resumed.next()), expected[7]);
  EXPECT_GE(resumed.total_wait_seconds(), resumed.last_wait_seconds());
  EXPECT_GE(resumed.last_wait_seconds(), 0.0);
}

TEST(Loader, ReplicasTakeTheirPartsOfTheGlobalBatch) {
  TempDir dir;
  auto data = dataset(dir);
  Loader whole(data, train_config(1));  // batches of 8
  std::vector<std::unique_ptr<Loader>> parts;
  for (int r = 0; r < 2; ++r) {
    LoaderConfig c = train_config(2);
    c.batch = 4;
    c.replicas = 2;
    c.replica = r;
    parts.push_back(std::make_unique<Loader>(data, c));
  }
  EXPECT_EQ(parts[0]->batches_per_epoch(), whole.batches_per_epoch());
  for (int k = 0; k < 7; ++k) {  // across an epoch's end
    std::vector<float> joined;
    std::vector<int64_t> indices;
    for (auto& part : parts) {
      const Batch* b = part->next();
      EXPECT_EQ(b->items, 4);
      std::vector<float> mine = contents(*b);
      joined.insert(joined.end(), mine.begin(), mine.end());
      indices.insert(indices.end(), b->indices.begin(), b->indices.end());
    }
    const Batch* w = whole.next();
    EXPECT_EQ(indices, w->indices) << "batch " << k;
    EXPECT_EQ(joined, contents(*w)) << "batch " << k;
  }
}

TEST(Loader, SeekToAnImagePositionOfAnotherGlobalBatch) {
  TempDir dir;
  auto data = dataset(dir);
  // 40 training images: from image 12 of epoch 0, batches of 8 start at 12, 20, 28 (4 are left
  // over and dropped), then epoch 1 from 0.
  Loader straight(data, train_config(1));
  LoaderConfig c = train_config(1);
  c.batch = 4;
  Loader fours(data, c);
  fours.seek(0, 12);
  Loader resumed(data, train_config(1));
  resumed.seek(0, 12);
  std::vector<int64_t> expected;
  for (int k = 0; k < 4; ++k) {
    const Batch* b = fours.next();
    expected.insert(expected.end(), b->indices.begin(), b->indices.end());
  }
  for (int k = 0; k < 2; ++k) {
    const Batch* b = resumed.next();
    EXPECT_EQ(b->epoch, 0);
    EXPECT_EQ(b->position, 12 + 8 * k);
    EXPECT_EQ(b->indices, std::vector<int64_t>(expected.begin() + 8 * k, expected.begin() + 8 * (k + 1)));
  }
  EXPECT_EQ(resumed.next()->position, 28);
  const Batch* next_epoch = resumed.next();
  EXPECT_EQ(next_epoch->epoch, 1);
  EXPECT_EQ(next_epoch->position, 0);
  for (int k = 0; k < 5; ++k) straight.next();  // epoch 0
  EXPECT_EQ(next_epoch->indices, straight.next()->indices);
}

TEST(Loader, BadRequestsAreClearErrors) {
  TempDir dir;
  auto data = dataset(dir);
  LoaderConfig c = train_config(1);
  c.split = "test";
  EXPECT_THROW(Loader(data, c), UserError);
  c = train_config(1);
  c.crop = 13;
  EXPECT_THROW(Loader(data, c), UserError);
  c = train_config(1);
  c.batch = 41;
  EXPECT_THROW(Loader(data, c), UserError);
}

}  // namespace
}  // namespace alexnet
