// BoundedQueue: capacity, close-then-drain, and stop tokens releasing blocked callers.
#include "core/bounded_queue.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace facefleet::core {
namespace {

TEST(BoundedQueueTest, DeliversInOrderAndDrainsAfterClose) {
  BoundedQueue<int> queue(3);
  EXPECT_TRUE(queue.Push(1));
  EXPECT_TRUE(queue.Push(2));
  queue.Close();
  EXPECT_FALSE(queue.Push(3)) << "closed queues refuse pushes";
  EXPECT_EQ(queue.Pop(), 1);
  EXPECT_EQ(queue.Pop(), 2);
  EXPECT_EQ(queue.Pop(), std::nullopt);
}

TEST(BoundedQueueTest, FullQueueBlocksUntilStopped) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1));
  std::stop_source stop;
  std::jthread pusher([&] { EXPECT_FALSE(queue.Push(2, stop.get_token())); });
  stop.request_stop();
  pusher.join();
  EXPECT_EQ(queue.Pop(), 1);
  queue.Close();
  EXPECT_EQ(queue.Pop(), std::nullopt) << "the refused item was not added";
}

TEST(BoundedQueueTest, EmptyQueuePopReturnsOnStopOrClose) {
  BoundedQueue<int> queue(2);
  std::stop_source stop;
  std::jthread popper([&] { EXPECT_EQ(queue.Pop(stop.get_token()), std::nullopt); });
  stop.request_stop();
  popper.join();
  std::jthread closer_waiter([&] { EXPECT_EQ(queue.Pop(), std::nullopt); });
  queue.Close();
}

}  // namespace
}  // namespace facefleet::core
